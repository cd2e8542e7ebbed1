// Secrets of the consent site: random one-time values (invite sessions, OAuth states, PKCE verifiers)
// kept server-side only as SHA-256 digests, and HMAC signatures (invite links, CSRF tokens) under the
// stack's signing key. Comparisons are constant-time.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, URL-safe. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** HMAC-SHA256 over the purpose and the parts, each on its own line (no part may hold a newline). */
export function sign(key: Uint8Array, purpose: string, ...parts: string[]): string {
  const mac = createHmac('sha256', key).update(purpose);
  for (const part of parts) mac.update(`\n${part}`);
  return mac.digest('base64url');
}

export function signatureMatches(key: Uint8Array, signature: string, purpose: string, ...parts: string[]): boolean {
  const expected = Buffer.from(sign(key, purpose, ...parts));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** RFC 7636: a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = newSecret();
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
