// Gmail sync worker: SQS FIFO (group = mailbox) → syncGmailMailbox. A throttled job goes back to the
// queue for as long as Google asked (visibility change) instead of failing; one that would reach the
// DLQ for throttling alone is handed to a fresh job, so a long throttle never dead-letters mail.
import middy from '@middy/core';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { parseSyncJob, queuedSyncJob } from '../../shared/domain/connectors/sync-job.js';
import { syncGmailMailbox, type GmailSyncDeps } from '../../shared/domain/gmail/sync.js';
import type { JobDeferral, JobQueue } from '../../shared/domain/ports.js';
import { ProviderThrottled } from '../../shared/domain/provider-errors.js';

export interface GmailSyncHandlerDeps extends GmailSyncDeps {
  queue: JobQueue;
  deferral: JobDeferral;
  maxReceiveCount: number;
}

/** SQS's longest visibility timeout. */
const MAX_DEFER_SECONDS = 43_200;
const DEFAULT_DEFER_SECONDS = 60;

export function handleSyncRecord(deps: GmailSyncHandlerDeps) {
  return async (record: SQSRecord): Promise<void> => {
    const job = parseSyncJob(record.body);
    try {
      const report = await syncGmailMailbox(deps, job);
      logger.info('gmail sync', { reason: job.reason, outcome: report.outcome, mode: report.mode, ingested: report.ingested, added: report.added, vanished: report.vanished });
    } catch (error) {
      if (!(error instanceof ProviderThrottled)) throw error;
      const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
      if (receives >= deps.maxReceiveCount - 1) {
        // The mailbox remembers Google's Retry-After, so the fresh job waits it out too.
        await deps.queue.enqueue(queuedSyncJob({ ...job, reason: 'continue', generation: (job.generation ?? 0) + 1 }, `continue-${record.messageId}`));
        logger.warn('gmail sync throttled; continued as a fresh job', { receives });
        return;
      }
      const seconds = Math.min(MAX_DEFER_SECONDS, Math.max(1, error.retryAfterSeconds ?? DEFAULT_DEFER_SECONDS));
      await deps.deferral.defer(record.receiptHandle, seconds);
      logger.warn('gmail sync throttled; deferred', { seconds, receives });
      throw error;
    }
  };
}

export function makeHandler(deps: GmailSyncHandlerDeps, metrics: PowertoolsMetricsClient) {
  const recordHandler = handleSyncRecord(deps);
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    // One mailbox's failure holds back only that mailbox's later jobs, in order; others go on.
    processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), { context, skipGroupOnError: true, throwOnFullBatchFailure: false }),
  )
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
