// Gmail sync worker: SQS FIFO (group = mailbox) → syncGmailMailbox, with the shared throttling rules
// of functions/shared/sync-record.ts.
import middy from '@middy/core';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { syncGmailMailbox, type GmailSyncDeps } from '../../shared/domain/gmail/sync.js';
import { syncRecordHandler, type SyncRecordDeps } from '../shared/sync-record.js';

export interface GmailSyncHandlerDeps extends GmailSyncDeps, SyncRecordDeps {}

export function handleSyncRecord(deps: GmailSyncHandlerDeps) {
  return syncRecordHandler('gmail', deps, async (job, attempt) => {
    const report = await syncGmailMailbox(deps, job, attempt);
    return { outcome: report.outcome, mode: report.mode, ingested: report.ingested, added: report.added, vanished: report.vanished };
  });
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
