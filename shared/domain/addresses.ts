import type { Address } from './model.js';

/**
 * The form an address is compared and indexed in: trimmed and lower-cased. The local part is
 * case-sensitive in theory only; every large provider treats it case-insensitively, and a
 * data-subject request must find "Alice@Example.com" and "alice@example.com" alike. Dots and
 * +tags are kept: they are distinct mailboxes at most providers.
 */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

export const EMPTY_ADDRESS: Address = Object.freeze({ address: '', name: '' });
