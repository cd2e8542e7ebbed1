// s3rver: an S3-compatible server on loopback, persisted in a directory (the data survives a restart
// with the same directory). It ignores SSE-KMS, tagging and versioning, which is one reason encryption
// at rest is client-side (KeyService).
//
// It runs in a child process started with --openssl-legacy-provider: s3rver encrypts its
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17 and later) refuses by default,
// so any listing longer than one page failed with a 500. The child also keeps s3rver's request
// handling off this process's event loop, and exits with its parent (its stdin closes).
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeS3Client } from '../adapters/s3/s3-blob-store.js';
import { startChildServer } from './child-server.js';

export interface RunningS3rver {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

/** s3rver accepts any credentials; these are the ones its documentation uses. */
export const S3RVER_CREDENTIALS: { readonly accessKeyId: string; readonly secretAccessKey: string } = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const CHILD = `
const { directory, module } = JSON.parse(process.env.M2T_S3RVER);
const { default: S3rver } = await import(module);
const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\\n');
let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  server.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown).on('error', shutdown).resume();
`;

export async function startS3rver(options: { dir: string; bucket?: string }): Promise<RunningS3rver> {
  const bucket = options.bucket ?? 'mail2ticket-local';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`invalid bucket name ${bucket} (3 to 63 lowercase letters, digits, dots, hyphens)`);
  await mkdir(options.dir, { recursive: true, mode: 0o700 });

  const module = pathToFileURL(createRequire(import.meta.url).resolve('s3rver')).href;
  const server = await startChildServer('s3rver', CHILD, { env: { M2T_S3RVER: JSON.stringify({ directory: options.dir, module }) }, nodeArgs: ['--openssl-legacy-provider'] });
  const stop = server.stop;
  try {
    const endpoint = `http://127.0.0.1:${server.port}`;
    const client = makeS3Client({ endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
    try {
      await ensureBucket(client, bucket);
    } finally {
      client.destroy();
    }
    return { endpoint, bucket, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'NotFound' && name !== 'NoSuchBucket') throw error;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
