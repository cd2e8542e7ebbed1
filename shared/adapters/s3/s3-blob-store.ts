// BlobStore on S3. Streams go up through lib-storage's Upload (one PutObject when small, multipart
// with a small queue when large, so memory stays flat); deletes batch 1000 keys and, on a versioned
// bucket, remove every version and delete marker so nothing of a purged key survives.
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type ObjectIdentifier,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { BlobNotFound, DependencyUnavailable } from '../../domain/errors.js';
import type { BlobStore } from '../../domain/ports.js';

export interface S3BlobStoreOptions {
  /** Delete every version and delete marker of a key (the production bucket is versioned). */
  versioned?: boolean;
  partSizeBytes?: number;
}

const DELETE_BATCH = 1000;

export class S3BlobStore implements BlobStore {
  private readonly versioned: boolean;
  private readonly partSize: number;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    options: S3BlobStoreOptions = {},
  ) {
    this.versioned = options.versioned ?? false;
    // S3's minimum part size, one part in flight: a raw message and its attachment upload at once, so
    // this bounds memory at about four parts whatever the message size.
    this.partSize = options.partSizeBytes ?? 5 * 1024 * 1024;
  }

  async put(key: string, body: Readable | Uint8Array): Promise<void> {
    if (body instanceof Uint8Array) {
      await call(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body })));
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body },
      partSize: this.partSize,
      queueSize: 1,
      leavePartsOnError: false, // aborts the multipart upload on failure
    });
    await call(() => upload.done());
  }

  async get(key: string): Promise<Readable> {
    const out = await call(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })), key);
    return out.Body as Readable;
  }

  async delete(keys: readonly string[]): Promise<void> {
    const objects: ObjectIdentifier[] = [];
    for (const key of keys) {
      if (this.versioned) objects.push(...(await this.versionsOf(key)));
      else objects.push({ Key: key });
    }
    for (let i = 0; i < objects.length; i += DELETE_BATCH) {
      const batch = objects.slice(i, i + DELETE_BATCH);
      const out = await call(() => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } })));
      if (out.Errors?.length) throw new DependencyUnavailable(`${out.Errors.length} object(s) could not be deleted`);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }> {
    let ContinuationToken: string | undefined;
    do {
      const out = await call(() =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(ContinuationToken ? { ContinuationToken } : {}) })),
      );
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
      const out = await call(() =>
        this.client.send(
          new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key, ...(KeyMarker ? { KeyMarker } : {}), ...(VersionIdMarker ? { VersionIdMarker } : {}) }),
        ),
      );
      for (const v of [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]) {
        // Prefix listing also returns longer keys; only this exact key's versions go.
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
    if (error instanceof NoSuchKey || (error as { name?: string })?.name === 'NoSuchKey') {
      throw new BlobNotFound(`no object at ${key ?? 'that key'}`, { cause: error });
    }
    const fault = (error as { $fault?: string })?.$fault;
    if (fault === 'server' || /ECONNREFUSED|ECONNRESET|socket|Timeout/i.test(String(error))) {
      throw new DependencyUnavailable('S3 is unavailable', { cause: error });
    }
    throw error;
  }
}

export function makeS3Client(options: { endpoint?: string; region: string; credentials?: { accessKeyId: string; secretAccessKey: string } }): S3Client {
  const client = new S3Client({
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
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
