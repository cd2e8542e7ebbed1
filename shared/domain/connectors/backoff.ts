// Retrying a throttled provider: short waits happen in the worker, long ones go back to the queue.
// The provider's Retry-After is a floor, never shortened by jitter.
import { ProviderThrottled } from '../provider-errors.js';

export interface BackoffPolicy {
  /** Attempts in this invocation, the first included. */
  attempts: number;
  baseMs: number;
  capMs: number;
  /** A wait longer than this is not done here: the job is deferred through the queue instead. */
  maxInlineWaitMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { attempts: 4, baseMs: 500, capMs: 60_000, maxInlineWaitMs: 5_000 };

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential delay for attempt n (0-based), never below the provider's Retry-After. */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, retryAfterSeconds: number | undefined, random: () => number = Math.random): number {
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  const jittered = Math.round(exponential / 2 + (random() * exponential) / 2);
  const floor = retryAfterSeconds === undefined ? 0 : Math.ceil(retryAfterSeconds * 1000);
  return Math.max(jittered, floor);
}

/**
 * Runs `call`, retrying ProviderThrottled while the wait is short. Rethrows the last ProviderThrottled
 * with the wait still owed (`retryAfterSeconds`), for the caller to defer the job by.
 */
export async function withBackoff<T>(call: () => Promise<T>, policy: BackoffPolicy = DEFAULT_BACKOFF, sleep: Sleep = realSleep): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ProviderThrottled)) throw error;
      const wait = backoffDelayMs(policy, attempt, error.retryAfterSeconds);
      if (attempt + 1 >= policy.attempts || wait > policy.maxInlineWaitMs) {
        throw new ProviderThrottled(error.message, Math.ceil(wait / 1000), { cause: error, rateLimited: error.rateLimited });
      }
      await sleep(wait);
    }
  }
}
