// Composition root of the push webhook: only what it needs (table, queue, the service index key,
// Google's signing keys), so its bundle and cold start stay small.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { JSONWebKeySet } from 'jose';
import { KmsBlindIndex } from '../../shared/adapters/crypto/kms-blind-index.js';
import { DynamoDbDirectoryReader } from '../../shared/adapters/dynamodb/dynamodb-directory-reader.js';
import { prefetchSigningKeys, PubSubPushVerifier, pushSigningKeys } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { PowertoolsMetrics } from '../../shared/adapters/system/metrics.js';
import { loadGmailPushConfig } from '../../shared/config.js';
import { SERVICE_INDEX_TENANT } from '../../shared/domain/connectors/credentials.js';
import type { GmailPushDeps } from '../../shared/domain/gmail/push.js';

export function composeGmailPush(env: Record<string, string | undefined> = process.env): { deps: GmailPushDeps; metrics: Metrics } {
  const config = loadGmailPushConfig(env);
  const metrics = new Metrics({ namespace: 'mail2ticket', serviceName: 'gmail-push' });
  // Bounded, so a prefetch frozen in flight (an environment kept between init and its first push)
  // times out and is retried by the SDK instead of holding that push.
  const kms = new KMSClient({ region: config.region, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } });
  const keys = new KmsBlindIndex({ kms, aliasPrefix: config.tenantKeyAliasPrefix });
  const signingKeys = pushSigningKeys(env, sandboxKeys(env));
  // Every push needs Google's keys and the service index key: both are asked for while the function
  // initialises, so the first push waits for neither round trip.
  prefetchSigningKeys(signingKeys);
  keys.prefetch(SERVICE_INDEX_TENANT);
  return {
    metrics,
    deps: {
      verifier: new PubSubPushVerifier({ audience: config.pushAudience, serviceAccountEmail: config.pushServiceAccount, keys: signingKeys }),
      directory: new DynamoDbDirectoryReader(new DynamoDBClient({ region: config.region }), config.tableName),
      keys,
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
