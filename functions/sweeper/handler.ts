// Lambda entry point of the backstop sweep (EventBridge Scheduler, daily).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMS } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { DynamoDbTableSafeguards } from '../../shared/adapters/dynamodb/dynamodb-table-safeguards.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { S3_CLIENT_OPTIONS, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { systemClock } from '../../shared/adapters/system/system.js';
import { traced, traceInvocations } from '../../shared/adapters/system/tracing.js';
import { loadRetentionConfig } from '../../shared/config.js';
import { makeHandler } from './make-handler.js';

const config = loadRetentionConfig();
const dynamo = traced(new DynamoDBClient({ region: config.region }));
const repo = new DynamoDbTicketRepository(dynamo, config.tableName);
export const handler = traceInvocations(makeHandler({
  repo,
  // A restore takes up to an hour to report the TTL enabled; the function has 15 minutes: rerun it.
  table: new DynamoDbTableSafeguards(dynamo, config.tableName, { timeoutMs: 12 * 60_000 }),
  retention: repo,
  blobs: new S3BlobStore(traced(new S3Client({ ...S3_CLIENT_OPTIONS, region: config.region })), config.bucket, { versioned: true }),
  clock: systemClock,
  // Only the {"task":"reapply"} run after a restore uses the tenant keys (requester erasures replayed).
  keys: new KmsKeyService({ kms: traced(new KMS({ region: config.region })), aliasPrefix: config.tenantKeyAliasPrefix }),
}));
