// The real clock and id generator.
import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { Clock, IdGenerator } from '../../domain/ports.js';

export const systemClock: Clock = { now: () => new Date() };

export function ulidIds(): IdGenerator {
  const next = monotonicFactory();
  return {
    next: () => next(),
    // 160 random bits, base32hex lower-case: safe in a Message-ID's local part.
    randomToken: () => BigInt(`0x${randomBytes(20).toString('hex')}`).toString(32).padStart(32, '0'),
  };
}
