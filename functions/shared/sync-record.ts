// What every connector's sync worker does with one queue record: run the provider's sync for the
// job it names; when the provider throttles, put the job back for as long as it asked (a visibility
// change) instead of failing; when the job would reach the DLQ for throttling alone, hand it to a
// fresh job, so a long throttle never dead-letters mail. Anything else fails the record.
import type { SQSRecord } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { parseSyncJob, queuedSyncJob, type SyncJob } from '../../shared/domain/connectors/sync-job.js';
import type { JobDeferral, JobQueue } from '../../shared/domain/ports.js';
import { ProviderThrottled } from '../../shared/domain/provider-errors.js';

export interface SyncRecordDeps {
  queue: JobQueue;
  deferral: JobDeferral;
  maxReceiveCount: number;
}

/** What a sync reports for the logs: codes and counts only. */
export type SyncSummary = Record<string, string | number | undefined>;

/** SQS's longest visibility timeout. */
const MAX_DEFER_SECONDS = 43_200;
const DEFAULT_DEFER_SECONDS = 60;

export function syncRecordHandler(provider: string, deps: SyncRecordDeps, sync: (job: SyncJob) => Promise<SyncSummary>) {
  return async (record: SQSRecord): Promise<void> => {
    const job = parseSyncJob(record.body);
    try {
      const summary = await sync(job);
      logger.info(`${provider} sync`, { reason: job.reason, ...summary });
    } catch (error) {
      if (!(error instanceof ProviderThrottled)) throw error;
      const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
      if (receives >= deps.maxReceiveCount - 1) {
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
