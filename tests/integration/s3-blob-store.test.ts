// S3BlobStore through the real @aws-sdk/client-s3 against s3rver, and against wire-format fakes for what
// s3rver lacks: S3's checksum rules and a count of connections (with the client configured as the
// functions configure it), and a versioned bucket; startS3rver's lifecycle.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeS3Client, S3_CLIENT_OPTIONS, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { BlobNotFound, DependencyUnavailable } from '../../shared/domain/errors.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../../shared/local/s3rver.js';
import { ChecksumS3 } from '../fakes/checksum-s3.js';
import { VersionedS3 } from '../fakes/versioned-s3.js';
import { TcpProxy } from '../reliability/tcp-proxy.js';

const MiB = 1024 * 1024;
let dir: string;
let s3: RunningS3rver;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2t-s3-'));
  s3 = await startS3rver({ dir: join(dir, 's3') });
});
afterAll(async () => {
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A client for s3rver that counts the commands it sends, by name. */
function countingClient(endpoint = s3.endpoint, overrides: { maxAttempts?: number } = {}): { client: S3Client; sent: Map<string, number> } {
  const client = makeS3Client({ endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
  if (overrides.maxAttempts) client.config.maxAttempts = async () => overrides.maxAttempts as number;
  const sent = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.set(context.commandName ?? '?', (sent.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, sent };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function keysUnder(store: S3BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of store.list(prefix)) keys.push(key);
  return keys.sort();
}

describe('S3BlobStore on s3rver', () => {
  it('puts and gets a small object, from bytes and from a stream, in one PutObject each', async () => {
    const { client, sent } = countingClient();
    const store = new S3BlobStore(client, s3.bucket);
    await store.put('small/bytes', Buffer.from('hello bytes'));
    await store.put('small/stream', Readable.from([Buffer.from('hello '), Buffer.from('stream')]));
    expect((await buffer(await store.get('small/bytes'))).toString()).toBe('hello bytes');
    const body = await store.get('small/stream');
    expect(body).toBeInstanceOf(Readable);
    expect((await buffer(body)).toString()).toBe('hello stream');
    expect(sent.get('PutObjectCommand')).toBe(2);
    expect(sent.get('CreateMultipartUploadCommand')).toBeUndefined();
  });

  it('replaces an object put twice at the same key', async () => {
    const store = new S3BlobStore(countingClient().client, s3.bucket);
    await store.put('replace/me', Buffer.from('first'));
    await store.put('replace/me', Readable.from([Buffer.from('second')]));
    expect((await buffer(await store.get('replace/me'))).toString()).toBe('second');
  });

  it('streams a 30 MB object up in 5 MiB parts and back, byte for byte', async () => {
    const { client, sent } = countingClient();
    const store = new S3BlobStore(client, s3.bucket, { partSizeBytes: 5 * MiB });
    const parts = Array.from({ length: 30 }, (_, i) => Buffer.alloc(MiB, i));
    const whole = Buffer.concat(parts);
    await store.put('big/object', Readable.from(parts));
    expect(sent.get('CreateMultipartUploadCommand')).toBe(1);
    expect(sent.get('UploadPartCommand')).toBe(6);
    expect(sent.get('CompleteMultipartUploadCommand')).toBe(1);
    expect(sha256(await buffer(await store.get('big/object')))).toBe(sha256(whole));
  });

  it('uploads through two part buffers whatever the size: 60 MB holds no more than 6 MB does', async () => {
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      const { client, sent } = countingClient();
      const store = new S3BlobStore(client, s3.bucket, { partSizeBytes: 5 * MiB });
      const partBuffers = () => allocations.mock.calls.filter(([size]) => size === 5 * MiB).length;
      await store.put('pool/6mb', Readable.from(Array.from({ length: 6 }, (_, i) => Buffer.alloc(MiB, i))));
      expect(partBuffers()).toBe(2);
      allocations.mockClear();
      const chunks = Array.from({ length: 60 }, (_, i) => Buffer.alloc(MiB, i));
      await store.put('pool/60mb', Readable.from(chunks));
      expect(partBuffers()).toBe(2);
      expect(sent.get('UploadPartCommand')).toBe(2 + 12);
      expect(sha256(await buffer(await store.get('pool/60mb')))).toBe(sha256(Buffer.concat(chunks)));
    } finally {
      allocations.mockRestore();
    }
  });

  it('sends an object below a part as the chunks it came in, and all of it again when an attempt is cut off', async () => {
    const proxy = await TcpProxy.start(s3.endpoint);
    proxy.cutWhen((chunk) => chunk.toString('latin1').startsWith(`PUT /${s3.bucket}/held/retried?`), MiB);
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    const warnings = vi.spyOn(console, 'warn');
    try {
      const { client, sent } = countingClient(proxy.endpoint);
      const store = new S3BlobStore(client, s3.bucket, { partSizeBytes: 5 * MiB });
      const chunks = Array.from({ length: 16 }, () => randomBytes(256 * 1024));
      await store.put('held/retried', Readable.from(chunks));
      expect(proxy.cuts).toBe(1);
      // One command, retried by the SDK: a body it took for a stream it would not have sent again.
      expect(sent.get('PutObjectCommand')).toBe(1);
      expect(warnings).not.toHaveBeenCalled();
      expect(allocations.mock.calls.filter(([size]) => size === 5 * MiB)).toHaveLength(0);
      expect(sha256(await buffer(await store.get('held/retried')))).toBe(sha256(Buffer.concat(chunks)));
    } finally {
      allocations.mockRestore();
      warnings.mockRestore();
      await proxy.stop();
    }
  });

  it('sends an object of exactly one part in one PutObject, and one of exactly two parts in two parts', async () => {
    const { client, sent } = countingClient();
    const store = new S3BlobStore(client, s3.bucket, { partSizeBytes: 5 * MiB });
    const one = Buffer.alloc(5 * MiB, 7);
    await store.put('exact/one', Readable.from([one]));
    expect(sent.get('PutObjectCommand')).toBe(1);
    expect(sent.get('CreateMultipartUploadCommand')).toBeUndefined();
    const two = [Buffer.alloc(3 * MiB, 1), Buffer.alloc(7 * MiB, 2)];
    await store.put('exact/two', Readable.from(two));
    expect(sent.get('UploadPartCommand')).toBe(2);
    expect(sha256(await buffer(await store.get('exact/one')))).toBe(sha256(one));
    expect(sha256(await buffer(await store.get('exact/two')))).toBe(sha256(Buffer.concat(two)));
    await store.put('exact/empty', Readable.from([]));
    expect((await buffer(await store.get('exact/empty'))).length).toBe(0);
  });

  it('aborts the multipart upload when a part fails, stores nothing and fails the writer', async () => {
    const { client, sent } = countingClient();
    let parts = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand' && ++parts === 2) throw Object.assign(new Error('part refused'), { name: 'InvalidRequest' });
        return next(args);
      },
      { step: 'initialize', name: 'failSecondPart' },
    );
    const store = new S3BlobStore(client, s3.bucket, { partSizeBytes: 5 * MiB });
    const body = new PassThrough();
    const stored = store.put('aborted/upload', body);
    const written = pipeline(Readable.from(Array.from({ length: 30 }, () => Buffer.alloc(MiB, 3))), body);
    // Both awaited at once: the writer fails first, while the upload is still aborting.
    const [upload, writer] = await Promise.allSettled([stored, written]);
    expect(upload).toMatchObject({ status: 'rejected', reason: { message: 'part refused' } });
    expect(writer.status).toBe('rejected');
    expect(sent.get('AbortMultipartUploadCommand')).toBe(1);
    expect(sent.get('CompleteMultipartUploadCommand')).toBeUndefined();
    await expect(store.get('aborted/upload')).rejects.toBeInstanceOf(BlobNotFound);
  });

  it('maps a missing key to BlobNotFound', async () => {
    const store = new S3BlobStore(countingClient().client, s3.bucket);
    await expect(store.get('no/such/key')).rejects.toBeInstanceOf(BlobNotFound);
  });

  it('lists by prefix across pages, with last-modified times', async () => {
    const { client } = countingClient();
    // Two keys per page, so the continuation path runs against s3rver's real tokens.
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.input as { MaxKeys?: number }).MaxKeys = 2;
        return next(args);
      },
      { step: 'initialize', name: 'smallPages' },
    );
    const store = new S3BlobStore(client, s3.bucket);
    const wanted = ['list/a/1', 'list/a/2', 'list/a/3', 'list/a/4', 'list/a/5'];
    for (const key of [...wanted, 'list/b/1', 'list/a']) await store.put(key, Buffer.from(key));
    const listed: { key: string; lastModified: Date }[] = [];
    for await (const entry of store.list('list/a/')) listed.push(entry);
    expect(listed.map((e) => e.key).sort()).toEqual(wanted);
    for (const e of listed) expect(Math.abs(e.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await keysUnder(store, 'list/none/')).toEqual([]);
  });

  it('deletes listed keys (absent ones too) and nothing else, 1000 keys per request', async () => {
    const { client, sent } = countingClient();
    const store = new S3BlobStore(client, s3.bucket);
    for (const key of ['del/1', 'del/2', 'del/10', 'keep/1']) await store.put(key, Buffer.from(key));
    const absent = Array.from({ length: 1200 }, (_, i) => `del/absent/${i}`);
    await store.delete(['del/1', 'del/10', ...absent]);
    expect(sent.get('DeleteObjectsCommand')).toBe(2);
    expect(await keysUnder(store, 'del/')).toEqual(['del/2']);
    expect(await keysUnder(store, 'keep/')).toEqual(['keep/1']);
    await store.delete([]);
    expect(sent.get('DeleteObjectsCommand')).toBe(2);
  });

  it('fails a stream upload when its body fails, leaving nothing at the key', async () => {
    const { client, sent } = countingClient();
    const store = new S3BlobStore(client, s3.bucket);
    const body = new PassThrough();
    const stored = store.put('broken/upload', body);
    body.write(Buffer.alloc(6 * MiB, 1)); // past the first part: a multipart upload is under way
    setTimeout(() => body.destroy(new Error('source cut off')), 50);
    await expect(stored).rejects.toThrow('source cut off');
    expect(sent.get('CreateMultipartUploadCommand')).toBe(1);
    expect(sent.get('AbortMultipartUploadCommand')).toBe(1);
    await expect(store.get('broken/upload')).rejects.toBeInstanceOf(BlobNotFound);
  });

  it('fails the writer, not leaves it waiting, when the upload fails', async () => {
    const store = new S3BlobStore(countingClient().client, 'no-such-bucket');
    const body = new PassThrough();
    const stored = store.put('any/key', body);
    const written = pipeline(
      Readable.from(Array.from({ length: 40 }, () => Buffer.alloc(MiB))),
      body,
    );
    await expect(stored).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await expect(written).rejects.toThrow();
  });

  it('reports an unreachable S3 as DependencyUnavailable, with the cause', async () => {
    const { client } = countingClient('http://127.0.0.1:9', { maxAttempts: 1 });
    const store = new S3BlobStore(client, s3.bucket);
    const failure = await store.get('any').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyUnavailable);
    expect((failure as DependencyUnavailable).cause).toBeDefined();
    await expect(store.put('any', Buffer.from('x'))).rejects.toBeInstanceOf(DependencyUnavailable);
    await expect(store.put('any', Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(DependencyUnavailable);
    await expect(store.delete(['any'])).rejects.toBeInstanceOf(DependencyUnavailable);
    await expect(keysUnder(store, '')).rejects.toBeInstanceOf(DependencyUnavailable);
  });
});

describe('S3BlobStore on a bucket that holds uploads to S3\'s checksum rules (wire-format fake)', () => {
  const checking = new ChecksumS3();
  beforeAll(() => checking.start());
  afterAll(() => checking.stop());
  beforeEach(() => {
    checking.refusals.length = 0;
    checking.connections = 0;
    checking.expectContinueRequests = 0;
  });

  /**
   * One upload at a time, at most two requests in flight (a part filling while the one before it is
   * sent): kept-alive connections serve them all. With the SDK's default `Expect: 100-continue`, each
   * body of 2 MB or more would have opened a connection of its own.
   */
  function expectOneKeptAliveConnectionPerConcurrentRequest(): void {
    expect(checking.expectContinueRequests).toBe(0);
    expect(checking.connections).toBeGreaterThan(0);
    expect(checking.connections).toBeLessThanOrEqual(2);
  }

  const shapes = [
    { name: 'below a part, in chunks', chunks: Array.from({ length: 10 }, () => randomBytes(100_000)) },
    { name: 'exactly one part', chunks: [randomBytes(5 * MiB)] },
    { name: 'three parts', chunks: Array.from({ length: 12 }, () => randomBytes(MiB)) },
  ];

  it('stores every shape through a client with the SDK\'s default checksums, as the functions build theirs, on kept-alive connections', async () => {
    const client = new S3Client({ ...S3_CLIENT_OPTIONS, region: 'us-east-1', credentials: { ...S3RVER_CREDENTIALS }, endpoint: checking.endpoint, forcePathStyle: true });
    const store = new S3BlobStore(client, checking.bucket, { partSizeBytes: 5 * MiB });
    for (const { name, chunks } of shapes) {
      await store.put(`default/${name}`, Readable.from(chunks));
      expect(sha256(checking.objects.get(`default/${name}`) ?? Buffer.alloc(0))).toBe(sha256(Buffer.concat(chunks)));
    }
    expect(checking.refusals).toEqual([]);
    expectOneKeptAliveConnectionPerConcurrentRequest();
  });

  it('stores every shape through the local stack\'s client, which sends checksums only where S3 requires them, on kept-alive connections', async () => {
    const store = new S3BlobStore(makeS3Client({ endpoint: checking.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS }), checking.bucket, { partSizeBytes: 5 * MiB });
    for (const { name, chunks } of shapes) {
      await store.put(`local/${name}`, Readable.from(chunks));
      expect(sha256(await buffer(await store.get(`local/${name}`)))).toBe(sha256(Buffer.concat(chunks)));
    }
    expect(checking.refusals).toEqual([]);
    expectOneKeptAliveConnectionPerConcurrentRequest();
  });
});

describe('S3BlobStore on a versioned bucket (wire-format fake)', () => {
  const fake = new VersionedS3();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('deletes every version and delete marker of each key, and nothing of its neighbours', async () => {
    const client = makeS3Client({ endpoint: fake.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const plain = new S3BlobStore(client, fake.bucket);
    const versioned = new S3BlobStore(client, fake.bucket, { versioned: true });
    await plain.put('v/a', Buffer.from('a1'));
    await plain.put('v/a', Buffer.from('a2'));
    await plain.put('v/b', Buffer.from('b1'));
    await plain.delete(['v/b']); // a delete marker over b1
    await plain.put('v/a0', Buffer.from('neighbour'));
    expect(fake.remaining('v/')).toBe(5);

    await versioned.delete(['v/a', 'v/b', 'v/absent']);
    expect(fake.objects.has('v/a')).toBe(false);
    expect(fake.objects.has('v/b')).toBe(false);
    expect(fake.remaining('v/')).toBe(1);
    expect((await buffer(await versioned.get('v/a0'))).toString()).toBe('neighbour');
    client.destroy();
  });
});

describe('startS3rver', () => {
  it('keeps the data across a stop and a start on the same directory', async () => {
    const persistDir = join(dir, 'persist');
    const first = await startS3rver({ dir: persistDir, bucket: 'persisted' });
    const client1 = makeS3Client({ endpoint: first.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
    await new S3BlobStore(client1, first.bucket).put('kept/object', Buffer.from('still here'));
    client1.destroy();
    await first.stop();

    const second = await startS3rver({ dir: persistDir, bucket: 'persisted' });
    try {
      expect(second.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client2 = makeS3Client({ endpoint: second.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
      expect((await buffer(await new S3BlobStore(client2, second.bucket).get('kept/object'))).toString()).toBe('still here');
      client2.destroy();
    } finally {
      await second.stop();
    }
  });

  it('names the default bucket and refuses an invalid bucket name', async () => {
    expect(s3.bucket).toBe('mail2ticket-local');
    await expect(startS3rver({ dir: join(dir, 'bad'), bucket: 'ab' })).rejects.toThrow(/invalid bucket name/);
  });
});
