// s3rver: an S3-compatible server on loopback, persisted in the data dir. It ignores SSE-KMS,
// tagging and versioning, which is why encryption at rest is client-side (KeyService).
import { mkdir } from 'node:fs/promises';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { makeS3Client } from '../adapters/s3/s3-blob-store.js';

export interface RunningS3rver {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

export async function startS3rver(options: { dir: string; bucket?: string }): Promise<RunningS3rver> {
  const bucket = options.bucket ?? 'mail2ticket-local';
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: options.dir, silent: true });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = makeS3Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket })).catch(() => client.send(new CreateBucketCommand({ Bucket: bucket })));
  } finally {
    client.destroy();
  }
  return { endpoint, bucket, stop: () => server.close() };
}
