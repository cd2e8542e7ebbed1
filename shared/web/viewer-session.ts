// The ticket viewer's operator session, for the person at this machine. One sign-in token per process
// (npm start prints the link that carries it), usable once; it opens a session of 8 hours kept in
// memory only. Nothing here is stored or logged: a restart signs everyone out and prints a new link.
// Tokens and session ids are compared by their SHA-256 digests, in constant time for the token; the
// session table is keyed by digest, so a lookup's timing tells nothing about a valid id.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../domain/ports.js';

export const SESSION_HOURS = 8;
const SESSION_MS = SESSION_HOURS * 3_600_000;
// A cookie or query value longer than this is not ours; it is not even hashed.
const MAX_SECRET_LENGTH = 128;

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** 256 random bits, URL- and cookie-safe. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface OpenedSession {
  sessionId: string;
  maxAgeSeconds: number;
}

export class OperatorSessions {
  readonly #clock: Clock;
  readonly #loginDigest: Buffer;
  #loginUsed = false;
  /** SHA-256 (hex) of a session id → when it ends (epoch ms). */
  readonly #sessions = new Map<string, number>();

  /** `loginToken` is the secret of the printed link; keep it only in that link. */
  constructor(clock: Clock, loginToken: string) {
    this.#clock = clock;
    this.#loginDigest = digest(loginToken);
  }

  /** Trades the link's token for a new session, once. Undefined for any other value, or a second use. */
  redeem(token: string | undefined): OpenedSession | undefined {
    if (this.#loginUsed || !token || token.length > MAX_SECRET_LENGTH) return undefined;
    if (!timingSafeEqual(digest(token), this.#loginDigest)) return undefined;
    this.#loginUsed = true;
    const sessionId = newSecret();
    this.#sessions.set(digest(sessionId).toString('hex'), this.#clock.now().getTime() + SESSION_MS);
    return { sessionId, maxAgeSeconds: SESSION_MS / 1000 };
  }

  /** Whether the cookie's value is a session that has not ended. */
  isValid(sessionId: string | undefined): boolean {
    if (!sessionId || sessionId.length > MAX_SECRET_LENGTH) return false;
    const key = digest(sessionId).toString('hex');
    const endsAt = this.#sessions.get(key);
    if (endsAt === undefined) return false;
    if (this.#clock.now().getTime() >= endsAt) {
      this.#sessions.delete(key);
      return false;
    }
    return true;
  }
}
