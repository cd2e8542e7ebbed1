// Composition root of the definitions refresh: the definitions bucket, freshclam in the image, /tmp.
import { S3Client } from '@aws-sdk/client-s3';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { FreshclamRunner } from '../../shared/adapters/clamav/freshclam.js';
import { PowertoolsScannerMetrics } from '../../shared/adapters/clamav/scanner-metrics.js';
import { S3_CLIENT_OPTIONS, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { systemClock } from '../../shared/adapters/system/system.js';
import { traced } from '../../shared/adapters/system/tracing.js';
import { requireEnv } from '../../shared/config.js';
import type { DefinitionsUpdateDeps } from './make-handler.js';

const WORK_DIR = '/tmp/freshclam';

export function composeDefinitionsUpdate(env: Record<string, string | undefined> = process.env): { deps: DefinitionsUpdateDeps } {
  const region = requireEnv(env, 'AWS_REGION');
  return {
    deps: {
      blobs: new S3BlobStore(traced(new S3Client({ ...S3_CLIENT_OPTIONS, region })), requireEnv(env, 'DEFINITIONS_BUCKET')),
      fetcher: new FreshclamRunner({ binary: env.FRESHCLAM_PATH?.trim() || '/usr/bin/freshclam', workDir: WORK_DIR }),
      clock: systemClock,
      workDir: WORK_DIR,
      metrics: new PowertoolsScannerMetrics(new Metrics({ namespace: 'mail2ticket', serviceName: 'scanner-definitions' })),
    },
  };
}
