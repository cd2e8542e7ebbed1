// The blind index alone, for functions that never encrypt or decrypt (the webhooks): the same key
// (the tenant's HMAC_256 KMS key, its MAC of a fixed label, once per process) and the same HMAC as
// KmsKeyService, without the AWS Encryption SDK — most of a webhook's bundle and cold start.
import type { KMSClient } from '@aws-sdk/client-kms';
import type { KeyService } from '../../domain/ports.js';
import { blindIndexOf } from './blind-index.js';
import { macIndexKey } from './kms-index-keys.js';
import { assertTenantId, DEFAULT_ALIAS_PREFIX } from './tenant-id.js';

export class KmsBlindIndex implements Pick<KeyService, 'blindIndex'> {
  private readonly keys = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly options: { kms: KMSClient; aliasPrefix?: string }) {}

  async blindIndex(tenantId: string, kind: string, value: string): Promise<string> {
    return blindIndexOf(await this.indexKey(tenantId), kind, value);
  }

  /**
   * Starts deriving the tenant's index key without waiting for it. A webhook calls this while it
   * initialises, so the KMS round trip overlaps its start and the token check of its first request;
   * a failure is not cached (blindIndex asks KMS again) and surfaces only where an index is needed.
   */
  prefetch(tenantId: string): void {
    this.indexKey(tenantId).catch(() => undefined);
  }

  private indexKey(tenantId: string): Promise<Uint8Array> {
    let key = this.keys.get(tenantId);
    if (!key) {
      key = macIndexKey(this.options.kms, `${this.options.aliasPrefix ?? DEFAULT_ALIAS_PREFIX}${assertTenantId(tenantId)}-index`);
      this.keys.set(tenantId, key);
      key.catch(() => this.keys.delete(tenantId));
    }
    return key;
  }
}
