// Ingest worker: SQS FIFO (group = mailbox) → ingestMessage. Thin: parse the record, run the job,
// report partial batch failures so one bad message never fails its neighbours.
import middy from '@middy/core';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { parseIngestJob, runIngestJob } from '../../shared/domain/ingest-job.js';
import type { IngestDeps } from '../../shared/domain/ingest.js';

export function makeHandler(deps: IngestDeps) {
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const outcome = await runIngestJob(deps, parseIngestJob(record.body));
    // Ids and statuses only: no subject, address or body ever reaches the logs.
    if (outcome.outcome === 'ingested') {
      logger.info('ingested', { status: outcome.result.status, ticketId: outcome.result.ticketId, attachments: outcome.result.attachments.length });
    } else {
      logger.warn('job dropped', { code: outcome.code });
    }
  };
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    // A failure holds back only its own group's later messages (they keep their order); other groups go on.
    processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), { context, skipGroupOnError: true, throwOnFullBatchFailure: false }),
  ).use(injectLambdaContext(logger));
}
