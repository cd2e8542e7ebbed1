// Where a tenant's blind-index key comes from in AWS. Two ways, chosen by configuration:
//
// - `macIndexKey` (the default): the tenant has a second KMS key, of type HMAC_256, and the index key
//   is its MAC of a fixed label. Nothing is stored, and scheduling that key's deletion makes the
//   indexes meaningless; the price is a second KMS key per tenant (a monthly fee each).
// - `wrappedIndexKey` (with an `IndexKeyStore`): a random 32-byte key per tenant, wrapped by the
//   tenant's one KMS key and kept in a store; the tenant key's deletion makes it unreadable too. One
//   KMS key per tenant, at the price of one stored item and a create race settled by the store.
//
// Either way KMS is called once per tenant per process, never per index: the key stays in memory.
import { DecryptCommand, GenerateDataKeyCommand, GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import { guardTransient } from './errors.js';

/** Persists each tenant's wrapped index key (a table item in AWS). */
export interface IndexKeyStore {
  get(tenantId: string): Promise<Uint8Array | undefined>;
  /** Stores `wrapped` unless the tenant has one already; resolves with the one that is stored. */
  putIfAbsent(tenantId: string, wrapped: Uint8Array): Promise<Uint8Array>;
}

const INDEX_KEY_BYTES = 32;
const MAC_LABEL = 'mail2ticket/blind-index/v1';

export async function macIndexKey(kms: KMSClient, hmacKeyId: string): Promise<Uint8Array> {
  // A MAC of a fixed label is deterministic: the same key in every process, nothing to store.
  const { Mac } = await guardTransient(() =>
    kms.send(new GenerateMacCommand({ KeyId: hmacKeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(MAC_LABEL) })),
  );
  if (!Mac || Mac.length !== INDEX_KEY_BYTES) throw new Error('the tenant index key returned no 32-byte MAC');
  return Mac;
}

export async function wrappedIndexKey(kms: KMSClient, store: IndexKeyStore, tenantId: string, keyArn: string): Promise<Uint8Array> {
  // Bound to the tenant and to this use, so the blob opens nowhere else (not as a data key either).
  const EncryptionContext = { tenant: tenantId, purpose: 'blind-index' };
  const unwrap = async (wrapped: Uint8Array) => {
    const { Plaintext } = await guardTransient(() => kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob: wrapped, EncryptionContext })));
    if (!Plaintext || Plaintext.length !== INDEX_KEY_BYTES) throw new Error('the wrapped index key did not unwrap to 32 bytes');
    return Plaintext;
  };
  const stored = await store.get(tenantId);
  if (stored) return unwrap(stored);

  const { Plaintext, CiphertextBlob } = await guardTransient(() =>
    kms.send(new GenerateDataKeyCommand({ KeyId: keyArn, NumberOfBytes: INDEX_KEY_BYTES, EncryptionContext })),
  );
  if (!Plaintext || !CiphertextBlob) throw new Error('KMS returned no index key');
  const winner = await store.putIfAbsent(tenantId, CiphertextBlob);
  // Another process may have stored its key first: everyone must use the stored one.
  return Buffer.from(winner).equals(Buffer.from(CiphertextBlob)) ? Plaintext : unwrap(winner);
}
