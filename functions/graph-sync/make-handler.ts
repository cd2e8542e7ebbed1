// Microsoft 365 sync worker: SQS FIFO (group = mailbox) → syncGraphMailbox. Lifecycle jobs (renew,
// resubscribe) arrive on the same queue, so every Graph call for a mailbox runs in its one group.
import middy from '@middy/core';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { syncGraphMailbox, type GraphSyncDeps } from '../../shared/domain/graph/sync.js';
import { syncRecordHandler, type SyncRecordDeps } from '../shared/sync-record.js';

export interface GraphSyncHandlerDeps extends GraphSyncDeps, SyncRecordDeps {}

export function handleGraphSyncRecord(deps: GraphSyncHandlerDeps) {
  return syncRecordHandler('graph', deps, async (job, attempt) => {
    const report = await syncGraphMailbox(deps, job, attempt);
    return { outcome: report.outcome, mode: report.mode, ingested: report.ingested, added: report.added, vanished: report.vanished };
  });
}

export function makeHandler(deps: GraphSyncHandlerDeps, metrics: PowertoolsMetricsClient) {
  const recordHandler = handleGraphSyncRecord(deps);
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), { context, skipGroupOnError: true, throwOnFullBatchFailure: false }),
  )
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
