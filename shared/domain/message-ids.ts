// Message-ID handling: extraction from In-Reply-To / References, normalisation for indexing, and
// the ids we mint ourselves.

const ANGLE_ID = /<([^<>\s]+)>/g;

/** The ids named in a References / In-Reply-To value, in order, without brackets. */
export function extractMessageIds(value: string | readonly string[] | undefined | null): string[] {
  if (value == null) return [];
  const joined = typeof value === 'string' ? value : value.join(' ');
  const ids = [...joined.matchAll(ANGLE_ID)].map((m) => m[1] as string);
  if (ids.length > 0) return ids;
  // Some mailers omit the brackets; accept one bare token that looks like an id.
  const bare = joined.trim();
  return /^[^\s<>]+@[^\s<>]+$/.test(bare) ? [bare] : [];
}

export function normalizeMessageId(id: string): string {
  return id.trim().replace(/^<|>$/g, '').trim();
}

/** A stable Message-ID for mail that arrived without one, derived from its raw bytes. */
export function synthesizeMessageId(rawSha256: string): string {
  return `${rawSha256.slice(0, 40)}@synthesized.mail2ticket.invalid`;
}

/** Our own Message-IDs: the token carries at least 128 random bits. */
export function ownMessageId(randomToken: string, domain: string): string {
  return `${randomToken}@${domain}`;
}
