// Provider credentials are sealed with the tenant key (purpose `token`), bound to their mailbox:
// a ciphertext copied to another mailbox or tenant does not open.
import type { ProviderCredentials } from '../model.js';
import type { KeyService, MailboxOwner } from '../ports.js';
import { ReauthorizationRequired } from '../provider-errors.js';

export async function sealCredentials(keys: KeyService, owner: MailboxOwner, credentials: ProviderCredentials): Promise<Uint8Array> {
  return keys.encrypt(Buffer.from(JSON.stringify(credentials)), { ...owner, purpose: 'token' });
}

export async function openCredentials(keys: KeyService, owner: MailboxOwner, sealed: Uint8Array | undefined): Promise<ProviderCredentials> {
  if (!sealed) throw new ReauthorizationRequired('the mailbox has no stored credentials');
  const plain = await keys.decrypt(sealed, { ...owner, purpose: 'token' });
  return JSON.parse(Buffer.from(plain).toString('utf8')) as ProviderCredentials;
}

/** The tenant-less key under which provider addresses are indexed for push lookups. */
export const SERVICE_INDEX_TENANT = '_service';

export function normalizeProviderAddress(address: string): string {
  return address.trim().toLowerCase();
}
