// Lambda entry point of the backstop sweep (EventBridge Scheduler, daily).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { systemClock } from '../../shared/adapters/system/system.js';
import { loadRetentionConfig } from '../../shared/config.js';
import { makeHandler } from './make-handler.js';

const config = loadRetentionConfig();
const repo = new DynamoDbTicketRepository(new DynamoDBClient({ region: config.region }), config.tableName);
export const handler = makeHandler({
  repo,
  retention: repo,
  blobs: new S3BlobStore(new S3Client({ region: config.region }), config.bucket, { versioned: true }),
  clock: systemClock,
});
