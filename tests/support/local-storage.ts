// dynalite and s3rver for one integration test file, with the real SDK clients pointed at them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { startDynalite } from '../../shared/local/dynalite.js';
import { startS3rver } from '../../shared/local/s3rver.js';

export interface LocalStorage {
  dir: string;
  client: DynamoDBClient;
  blobs(): S3BlobStore;
  stop(): Promise<void>;
}

export async function startLocalStorage(name: string): Promise<LocalStorage> {
  const dir = await mkdtemp(join(tmpdir(), `m2t-${name}-`));
  const dynamo = await startDynalite();
  const s3 = await startS3rver({ dir: join(dir, 's3') });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  return {
    dir,
    client,
    blobs: () => new S3BlobStore(makeS3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }), s3.bucket),
    stop: async () => {
      client.destroy();
      await s3.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
