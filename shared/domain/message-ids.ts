// Message-ID handling: extraction from In-Reply-To / References, normalisation for indexing, and
// the ids we mint ourselves.
import { withoutComments } from './header-comments.js';

// No whitespace or control character inside: a decoded encoded-word could otherwise smuggle a CR/LF
// into an id that our replies later write into a header.
const ANGLE_ID = /<([^<>\s\x00-\x1f\x7f]+)>/g;
const CONTROL = /[\x00-\x1f\x7f]/;

/** The ids named in a References / In-Reply-To value, in order, without brackets. */
export function extractMessageIds(value: string | readonly string[] | undefined | null): string[] {
  if (value == null) return [];
  const joined = typeof value === 'string' ? value : value.join(' ');
  const ids = [...joined.matchAll(ANGLE_ID)].map((m) => m[1] as string);
  if (ids.length > 0) return ids;
  // Some mailers omit the brackets; accept one bare token that looks like an id.
  const bare = joined.trim();
  return /^[^\s<>]+@[^\s<>]+$/.test(bare) && !CONTROL.test(bare) ? [bare] : [];
}

/**
 * The one id a Message-ID header names, without brackets: the first bracketed id, so a trailing
 * comment or further tokens ("<a@x> (sent by foo)", "<a@x> <b@x>") are not part of it. Without
 * brackets, the first token outside comments. Null when nothing usable is there.
 */
export function messageIdFromHeader(value: string): string | null {
  const [bracketed] = extractMessageIds(value);
  if (bracketed) return bracketed;
  const token = withoutComments(value).trim().split(/\s+/)[0] ?? '';
  const bare = token.replace(/^<|>$/g, '');
  return bare !== '' && !/[<>()]/.test(bare) && !CONTROL.test(bare) ? bare : null;
}

/** A stable Message-ID for mail that arrived without one, derived from its raw bytes. */
export function synthesizeMessageId(rawSha256: string): string {
  return `${rawSha256.slice(0, 40)}@synthesized.mail2ticket.invalid`;
}

/** Our own Message-IDs: the token carries at least 128 random bits. */
export function ownMessageId(randomToken: string, domain: string): string {
  return `${randomToken}@${domain}`;
}
