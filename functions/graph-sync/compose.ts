// Composition root of the Graph sync worker and its scheduled jobs in AWS.
import { SQSClient } from '@aws-sdk/client-sqs';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { MicrosoftGraphConnector } from '../../shared/adapters/graph/microsoft-graph-connector.js';
import { SqsJobDeferral, SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { readGraphAppSecret } from '../../shared/adapters/system/graph-app-secret.js';
import { PowertoolsMetrics } from '../../shared/adapters/system/metrics.js';
import { SecretsManagerClient } from '../../shared/adapters/system/secrets.js';
import { traced } from '../../shared/adapters/system/tracing.js';
import { loadGraphSettings, type GraphWorkerSettings, requireEnv } from '../../shared/config.js';
import { composeIngestDeps } from '../ingest/compose.js';
import type { GraphSyncHandlerDeps } from './make-handler.js';

type Env = Record<string, string | undefined>;


export async function composeGraphSync(
  env: Env = process.env,
  serviceName = 'graph-sync',
): Promise<{
  deps: GraphSyncHandlerDeps;
  metrics: Metrics;
  settings: GraphWorkerSettings;
  repo: DynamoDbTicketRepository;
  /** The app certificate's `notAfter` from the secret, for the scheduled expiry countdown. */
  certificateNotAfter?: string;
}> {
  const region = requireEnv(env, 'AWS_REGION');
  const settings = loadGraphSettings(env);
  const secret = await readGraphAppSecret(traced(new SecretsManagerClient({ region })), requireEnv(env, 'GRAPH_APP_SECRET_ARN'), env.GRAPH_APP_ID);
  const sqs = traced(new SQSClient({ region }));
  const metrics = new Metrics({ namespace: 'mail2ticket', serviceName });
  const ingest = composeIngestDeps(env);
  return {
    metrics,
    settings,
    repo: ingest.repo,
    ...(secret.certificateNotAfter ? { certificateNotAfter: secret.certificateNotAfter } : {}),
    deps: {
      ...ingest,
      graph: new MicrosoftGraphConnector({ clientId: secret.clientId, credential: secret.credential }),
      directory: ingest.repo,
      metrics: new PowertoolsMetrics(metrics),
      settings,
      queue: new SqsJobQueue(sqs, requireEnv(env, 'SYNC_QUEUE_URL')),
      deferral: new SqsJobDeferral(sqs, requireEnv(env, 'SYNC_QUEUE_URL')),
      maxReceiveCount: settings.maxReceiveCount,
      timeReserveMs: settings.timeReserveSeconds * 1000,
    },
  };
}
