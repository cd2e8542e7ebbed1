// Lambda entry point of the purge stream consumer.
import { S3Client } from '@aws-sdk/client-s3';
import { S3_CLIENT_OPTIONS, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { traced, traceInvocations } from '../../shared/adapters/system/tracing.js';
import { loadRetentionConfig } from '../../shared/config.js';
import { makeHandler } from './make-handler.js';

const config = loadRetentionConfig();
export const handler = traceInvocations(makeHandler({ blobs: new S3BlobStore(traced(new S3Client({ ...S3_CLIENT_OPTIONS, region: config.region })), config.bucket, { versioned: true }) }));
