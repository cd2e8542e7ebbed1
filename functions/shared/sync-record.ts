// What every connector's sync worker does with one queue record: run the provider's sync for the
// job it names; when the provider throttles, put the job back for as long as it asked (a visibility
// change) instead of failing; when the job would reach the DLQ for throttling alone, hand it to a
// fresh job, so a long throttle never dead-letters mail. Another transient failure of ours (an
// ingestion of the same message under way elsewhere, a store briefly unavailable) comes back after a
// minute rather than the queue's visibility timeout, which would hold the mailbox's FIFO group for an
// hour. Anything else fails the record.
//
// On a job's last attempts (the receive at which a throttled job would be continued, and after) the
// sync may `park` a message it still cannot bring in: the message becomes a `message` job in a group of
// its own and the mailbox's sync goes on past it, so one poison message holds the mailbox back for one
// retry schedule, not for ever. A `message` job is never continued: if it keeps failing (throttled or
// not) it reaches the dead-letter queue after maxReceiveCount receives, for `dlq list` / `dlq redrive`.
//
// With a time reserve, a sync that reports `paused` (its budget spent, its place saved) is continued by
// a fresh job at once: a long backlog takes several invocations, never a timeout and a failed receive.
import type { Context, SQSRecord } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import type { SyncBudget } from '../../shared/domain/connectors/budget.js';
import { parkedMessageJob, parseSyncJob, queuedSyncJob, type SyncJob } from '../../shared/domain/connectors/sync-job.js';
import type { JobDeferral, JobQueue } from '../../shared/domain/ports.js';
import { DomainError } from '../../shared/domain/errors.js';
import { ProviderMisconfigured, ProviderThrottled } from '../../shared/domain/provider-errors.js';

export interface SyncRecordDeps {
  queue: JobQueue;
  deferral: JobDeferral;
  maxReceiveCount: number;
  /**
   * How soon a job that failed for a transient reason of ours comes back (default 60 s). A queue whose
   * visibility timeout is shorter (the local stack's, the tests') passes that instead.
   */
  transientRetrySeconds?: number;
  /**
   * When set, a sync stops starting work once the invocation has less time left than this (what one
   * message may still take), and the rest of it goes on as a fresh job (see domain/connectors/budget.ts).
   */
  timeReserveMs?: number;
}

/** What a sync reports for the logs: codes and counts only. */
export type SyncSummary = Record<string, string | number | undefined>;

/** SQS's longest visibility timeout. */
const MAX_DEFER_SECONDS = 43_200;
const DEFAULT_DEFER_SECONDS = 60;
/** How soon a job that failed for a transient reason of ours comes back, by default. */
const TRANSIENT_RETRY_SECONDS = 60;

/**
 * What a mailbox sync may do: on its job's last attempts, park a message it cannot bring in; with a
 * time budget, stop and report `paused` once the budget is spent.
 */
export interface SyncAttempt {
  park?: (message: { id: string; threadId?: string }) => Promise<void>;
  budget?: SyncBudget;
}

export function syncRecordHandler(provider: string, deps: SyncRecordDeps, sync: (job: SyncJob, attempt: SyncAttempt) => Promise<SyncSummary>) {
  return async (record: SQSRecord, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<void> => {
    const job = parseSyncJob(record.body);
    const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
    const lastAttempts = receives >= deps.maxReceiveCount - 1;
    const attempt: SyncAttempt = {};
    if (lastAttempts && job.reason !== 'message') {
      attempt.park = async (message) => {
        await deps.queue.enqueue(parkedMessageJob(job, message));
        logger.warn(`${provider} sync: a message failed on the job's last attempt; parked as a job of its own`, { receives });
      };
    }
    const reserveMs = deps.timeReserveMs;
    if (reserveMs !== undefined && context) attempt.budget = { spent: () => context.getRemainingTimeInMillis() < reserveMs };
    try {
      const summary = await sync(job, attempt);
      logger.info(`${provider} sync`, { reason: job.reason, ...summary });
      if (summary.outcome === 'paused') {
        // Queued before this record is deleted: if the send fails, the record comes back and the sync
        // resumes from the place it saved. The rest of a push or safety sync is still one (what the
        // sync records of a notification, a stalled one); a renewal or a new subscription is done.
        const reason = job.reason === 'renew' || job.reason === 'resubscribe' ? 'continue' : job.reason;
        await deps.queue.enqueue(queuedSyncJob({ ...job, reason }, `paused-${record.messageId}`));
      }
    } catch (error) {
      if (error instanceof ProviderMisconfigured) {
        // Every mailbox's jobs fail alike until an operator fixes the OAuth client's credential.
        logger.error(`${provider} sync: the provider refused our app's credential; fix the OAuth client secret`, { code: error.code, error: error.name, receives });
      }
      if (!(error instanceof ProviderThrottled)) {
        // A misconfigured app fails every mailbox alike: retrying it each minute would only hammer the
        // token endpoint; it waits the visibility timeout until an operator has fixed it.
        if (error instanceof DomainError && error.retryable && !(error instanceof ProviderMisconfigured)) {
          await deps.deferral.defer(record.receiptHandle, deps.transientRetrySeconds ?? TRANSIENT_RETRY_SECONDS);
          logger.warn(`${provider} sync: a transient failure; retried shortly`, { code: error.code, receives });
        }
        throw error;
      }
      if (lastAttempts && job.reason !== 'message') {
        // The mailbox remembers the provider's Retry-After, so the fresh job waits it out too.
        await deps.queue.enqueue(queuedSyncJob({ ...job, reason: 'continue', generation: (job.generation ?? 0) + 1 }, `continue-${record.messageId}`));
        logger.warn(`${provider} sync throttled; continued as a fresh job`, { receives });
        return;
      }
      const seconds = Math.min(MAX_DEFER_SECONDS, Math.max(1, error.retryAfterSeconds ?? DEFAULT_DEFER_SECONDS));
      await deps.deferral.defer(record.receiptHandle, seconds);
      logger.warn(`${provider} sync throttled; deferred`, { seconds, receives });
      throw error;
    }
  };
}
