import { UsageError } from './output.js';

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Tenant and mailbox ids end up in keys: letters, digits, '-' and '_' only. */
export function safeId(kind: string, value: string | undefined, fallback?: string): string {
  const id = value ?? fallback;
  if (id === undefined) throw new UsageError(`--${kind} is required`);
  if (!SAFE_ID.test(id)) throw new UsageError(`--${kind} must be 1-64 letters, digits, '-' or '_'`);
  return id;
}
