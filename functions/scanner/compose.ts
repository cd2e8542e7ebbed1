// Composition root of the scanner function: configuration read once, clients built once, and clamd
// started (definitions downloaded from the definitions bucket) in the background at cold start.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMS } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ClamdDaemon } from '../../shared/adapters/clamav/clamd-daemon.js';
import { PowertoolsScannerMetrics } from '../../shared/adapters/clamav/scanner-metrics.js';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { DynamoDbConsentStore } from '../../shared/adapters/dynamodb/dynamodb-consent-store.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { S3_CLIENT_OPTIONS, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { systemClock } from '../../shared/adapters/system/system.js';
import { traced } from '../../shared/adapters/system/tracing.js';
import { loadLambdaConfig, requireEnv } from '../../shared/config.js';
import type { ScannerHandlerDeps } from './make-handler.js';

/** Lambda's writable scratch space; short, so the socket path stays far under the unix limit. */
const WORK_DIR = '/tmp/clamav';

export function composeScanner(env: Record<string, string | undefined> = process.env): { deps: ScannerHandlerDeps; daemon: ClamdDaemon } {
  const config = loadLambdaConfig(env);
  const region = config.region;
  const s3 = traced(new S3Client({ ...S3_CLIENT_OPTIONS, region }));
  const dynamo = traced(new DynamoDBClient({ region }));
  const daemon = ClamdDaemon.start({
    definitions: new S3BlobStore(s3, requireEnv(env, 'DEFINITIONS_BUCKET')),
    workDir: WORK_DIR,
    clamdPath: env.CLAMD_PATH?.trim() || '/usr/sbin/clamd',
    maxAttachmentBytes: config.limits.maxAttachmentBytes,
    clock: systemClock,
  });
  return {
    daemon,
    deps: {
      scan: {
        repo: new DynamoDbTicketRepository(dynamo, config.tableName),
        blobs: new S3BlobStore(s3, config.bucket, { versioned: true }),
        keys: new KmsKeyService({ kms: traced(new KMS({ region })), aliasPrefix: config.tenantKeyAliasPrefix }),
        scanner: daemon.scanner,
        // The hourly backstop goes through every tenant (the consent store's tenant list, same table).
        tenants: new DynamoDbConsentStore(dynamo, config.tableName),
        clock: systemClock,
      },
      ready: () => daemon.ensureRunning(),
      metrics: new PowertoolsScannerMetrics(new Metrics({ namespace: 'mail2ticket', serviceName: 'scanner' })),
    },
  };
}
