// Envelope encryption with the AWS Encryption SDK: each message (object, field document) is sealed
// with AES-256-GCM under a data key derived per message (HKDF, key commitment), the data key wrapped
// by the tenant's key. A caching materials manager reuses data keys within bounds, so the wrapping
// service (KMS in AWS) is not called per object. The suite has no signature, so decryption streams
// release plaintext frame by frame instead of holding it until a final signature check.
import { createHmac } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
  type KeyringNode,
  type MessageHeader,
} from '@aws-crypto/client-node';
import type { EncryptionContext, KeyService } from '../../domain/ports.js';
import { lazyDuplex } from './lazy-duplex.js';

const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
const FRAME_LENGTH = 64 * 1024;
/**
 * Streams have no length up front. The SDK's cache only serves requests that state one, and the
 * stated length is an upper bound it enforces: the format's maximum message size.
 */
const STREAM_BOUND = 2 ** 36 - 32;

export interface DataKeyCacheBounds {
  maxAgeMs: number;
  maxMessagesEncrypted: number;
}

export const DEFAULT_CACHE_BOUNDS: DataKeyCacheBounds = { maxAgeMs: 5 * 60_000, maxMessagesEncrypted: 10_000 };

const client = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

export abstract class EnvelopeKeyService implements KeyService {
  private readonly managers = new Map<string, Promise<NodeCachingMaterialsManager>>();
  private readonly indexKeys = new Map<string, Promise<Buffer>>();

  constructor(private readonly bounds: DataKeyCacheBounds = DEFAULT_CACHE_BOUNDS) {}

  /** The keyring that wraps data keys for a tenant. */
  protected abstract keyringFor(tenantId: string): Promise<KeyringNode>;
  /** The tenant's 32-byte secret for blind indexes. */
  protected abstract loadIndexKey(tenantId: string): Promise<Buffer>;

  async encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const { result } = await client.encrypt(await this.manager(context.tenantId), plaintext, {
      encryptionContext: toSdkContext(context),
      suiteId: SUITE,
      frameLength: FRAME_LENGTH,
    });
    return result;
  }

  async decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const { plaintext, messageHeader } = await client.decrypt(await this.manager(context.tenantId), ciphertext);
    assertContext(messageHeader, context);
    return plaintext;
  }

  encryptStream(context: EncryptionContext): Duplex {
    return this.deferred(context.tenantId, (cmm) =>
      client.encryptStream(cmm, { encryptionContext: toSdkContext(context), suiteId: SUITE, frameLength: FRAME_LENGTH, plaintextLength: STREAM_BOUND }),
    );
  }

  decryptStream(context: EncryptionContext): Duplex {
    return this.deferred(context.tenantId, (cmm) => {
      const stream = client.decryptUnsignedMessageStream(cmm);
      // The header is authenticated and parsed before any plaintext is released.
      stream.once('MessageHeader', (header: MessageHeader) => {
        try {
          assertContext(header, context);
        } catch (error) {
          stream.destroy(error as Error);
        }
      });
      return stream;
    });
  }

  async blindIndex(tenantId: string, kind: string, value: string): Promise<string> {
    let key = this.indexKeys.get(tenantId);
    if (!key) {
      key = this.loadIndexKey(tenantId);
      this.indexKeys.set(tenantId, key);
      key.catch(() => this.indexKeys.delete(tenantId));
    }
    // kind and value are separated by a byte that can't occur in either's UTF-8 (0xff).
    return createHmac('sha256', await key)
      .update(kind)
      .update(Buffer.from([0xff]))
      .update(value)
      .digest('hex');
  }

  /** Forgets everything cached for a tenant (its key was destroyed or rotated). */
  protected forgetTenant(tenantId: string): void {
    this.managers.delete(tenantId);
    this.indexKeys.delete(tenantId);
  }

  private manager(tenantId: string): Promise<NodeCachingMaterialsManager> {
    let manager = this.managers.get(tenantId);
    if (!manager) {
      manager = this.keyringFor(tenantId).then(
        (keyring) =>
          new NodeCachingMaterialsManager({
            backingMaterials: keyring,
            // One cache per tenant, dropped with the tenant: a destroyed key leaves no data key behind.
            cache: getLocalCryptographicMaterialsCache(100),
            partition: `tenant:${tenantId}`,
            maxAge: this.bounds.maxAgeMs,
            maxMessagesEncrypted: this.bounds.maxMessagesEncrypted,
            maxBytesEncrypted: Number.MAX_SAFE_INTEGER,
          }),
      );
      this.managers.set(tenantId, manager);
      manager.catch(() => this.managers.delete(tenantId));
    }
    return manager;
  }

  /**
   * A stream must exist synchronously, the keyring comes asynchronously: a pass-through front that
   * hands over to the SDK's stream once the materials manager is ready.
   */
  private deferred(tenantId: string, make: (cmm: NodeCachingMaterialsManager) => Duplex): Duplex {
    return lazyDuplex(this.manager(tenantId).then(make));
  }
}

function toSdkContext(context: EncryptionContext): Record<string, string> {
  return { tenant: context.tenantId, mailbox: context.mailboxId, purpose: context.purpose };
}

function assertContext(header: MessageHeader, expected: EncryptionContext): void {
  const actual = header.encryptionContext;
  const wanted = toSdkContext(expected);
  const keys = Object.keys(actual);
  const matches = keys.length === 3 && keys.every((k) => actual[k] === wanted[k]);
  if (!matches) throw new Error('ciphertext belongs to another tenant, mailbox or purpose');
}
