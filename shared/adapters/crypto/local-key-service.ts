// Local envelope encryption: one 256-bit key file per tenant in the data dir wraps the data keys
// (the AWS Encryption SDK's raw AES keyring). Deleting a tenant's file makes every ciphertext of
// that tenant unreadable, which is how account closure works (and is tested) locally.
import { hkdfSync, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier, type KeyringNode } from '@aws-crypto/client-node';
import type { TenantKeyLifecycle } from '../../domain/ports.js';
import { DEFAULT_CACHE_BOUNDS, EnvelopeKeyService, type DataKeyCacheBounds } from './envelope-key-service.js';

const SAFE_TENANT = /^[A-Za-z0-9_-]{1,64}$/;

export class LocalKeyService extends EnvelopeKeyService implements TenantKeyLifecycle {
  private readonly keyDir: string;

  constructor(options: { keyDir: string; cacheBounds?: DataKeyCacheBounds }) {
    super(options.cacheBounds ?? DEFAULT_CACHE_BOUNDS);
    this.keyDir = options.keyDir;
  }

  /** Account closure, locally: the key is gone, and with it every copy of the tenant's data. */
  async destroyTenantKey(tenantId: string): Promise<void> {
    await rm(this.keyPath(tenantId), { force: true });
    this.forgetTenant(tenantId);
  }

  async destroyTenantKeys(tenantId: string): Promise<{ destroyedBy: string }> {
    await this.destroyTenantKey(tenantId);
    return { destroyedBy: new Date().toISOString() };
  }

  protected async keyringFor(tenantId: string): Promise<KeyringNode> {
    return new RawAesKeyringNode({
      keyName: tenantId,
      keyNamespace: 'mail2ticket-local',
      unencryptedMasterKey: await this.tenantKey(tenantId),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });
  }

  protected async loadIndexKey(tenantId: string): Promise<Buffer> {
    // A separate key derived from the tenant key: HMACs and ciphertexts never share key material.
    return Buffer.from(hkdfSync('sha256', await this.tenantKey(tenantId), 'mail2ticket', 'mail2ticket/blind-index', 32));
  }

  private keyPath(tenantId: string): string {
    if (!SAFE_TENANT.test(tenantId)) throw new Error('invalid tenant id');
    return join(this.keyDir, `${tenantId}.key`);
  }

  private async tenantKey(tenantId: string): Promise<Buffer> {
    const path = this.keyPath(tenantId);
    try {
      return await readKey(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Created beside the target and hard-linked into place: link fails if another process won the
    // race, and then both use the winner's key.
    await mkdir(this.keyDir, { recursive: true, mode: 0o700 });
    const candidate = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(candidate, randomBytes(32), { mode: 0o600, flag: 'wx' });
    try {
      await link(candidate, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(candidate, { force: true });
    }
    return readKey(path);
  }
}

async function readKey(path: string): Promise<Buffer> {
  const key = await readFile(path);
  if (key.length !== 32) throw new Error(`tenant key file ${path} is damaged (expected 32 bytes)`);
  return key;
}
