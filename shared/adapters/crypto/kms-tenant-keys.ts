// Creating a tenant's KMS keys at run time: a symmetric data key (wraps the tenant's data keys,
// rotated yearly) and an HMAC_256 index key (its blind indexes), each tagged with the tenant and its
// role and reached through the aliases KmsKeyService resolves. Only the tenant-lifecycle role may call
// CreateKey, and only with these two tags (infra/constructs/tenant-lifecycle.ts).
//
// Idempotency. KMS's CreateKey has no idempotency token and KMS has no cheap lookup of a key by tag
// (ListKeys plus ListResourceTags per key grows with every tenant of the account), so the alias is
// the record of a finished key: it is looked up first, and a key is created only when it is missing.
// The new key gets its alias at once. Then:
// - a retry after any failure once an alias exists (the index key failed, rotation failed, the
//   tenant record failed) reuses the key behind the alias: no second key;
// - a concurrent run that created the alias first wins; our key is scheduled for deletion;
// - CreateAlias refused (an error answer): our new key is scheduled for deletion before the error
//   is thrown, so the retry's new key is the only live one;
// - the process dies between CreateKey and CreateAlias (or CreateKey's answer is lost and the SDK
//   retries): that key stays behind without an alias. Nothing can use it (every other role reaches
//   tenant keys only through their aliases), it costs a key's monthly fee, and it carries the tenant
//   tag, so `aws resourcegroupstaggingapi get-resources --tag-filters Key=mail2ticket:tenant,Values=<id>`
//   finds it for deletion by hand. Accepted: rare, harmless, and found by its tag.
//
// Authorization lag. The lifecycle role may alias, rotate and delete only keys carrying the tenant tag,
// and KMS says tag changes can take up to five minutes to reach authorization: right after CreateKey,
// CreateAlias or EnableKeyRotation may be denied. An AccessDeniedException there is retried with
// growing delays (about four minutes in all) before the run gives up.
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { DomainError } from '../../domain/errors.js';
import type { TenantKeyProvisioner, TenantKeyState } from '../../domain/ports.js';
import { guardTransient } from './errors.js';
import type { TenantKeyRole } from './kms-key-service.js';
import { assertTenantId, DEFAULT_ALIAS_PREFIX } from './tenant-id.js';

/** Tag keys every tenant key carries; the lifecycle role's IAM conditions name exactly these. */
export const TENANT_TAG = 'mail2ticket:tenant';
export const ROLE_TAG = 'mail2ticket:role';

interface KeyKind {
  role: TenantKeyRole;
  spec: KeySpec;
  usage: KeyUsageType;
  /** KMS rotates symmetric encryption keys only; HMAC keys cannot be rotated automatically. */
  rotate: boolean;
}

const KINDS: readonly KeyKind[] = [
  { role: 'data', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', rotate: true },
  { role: 'index', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', rotate: false },
];

/** The tenant's keys can't be made usable by a retry (pending deletion, disabled, or the wrong kind of key). */
export class TenantKeysUnusable extends DomainError {
  readonly code = 'tenant_keys_unusable';
  readonly retryable = false;
}

export interface KmsTenantKeyProvisionerOptions {
  kms: KMSClient;
  /** Same prefix as KmsKeyService's; default `alias/mail2ticket/tenant/`. */
  aliasPrefix?: string;
  /** Pending window of a key this provisioner abandons (a lost race, a refused alias): 7 to 30 days. */
  abandonWindowDays?: number;
  /** Waits between attempts while a new key's tags are not yet honoured by authorization (AccessDenied). */
  authorizationDelaysMs?: readonly number[];
}

/** About four minutes in all, inside KMS's "up to five minutes" for tags to affect authorization. */
export const AUTHORIZATION_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000];

export class KmsTenantKeyProvisioner implements TenantKeyProvisioner {
  constructor(private readonly options: KmsTenantKeyProvisionerOptions) {}

  async createTenantKeys(tenantId: string): Promise<{ created: number }> {
    assertTenantId(tenantId);
    let created = 0;
    // One after the other: a failure leaves the data key complete (alias and rotation) before the
    // index key is begun, and the retry picks up from there.
    for (const kind of KINDS) if (await this.ensureKey(tenantId, kind)) created++;
    return { created };
  }

  async tenantKeyState(tenantId: string): Promise<TenantKeyState> {
    assertTenantId(tenantId);
    const keys = await Promise.all(KINDS.map((kind) => this.describe(this.aliasOf(tenantId, kind.role))));
    if (keys.some((key) => key && key.KeyState !== 'Enabled')) return 'closed';
    return keys.every((key) => key) ? 'active' : 'missing';
  }

  /** Resolves true when it created the key, false when the alias already named a usable one. */
  private async ensureKey(tenantId: string, kind: KeyKind): Promise<boolean> {
    const alias = this.aliasOf(tenantId, kind.role);
    const existing = await this.describe(alias);
    if (existing) {
      const arn = usable(existing, kind, alias);
      // Rotation is enabled last, so a run that failed there left the alias: enable it now (idempotent).
      if (kind.rotate) await this.enableRotation(arn);
      return false;
    }

    const { KeyMetadata: key } = await guardTransient(() =>
      this.options.kms.send(
        new CreateKeyCommand({
          KeySpec: kind.spec,
          KeyUsage: kind.usage,
          // Ids only: the tenant id is opaque, the tenant's name never reaches KMS.
          Description: `mail2ticket tenant ${kind.role} key (${tenantId})`,
          Tags: [
            { TagKey: TENANT_TAG, TagValue: tenantId },
            { TagKey: ROLE_TAG, TagValue: kind.role },
          ],
        }),
      ),
    );
    if (!key?.Arn) throw new Error('CreateKey returned no key ARN');
    const arn = key.Arn;

    try {
      await this.whileTagsPropagate(() => this.options.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn })));
    } catch (error) {
      if ((error as { name?: string }).name === 'AlreadyExistsException') {
        // Another run created the alias between our lookup and now: its key is the tenant's.
        await this.abandon(arn, error);
        const winner = await this.describe(alias);
        if (!winner) throw new Error(`alias ${alias} exists but names no key`, { cause: error });
        usable(winner, kind, alias);
        return false;
      }
      await this.abandon(arn, error);
      throw error;
    }
    if (kind.rotate) await this.enableRotation(arn);
    return true;
  }

  /** Schedules the deletion of a key we created and will not use; if that fails too, both errors surface. */
  private async abandon(arn: string, cause: unknown): Promise<void> {
    try {
      await guardTransient(() => this.options.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: this.options.abandonWindowDays ?? 7 })));
    } catch (error) {
      throw new AggregateError([cause, error], `a tenant key (${arn}) was created but could neither get its alias nor be scheduled for deletion; delete it by hand`);
    }
  }

  private async enableRotation(arn: string): Promise<void> {
    await this.whileTagsPropagate(() => this.options.kms.send(new EnableKeyRotationCommand({ KeyId: arn })));
  }

  /** A call on a tag-conditioned key, retried while KMS may not yet see the key's tags in authorization. */
  private async whileTagsPropagate<T>(request: () => Promise<T>): Promise<T> {
    const delays = this.options.authorizationDelaysMs ?? AUTHORIZATION_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await guardTransient(request);
      } catch (error) {
        const delay = delays[attempt];
        if ((error as { name?: string }).name !== 'AccessDeniedException' || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async describe(alias: string): Promise<KeyMetadata | undefined> {
    try {
      const { KeyMetadata } = await guardTransient(() => this.options.kms.send(new DescribeKeyCommand({ KeyId: alias })));
      return KeyMetadata;
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFoundException') return undefined;
      throw error;
    }
  }

  private aliasOf(tenantId: string, role: TenantKeyRole): string {
    return `${this.options.aliasPrefix ?? DEFAULT_ALIAS_PREFIX}${tenantId}${role === 'index' ? '-index' : ''}`;
  }
}

/** The key's ARN when the alias names an enabled key of the right kind; otherwise no retry can help. */
function usable(key: KeyMetadata, kind: KeyKind, alias: string): string {
  if (!key.Arn) throw new Error('DescribeKey returned no key ARN');
  if (key.KeyState !== 'Enabled') throw new TenantKeysUnusable(`${alias} names a key in state ${key.KeyState ?? 'unknown'}: a closed tenant's id is not reused`);
  if (key.KeySpec !== kind.spec) throw new TenantKeysUnusable(`${alias} names a ${key.KeySpec ?? 'unknown'} key, not ${kind.spec}`);
  return key.Arn;
}
