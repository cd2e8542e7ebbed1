// BlobStore on S3. Streams go up through uploadStream (one PutObject when small, multipart through two
// reused part buffers when large, so memory stays flat whatever the size); deletes batch 1000 keys and,
// on a versioned bucket, remove every version and delete marker so nothing of a purged key survives.
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  type ObjectIdentifier,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { BlobNotFound, DependencyUnavailable } from '../../domain/errors.js';
import type { BlobStore } from '../../domain/ports.js';
import { isTransientAwsError } from './aws-errors.js';
import { uploadStream } from './stream-upload.js';

export interface S3BlobStoreOptions {
  /** Delete every version and delete marker of a key (the production bucket is versioned). */
  versioned?: boolean;
  /** Multipart part size, 5 MiB (S3's minimum) by default; streams below it go up in one PutObject. */
  partSizeBytes?: number;
}

/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;
/** Version listings run this many keys at a time: a purge of thousands of keys is not serial. */
const LIST_VERSIONS_CONCURRENCY = 8;
const MIN_PART_SIZE = 5 * 1024 * 1024;

export class S3BlobStore implements BlobStore {
  private readonly versioned: boolean;
  private readonly partSize: number;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    options: S3BlobStoreOptions = {},
  ) {
    this.versioned = options.versioned ?? false;
    this.partSize = Math.max(MIN_PART_SIZE, options.partSizeBytes ?? MIN_PART_SIZE);
  }

  async put(key: string, body: Readable | Uint8Array): Promise<void> {
    if (body instanceof Uint8Array) {
      await call(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body })), key);
      return;
    }
    try {
      // Two parts of memory per upload; the ingest pass uploads a raw message and an attachment at
      // once, so it holds four.
      await call(() => uploadStream(this.client, { Bucket: this.bucket, Key: key }, body, this.partSize), key);
    } catch (error) {
      // Whoever writes into `body` (the ingest tee) must see the failure instead of waiting forever
      // on a stream nobody reads any more.
      body.destroy(error as Error);
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    const out = await call(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })), key);
    // In Node the SDK's body is the HTTP response, a Readable.
    if (!(out.Body instanceof Readable)) throw new DependencyUnavailable('S3 returned no readable body');
    return out.Body;
  }

  async delete(keys: readonly string[]): Promise<void> {
    const objects = this.versioned ? (await mapLimit([...new Set(keys)], LIST_VERSIONS_CONCURRENCY, (key) => this.versionsOf(key))).flat() : [...new Set(keys)].map((Key) => ({ Key }));
    for (let i = 0; i < objects.length; i += DELETE_BATCH) {
      const batch = objects.slice(i, i + DELETE_BATCH);
      const out = await call(() => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } })));
      // Per-key failures come back in a 200 response; never report a delete that did not happen.
      if (out.Errors?.length) throw new DependencyUnavailable(`${out.Errors.length} of ${batch.length} object(s) could not be deleted (first: ${out.Errors[0]?.Code ?? 'unknown'})`);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }> {
    let ContinuationToken: string | undefined;
    do {
      const out = await call(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken })));
      for (const object of out.Contents ?? []) {
        if (object.Key) yield { key: object.Key, lastModified: object.LastModified ?? new Date(0) };
      }
      ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  private async versionsOf(key: string): Promise<ObjectIdentifier[]> {
    const found: ObjectIdentifier[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    do {
      const out = await call(() => this.client.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key, KeyMarker, VersionIdMarker })));
      for (const v of [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]) {
        // A prefix listing also returns longer keys (`…/01` lists `…/010`): only this exact key goes.
        if (v.Key === key && v.VersionId) found.push({ Key: key, VersionId: v.VersionId });
      }
      KeyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      VersionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
    } while (KeyMarker);
    return found;
  }
}

async function call<T>(request: () => Promise<T>, key?: string): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'NoSuchKey' || name === 'NotFound') throw new BlobNotFound(`no object at ${key ?? 'that key'}`, { cause: error });
    if (isTransientAwsError(error)) throw new DependencyUnavailable('S3 is unavailable', { cause: error });
    throw error;
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface S3ClientOptions {
  /** An S3-compatible endpoint (s3rver, a fake); path-style addressing is used with it. */
  endpoint?: string;
  region: string;
  credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

/**
 * What every S3 client of ours is built with, in the functions and locally alike.
 *
 * `Expect: 100-continue` off. The SDK sends it by default on every body of 2 MB or more (raw mail,
 * large attachments, every 5 MiB part) and sends each such request on a connection of its own
 * (the Node handler gives it a fresh agent with keep-alive off): a new TCP and TLS handshake per
 * large upload, plus a round trip waiting for `100 Continue`. What the header buys — S3 refusing a
 * request before its body is sent — saves at most one part (5 MiB) inside a region, and a refused
 * request is retried or fails all the same. aws/aws-sdk-js-v3#7450 made it configurable.
 */
export const S3_CLIENT_OPTIONS = Object.freeze({ expectContinueHeader: false });

export function makeS3Client(options: S3ClientOptions): S3Client {
  const client = new S3Client({
    ...S3_CLIENT_OPTIONS,
    region: options.region,
    // A copy: the SDK annotates the credentials object it is given (and would fail on a frozen one).
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    // Checksums only where S3 requires them: local S3-compatible servers don't speak the newer
    // default (CRC32 trailers), and the objects are authenticated by their AES-GCM tags anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  useUnsignedPayloadForObjects(client);
  return client;
}

/**
 * SigV4 would hash every uploaded byte once more to sign the body. Our objects are AES-GCM
 * ciphertexts (tampering fails their authentication tag) and travel over TLS, so the body is sent
 * as UNSIGNED-PAYLOAD, which S3 accepts; headers are still signed.
 */
function useUnsignedPayloadForObjects(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutObjectCommand' || context.commandName === 'UploadPartCommand') {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'mail2ticketUnsignedObjectPayload' },
  );
}
