// Envelope encryption in AWS: each tenant's data keys are generated and wrapped by the tenant's own
// KMS key (the SDK's KMS keyring), cached within bounds so KMS sees one GenerateDataKey per
// (mailbox, purpose) per bound and one Decrypt per data key, not one call per object. Scheduling the
// deletion of a tenant's keys makes every copy of its data unreadable, backups included.
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ScheduleKeyDeletionCommand,
  type DecryptCommandInput,
  type EncryptCommandInput,
  type GenerateDataKeyCommandInput,
  type KMS,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { KmsKeyringNode, type KeyringNode } from '@aws-crypto/client-node';
import type { TenantKeyLifecycle } from '../../domain/ports.js';
import { EnvelopeKeyService, type DataKeyCacheBounds } from './envelope-key-service.js';
import { guardTransient } from './errors.js';
import { macIndexKey, wrappedIndexKey, type IndexKeyStore } from './kms-index-keys.js';
import { assertTenantId, DEFAULT_ALIAS_PREFIX } from './tenant-id.js';

export type { IndexKeyStore } from './kms-index-keys.js';

/** Which of a tenant's keys: `data` wraps data keys; `index` is the HMAC key of the default index source. */
export type TenantKeyRole = 'data' | 'index';

export interface KmsKeyServiceOptions {
  /** Any KMS client (`KMSClient` or the aggregated `KMS`); point its endpoint at a fake in tests. */
  kms: KMSClient;
  /**
   * Names a tenant's keys by alias: `<prefix><tenantId>` and `<prefix><tenantId>-index`.
   * Default `alias/mail2ticket/tenant/`. Ignored when `resolveKeyId` is given.
   */
  aliasPrefix?: string;
  /** Resolves a tenant's key id (a key ARN, or an alias or key id that DescribeKey resolves). */
  resolveKeyId?: (tenantId: string, role: TenantKeyRole) => Promise<string>;
  /**
   * Keeps a random wrapped index key per tenant in this store instead of asking a second (HMAC) KMS
   * key per tenant; see kms-index-keys.ts for the trade.
   */
  indexKeyStore?: IndexKeyStore;
  cacheBounds?: Partial<DataKeyCacheBounds>;
  /** KMS pending window for a closed tenant's keys: 7 to 30 days. */
  deletionWindowDays?: number;
}

export { DEFAULT_ALIAS_PREFIX };

export class KmsKeyService extends EnvelopeKeyService implements TenantKeyLifecycle {
  private readonly kms: KMSClient;
  private readonly keyringClient: KMS;
  private readonly arns = new Map<string, Promise<string>>();

  constructor(private readonly options: KmsKeyServiceOptions) {
    super(options.cacheBounds);
    this.kms = options.kms;
    this.keyringClient = keyringClient(options.kms);
  }

  /**
   * Account closure: the tenant's keys are scheduled for deletion (KMS refuses them at once while the
   * deletion is pending) with a window inside the 30-day promise, 7 days by default so that a
   * mistaken closure can be undone. ScheduleKeyDeletion takes a key id or ARN, never an alias.
   */
  async destroyTenantKeys(tenantId: string): Promise<{ destroyedBy: string }> {
    const roles: TenantKeyRole[] = this.options.indexKeyStore ? ['data'] : ['data', 'index'];
    let destroyedBy = '';
    for (const role of roles) {
      const keyId = await this.keyId(tenantId, role);
      const { KeyMetadata: key } = await guardTransient(() => this.kms.send(new DescribeKeyCommand({ KeyId: keyId })));
      if (!key?.Arn) throw new Error('DescribeKey returned no key ARN');
      // Idempotent: a retry after a partial closure finds the first key already pending deletion
      // (and KMS would refuse to schedule it twice).
      const when =
        key.KeyState === 'PendingDeletion'
          ? key.DeletionDate
          : (await guardTransient(() => this.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: this.options.deletionWindowDays ?? 7 })))).DeletionDate;
      const iso = when?.toISOString() ?? '';
      if (iso > destroyedBy) destroyedBy = iso;
    }
    this.forgetTenant(tenantId);
    for (const role of roles) this.arns.delete(`${role}:${tenantId}`);
    return { destroyedBy };
  }

  protected async keyringFor(tenantId: string): Promise<KeyringNode> {
    // The keyring matches a ciphertext's wrapped key by key ARN, never by alias: resolve it once.
    const keyArn = await this.keyArn(tenantId, 'data');
    return new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: () => this.keyringClient });
  }

  protected async loadIndexKey(tenantId: string): Promise<Uint8Array> {
    const store = this.options.indexKeyStore;
    if (store) return wrappedIndexKey(this.kms, store, tenantId, await this.keyArn(tenantId, 'data'));
    return macIndexKey(this.kms, await this.keyId(tenantId, 'index'));
  }

  private async keyId(tenantId: string, role: TenantKeyRole): Promise<string> {
    assertTenantId(tenantId);
    if (this.options.resolveKeyId) return this.options.resolveKeyId(tenantId, role);
    return `${this.options.aliasPrefix ?? DEFAULT_ALIAS_PREFIX}${tenantId}${role === 'index' ? '-index' : ''}`;
  }

  private keyArn(tenantId: string, role: TenantKeyRole): Promise<string> {
    const cacheKey = `${role}:${tenantId}`;
    let arn = this.arns.get(cacheKey);
    if (!arn) {
      arn = this.keyId(tenantId, role).then((id) => this.describeArn(id));
      this.arns.set(cacheKey, arn);
      arn.catch(() => this.arns.delete(cacheKey));
    }
    return arn;
  }

  private async describeArn(keyId: string): Promise<string> {
    if (/^arn:aws[a-z-]*:kms:[^:]+:\d{12}:key\//.test(keyId)) return keyId;
    const { KeyMetadata } = await guardTransient(() => this.kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    if (!KeyMetadata?.Arn) throw new Error('DescribeKey returned no key ARN');
    return KeyMetadata.Arn;
  }
}

/**
 * The three calls the SDK's KMS keyring makes (it calls them as methods, as on the aggregated `KMS`),
 * over `send`, with transient failures made recognisable through the keyring's folded errors.
 */
function keyringClient(kms: KMSClient): KMS {
  const methods = {
    generateDataKey: (input: GenerateDataKeyCommandInput) => guardTransient(() => kms.send(new GenerateDataKeyCommand(input))),
    encrypt: (input: EncryptCommandInput) => guardTransient(() => kms.send(new EncryptCommand(input))),
    decrypt: (input: DecryptCommandInput) => guardTransient(() => kms.send(new DecryptCommand(input))),
  };
  // The keyring's type wants the whole aggregated client; it only ever calls these three methods.
  return methods as unknown as KMS;
}
