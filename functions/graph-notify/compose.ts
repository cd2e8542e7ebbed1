// Composition root of the Graph webhooks: table and queue only (the clientState check needs no key).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Metrics } from '@aws-lambda-powertools/metrics';
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
      queue: new SqsJobQueue(new SQSClient({ region }), requireEnv(env, 'SYNC_QUEUE_URL')),
      metrics: new PowertoolsMetrics(metrics),
    },
  };
}
