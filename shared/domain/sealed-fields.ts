// Personal fields stored in table items travel as one envelope-encrypted JSON document per item.
import type { EncryptionContext, KeyService } from './ports.js';

export async function seal(keys: KeyService, context: EncryptionContext, value: unknown): Promise<Uint8Array> {
  return keys.encrypt(new TextEncoder().encode(JSON.stringify(value)), context);
}

export async function unseal<T>(keys: KeyService, context: EncryptionContext, sealed: Uint8Array): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await keys.decrypt(sealed, context))) as T;
}

export function fieldsContext(tenantId: string, mailboxId: string): EncryptionContext {
  return { tenantId, mailboxId, purpose: 'fields' };
}
