// Composition root of the push webhook: only what it needs (table, queue, the service index key,
// Google's signing keys), so its bundle and cold start stay small.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { JSONWebKeySet } from 'jose';
import { KmsBlindIndex } from '../../shared/adapters/crypto/kms-blind-index.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { PubSubPushVerifier, pushSigningKeys } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { PowertoolsMetrics } from '../../shared/adapters/system/metrics.js';
import { loadGmailPushConfig } from '../../shared/config.js';
import type { GmailPushDeps } from '../../shared/domain/gmail/push.js';

export function composeGmailPush(env: Record<string, string | undefined> = process.env): { deps: GmailPushDeps; metrics: Metrics } {
  const config = loadGmailPushConfig(env);
  const repo = new DynamoDbTicketRepository(new DynamoDBClient({ region: config.region }), config.tableName);
  const metrics = new Metrics({ namespace: 'mail2ticket', serviceName: 'gmail-push' });
  return {
    metrics,
    deps: {
      verifier: new PubSubPushVerifier({ audience: config.pushAudience, serviceAccountEmail: config.pushServiceAccount, keys: pushSigningKeys(env, sandboxKeys(env)) }),
      directory: repo,
      repo,
      keys: new KmsBlindIndex({ kms: new KMSClient({ region: config.region }), aliasPrefix: config.tenantKeyAliasPrefix }),
      queue: new SqsJobQueue(new SQSClient({ region: config.region }), config.syncQueueUrl),
      metrics: new PowertoolsMetrics(metrics),
    },
  };
}

/** The local sandbox's push signing keys (JSON JWK set); pushSigningKeys ignores them in Lambda. */
function sandboxKeys(env: Record<string, string | undefined>): JSONWebKeySet | undefined {
  const json = env.MAIL2TICKET_SANDBOX_JWKS?.trim();
  return json ? (JSON.parse(json) as JSONWebKeySet) : undefined;
}
