// Composition root of the Gmail sync worker and its scheduled jobs in AWS.
import { SQSClient } from '@aws-sdk/client-sqs';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { SqsJobDeferral, SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { PowertoolsMetrics } from '../../shared/adapters/system/metrics.js';
import { readOAuthClientSecret, SecretsManagerClient } from '../../shared/adapters/system/secrets.js';
import { traced } from '../../shared/adapters/system/tracing.js';
import type { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { loadGmailSettings, type GmailWorkerSettings, requireEnv } from '../../shared/config.js';
import { composeIngestDeps } from '../ingest/compose.js';
import type { GmailSyncHandlerDeps } from './make-handler.js';

type Env = Record<string, string | undefined>;


export async function composeGmailSync(env: Env = process.env, serviceName = 'gmail-sync'): Promise<{ deps: GmailSyncHandlerDeps; metrics: Metrics; settings: GmailWorkerSettings; directory: DynamoDbTicketRepository }> {
  const region = requireEnv(env, 'AWS_REGION');
  const settings = loadGmailSettings(env);
  const secret = await readOAuthClientSecret(traced(new SecretsManagerClient({ region })), requireEnv(env, 'GOOGLE_OAUTH_SECRET_ARN'));
  const sqs = traced(new SQSClient({ region }));
  const metrics = new Metrics({ namespace: 'mail2ticket', serviceName });
  const ingest = composeIngestDeps(env);
  return {
    metrics,
    settings,
    directory: ingest.repo,
    deps: {
      ...ingest,
      gmail: new GoogleGmailConnector(secret),
      metrics: new PowertoolsMetrics(metrics),
      settings,
      queue: new SqsJobQueue(sqs, requireEnv(env, 'SYNC_QUEUE_URL')),
      deferral: new SqsJobDeferral(sqs, requireEnv(env, 'SYNC_QUEUE_URL')),
      maxReceiveCount: settings.maxReceiveCount,
      timeReserveMs: settings.timeReserveSeconds * 1000,
    },
  };
}
