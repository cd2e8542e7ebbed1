// Local envelope encryption: one 256-bit key file per tenant (`<keyDir>/<tenantId>.key`) wraps the data
// keys through the Encryption SDK's raw AES keyring. Deleting a tenant's file makes every ciphertext of
// that tenant unreadable, which is how account closure works (and is tested) locally.
import { hkdfSync } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier, type KeyringNode } from '@aws-crypto/client-node';
import type { TenantKeyLifecycle } from '../../domain/ports.js';
import { EnvelopeKeyService, type DataKeyCacheBounds, type KeyUse } from './envelope-key-service.js';
import { tenantKeyFile } from './key-file.js';
import { assertTenantId } from './tenant-id.js';

export interface LocalKeyServiceOptions {
  /** Directory of the tenant key files, e.g. `<dataDir>/keys`. */
  keyDir: string;
  cacheBounds?: Partial<DataKeyCacheBounds>;
}

/** Recorded in each wrapped data key; changing either makes existing local data unreadable. */
const KEY_NAMESPACE = 'mail2ticket-local';

export class LocalKeyService extends EnvelopeKeyService implements TenantKeyLifecycle {
  private readonly keyDir: string;

  constructor(options: LocalKeyServiceOptions) {
    super(options.cacheBounds);
    this.keyDir = options.keyDir;
  }

  /** Account closure, locally: the key file is gone, and with it every copy of the tenant's data. */
  async destroyTenantKey(tenantId: string): Promise<void> {
    await rm(this.keyPath(tenantId), { force: true });
    this.forgetTenant(tenantId);
  }

  async destroyTenantKeys(tenantId: string): Promise<{ destroyedBy: string }> {
    await this.destroyTenantKey(tenantId);
    return { destroyedBy: new Date().toISOString() };
  }

  protected async keyringFor(tenantId: string, use: KeyUse): Promise<KeyringNode> {
    return new RawAesKeyringNode({
      keyName: tenantId,
      keyNamespace: KEY_NAMESPACE,
      // Decryption never creates a key: a destroyed tenant stays destroyed when its data is read.
      unencryptedMasterKey: await tenantKeyFile(this.keyPath(tenantId), use === 'encrypt'),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });
  }

  /**
   * Derived from the tenant key with HKDF under its own label: one file to keep and to destroy, while
   * HMACs and ciphertexts never share key material.
   */
  protected async loadIndexKey(tenantId: string): Promise<Uint8Array> {
    const tenantKey = await tenantKeyFile(this.keyPath(tenantId), true);
    return new Uint8Array(hkdfSync('sha256', tenantKey, 'mail2ticket', 'mail2ticket/blind-index', 32));
  }

  private keyPath(tenantId: string): string {
    return join(this.keyDir, `${assertTenantId(tenantId)}.key`);
  }
}
