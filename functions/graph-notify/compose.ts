// Composition root of the Graph webhooks: table, queue and the key service for the clientState HMAC.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { KmsBlindIndex } from '../../shared/adapters/crypto/kms-blind-index.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { PowertoolsMetrics } from '../../shared/adapters/system/metrics.js';
import { requireEnv } from '../../shared/config.js';
import type { GraphNotifyDeps } from '../../shared/domain/graph/notify.js';


export function composeGraphNotify(env: Record<string, string | undefined> = process.env): { deps: GraphNotifyDeps; metrics: Metrics } {
  const region = requireEnv(env, 'AWS_REGION');
  const repo = new DynamoDbTicketRepository(new DynamoDBClient({ region }), requireEnv(env, 'TABLE_NAME'));
  const metrics = new Metrics({ namespace: 'mail2ticket', serviceName: 'graph-notify' });
  return {
    metrics,
    deps: {
      directory: repo,
      repo,
      keys: new KmsBlindIndex({ kms: new KMSClient({ region }), ...(env.TENANT_KEY_ALIAS_PREFIX?.trim() ? { aliasPrefix: env.TENANT_KEY_ALIAS_PREFIX.trim() } : {}) }),
      queue: new SqsJobQueue(new SQSClient({ region }), requireEnv(env, 'SYNC_QUEUE_URL')),
      metrics: new PowertoolsMetrics(metrics),
    },
  };
}
