// Composition root of the ingest worker in AWS: configuration read once, clients built once per
// cold start. The scanner function delivers verdicts after the write, so attachments start `pending`.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMS } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { S3_CLIENT_OPTIONS, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { DeferredScanner } from '../../shared/adapters/system/draining-scanners.js';
import { systemClock, ulidIds } from '../../shared/adapters/system/system.js';
import { traced } from '../../shared/adapters/system/tracing.js';
import { loadLambdaConfig } from '../../shared/config.js';
import type { IngestDeps } from '../../shared/domain/ingest.js';

export function composeIngestDeps(env: Record<string, string | undefined> = process.env): IngestDeps & { repo: DynamoDbTicketRepository } {
  const config = loadLambdaConfig(env);
  const region = config.region;
  return {
    repo: new DynamoDbTicketRepository(traced(new DynamoDBClient({ region })), config.tableName),
    blobs: new S3BlobStore(traced(new S3Client({ ...S3_CLIENT_OPTIONS, region })), config.bucket, { versioned: true }),
    keys: new KmsKeyService({ kms: traced(new KMS({ region })), aliasPrefix: config.tenantKeyAliasPrefix }),
    scanner: new DeferredScanner(),
    clock: systemClock,
    ids: ulidIds(),
    limits: config.limits,
  };
}
