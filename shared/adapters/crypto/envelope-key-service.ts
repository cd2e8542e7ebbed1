// Envelope encryption with the AWS Encryption SDK, the part shared by the local and the KMS key
// services: each message (object, field document) is sealed with AES-256-GCM under a key derived per
// message (HKDF, key commitment) from a data key, the data key wrapped by the tenant's key. Subclasses
// only say where a tenant's keyring and blind-index key come from.
import type { Duplex } from 'node:stream';
import { buildClient, CommitmentPolicy, type KeyringNode, type NodeMaterialsManager } from '@aws-crypto/client-node';
import type { EncryptionContext, KeyService } from '../../domain/ports.js';
import { toSdkContext } from './encryption-context.js';
import { translateKeyError } from './errors.js';
import { blindIndexOf } from './blind-index.js';
import { cachingManager, ContextBoundMaterials, DEFAULT_CACHE_BOUNDS, FRAME_LENGTH, SUITE, type DataKeyCacheBounds } from './materials.js';
import { fromSdkStream } from './sdk-stream.js';

export { DEFAULT_CACHE_BOUNDS, type DataKeyCacheBounds } from './materials.js';

/**
 * Every message we write has exactly one wrapped data key; refusing more keeps a crafted ciphertext
 * from making us try (and, with KMS, pay for) thousands of unwrap calls.
 */
const client = buildClient({ commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, maxEncryptedDataKeys: 1 });

/** Why a keyring is wanted: only encryption (and indexing) may create a tenant key that is missing. */
export type KeyUse = 'encrypt' | 'decrypt';

export abstract class EnvelopeKeyService implements KeyService {
  private readonly managers = new Map<string, Promise<NodeMaterialsManager>>();
  private readonly indexKeys = new Map<string, Promise<Uint8Array>>();
  protected readonly bounds: DataKeyCacheBounds;

  constructor(bounds: Partial<DataKeyCacheBounds> = {}) {
    this.bounds = { ...DEFAULT_CACHE_BOUNDS, ...bounds };
  }

  /** The keyring that wraps and unwraps a tenant's data keys. */
  protected abstract keyringFor(tenantId: string, use: KeyUse): Promise<KeyringNode>;
  /** The tenant's 32-byte blind-index key, loaded once per process (see each subclass for why). */
  protected abstract loadIndexKey(tenantId: string): Promise<Uint8Array>;

  async encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    try {
      const { result } = await client.encrypt(this.materials(context, 'encrypt'), plaintext, {
        encryptionContext: toSdkContext(context),
        suiteId: SUITE,
        frameLength: FRAME_LENGTH,
      });
      return result;
    } catch (error) {
      throw translateKeyError(error, 'encrypt');
    }
  }

  async decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    try {
      // The bound materials manager checks suite and context before any key is unwrapped.
      const { plaintext } = await client.decrypt(this.materials(context, 'decrypt'), ciphertext);
      return plaintext;
    } catch (error) {
      throw translateKeyError(error, 'decrypt');
    }
  }

  encryptStream(context: EncryptionContext): Duplex {
    const stream = client.encryptStream(this.materials(context, 'encrypt'), {
      encryptionContext: toSdkContext(context),
      suiteId: SUITE,
      frameLength: FRAME_LENGTH,
      // A stream's length is unknown up front, but the cache only serves requests that state one:
      // the stated bound is what the cache accounts and what the SDK enforces.
      plaintextLength: this.bounds.maxStreamBytes,
    });
    return fromSdkStream(stream, (error) => translateKeyError(error, 'encrypt'));
  }

  decryptStream(context: EncryptionContext): Duplex {
    // Unsigned messages only: plaintext leaves frame by frame, each frame authenticated before it goes.
    const stream = client.decryptUnsignedMessageStream(this.materials(context, 'decrypt'));
    return fromSdkStream(stream, (error) => translateKeyError(error, 'decrypt'));
  }

  async blindIndex(tenantId: string, kind: string, value: string): Promise<string> {
    let key = this.indexKeys.get(tenantId);
    if (!key) {
      key = this.loadIndexKey(tenantId);
      this.indexKeys.set(tenantId, key);
      key.catch(() => this.indexKeys.delete(tenantId));
    }
    return blindIndexOf(await key, kind, value);
  }

  /** Forgets everything cached for a tenant (its key was destroyed): cached data keys go with it. */
  protected forgetTenant(tenantId: string): void {
    this.managers.delete(tenantId);
    this.indexKeys.delete(tenantId);
  }

  private materials(context: EncryptionContext, use: KeyUse): ContextBoundMaterials {
    return new ContextBoundMaterials(() => this.manager(context.tenantId, use), context);
  }

  private manager(tenantId: string, use: KeyUse): Promise<NodeMaterialsManager> {
    let manager = this.managers.get(tenantId);
    if (!manager) {
      manager = this.keyringFor(tenantId, use).then((keyring) => cachingManager(keyring, tenantId, this.bounds));
      this.managers.set(tenantId, manager);
      // A failed lookup (KMS down, no key yet for a decryption) is not remembered. The first use of a
      // tenant decides whether a missing key may be created; only a destroyed tenant's key is
      // missing once data exists, so a decryption never races the encryption that creates a key.
      manager.catch(() => this.managers.delete(tenantId));
    }
    return manager;
  }
}
