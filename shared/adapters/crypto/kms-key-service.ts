// Envelope encryption in AWS: each tenant has a KMS key (symmetric, wraps the data keys) and a KMS
// HMAC key (derives the blind-index key). Both are reached through aliases created by the tenant
// lifecycle; scheduling their deletion makes every copy of the tenant's data unreadable and its
// indexes meaningless, backups included.
import { Buffer } from 'node:buffer';
import { DescribeKeyCommand, GenerateMacCommand, KMS, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import type { TenantKeyLifecycle } from '../../domain/ports.js';
import { KmsKeyringNode, type KeyringNode } from '@aws-crypto/client-node';
import { DEFAULT_CACHE_BOUNDS, EnvelopeKeyService, type DataKeyCacheBounds } from './envelope-key-service.js';

export interface KmsKeyServiceOptions {
  /** The aggregated client: the Encryption SDK calls its methods (generateDataKey, decrypt). */
  kms: KMS;
  /** e.g. `alias/mail2ticket/tenant/` → `alias/mail2ticket/tenant/<tenantId>` and `…/<tenantId>-index`. */
  aliasPrefix: string;
  cacheBounds?: DataKeyCacheBounds;
  /** KMS pending window for closed tenants' keys: 7 to 30 days. */
  deletionWindowDays?: number;
}

export class KmsKeyService extends EnvelopeKeyService implements TenantKeyLifecycle {
  constructor(private readonly options: KmsKeyServiceOptions) {
    super(options.cacheBounds ?? DEFAULT_CACHE_BOUNDS);
  }

  protected async keyringFor(tenantId: string): Promise<KeyringNode> {
    // The SDK matches a ciphertext's wrapped key by key ARN, never by alias: resolve it once.
    const { KeyMetadata } = await this.options.kms.send(new DescribeKeyCommand({ KeyId: `${this.options.aliasPrefix}${tenantId}` }));
    const keyArn = KeyMetadata?.Arn;
    if (!keyArn) throw new Error('tenant key has no ARN');
    return new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: () => this.options.kms });
  }

  /**
   * Account closure: both tenant keys are scheduled for deletion with a pending window inside the
   * 30-day promise (7 days by default, time enough to undo a mistaken closure).
   */
  async destroyTenantKeys(tenantId: string): Promise<{ destroyedBy: string }> {
    const days = this.options.deletionWindowDays ?? 7;
    let destroyedBy = '';
    for (const alias of [`${this.options.aliasPrefix}${tenantId}`, `${this.options.aliasPrefix}${tenantId}-index`]) {
      const out = await this.options.kms.send(new ScheduleKeyDeletionCommand({ KeyId: alias, PendingWindowInDays: days }));
      destroyedBy = out.DeletionDate?.toISOString() ?? destroyedBy;
    }
    this.forgetTenant(tenantId);
    return { destroyedBy };
  }

  protected async loadIndexKey(tenantId: string): Promise<Buffer> {
    // A MAC of a fixed label is deterministic: one KMS call per cold start, nothing stored.
    const { Mac } = await this.options.kms.send(
      new GenerateMacCommand({
        KeyId: `${this.options.aliasPrefix}${tenantId}-index`,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: Buffer.from('mail2ticket/blind-index/v1'),
      }),
    );
    if (!Mac || Mac.length !== 32) throw new Error('tenant index key returned no 32-byte MAC');
    return Buffer.from(Mac);
  }
}
