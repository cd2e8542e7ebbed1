// Streams an object of unknown length into S3. The first part's worth of bytes is held as the chunks
// it arrives in: an object smaller than a part goes up in one PutObject of those chunks, never copied.
// A larger one goes up in a multipart upload through two part buffers reused for the whole upload (one
// fills while the other is in flight), aborted on any failure so no parts are left behind. Where the
// client checksums uploads (the SDK's default, as the functions build theirs), both paths give S3 the
// CRC32s it then requires (tests/fakes/checksum-s3.ts holds them to S3's rules).
//
// Not lib-storage's Upload, which this replaced: it concatenated every part into a buffer of its own,
// so what an upload held depended on when the garbage collector freed the parts already sent, and
// grew with the object's length (ingesting a 25 MB attachment, four fresh processes, 3 December 2026:
// 20.1-25.8 MB of RSS growth; 100 MB: 21.4-28.6 MB; through two reused buffers 17.7-21.2 and
// 20.1-22.4). Here the parts take two buffers per upload, whatever its size.
//
// Why the small object is not copied into a part buffer: copying a message's chunks into a freshly
// allocated 5 MB buffer and sending it cost this machine 24-32 ms of CPU per 4 MB, sending the same
// chunks as they came 9 ms (3 December 2026). Ingest uploads two such objects a message.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/** S3 numbers parts 1 to 10,000. */
const MAX_PARTS = 10_000;

export interface StreamUploadTarget {
  Bucket: string;
  Key: string;
}

export async function uploadStream(client: S3Client, target: StreamUploadTarget, body: Readable, partSize: number): Promise<void> {
  const upload = new PartedUpload(client, target, partSize);
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) await upload.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    await upload.end();
  } catch (error) {
    await upload.abort();
    throw error;
  }
}

class PartedUpload {
  /** The first part's bytes as they came, until the object proves larger than a part. */
  private held: Uint8Array[] | undefined = [];
  private heldBytes = 0;
  /** Allocated only once the object is larger than a part. */
  private readonly buffers: Buffer[] = [];
  private current = 0;
  private filled = 0;
  private uploadId: string | undefined;
  private readonly parts: CompletedPart[] = [];
  private inFlight: Promise<void> | undefined;
  private checksums: Promise<boolean> | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly target: StreamUploadTarget,
    private readonly partSize: number,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.held) {
      if (this.heldBytes + chunk.length <= this.partSize) {
        this.held.push(chunk);
        this.heldBytes += chunk.length;
        return;
      }
      // Larger than a part: what was held becomes the start of the first part buffer.
      const held = this.held;
      this.held = undefined;
      for (const piece of held) this.copyIn(piece);
    }
    let offset = 0;
    while (offset < chunk.length) {
      // A full buffer is sent only once more bytes follow: it is then not the last part.
      if (this.filled === this.partSize) await this.sendCurrent();
      offset += this.copyIn(chunk.subarray(offset));
    }
  }

  async end(): Promise<void> {
    if (this.held) {
      // A client that computes checksums cannot compute one over the held chunks itself: it is
      // given the CRC32 it would have sent for them as one buffer.
      const checksum = (await this.computesChecksums()) ? crc32Base64(this.held) : undefined;
      await this.client.send(heldPutObject(this.target, this.held, this.heldBytes, checksum));
      return;
    }
    // Past the held part, the bytes that did not fit it have started the multipart upload.
    if (this.filled > 0) await this.sendCurrent();
    await this.inFlight;
    // In part order by construction: each part takes its slot when it is sent.
    await this.client.send(new CompleteMultipartUploadCommand({ ...this.target, UploadId: this.uploadId, MultipartUpload: { Parts: this.parts } }));
  }

  /** Abandons the multipart upload, if one was started; its own failure is not the one to report. */
  async abort(): Promise<void> {
    // A part still in flight settles first, so no part lands after the abort.
    await this.inFlight?.catch(() => undefined);
    if (this.uploadId === undefined) return;
    await this.client.send(new AbortMultipartUploadCommand({ ...this.target, UploadId: this.uploadId })).catch(() => undefined);
  }

  /** Sends the current buffer as the next part, once the previous part has landed, and switches buffers. */
  private async sendCurrent(): Promise<void> {
    await this.inFlight;
    if (this.uploadId === undefined) {
      // Parts the client checksums must belong to an upload created for that algorithm, and the
      // completion must name each part's checksum; S3 refuses either otherwise (lib-storage does the same).
      const ChecksumAlgorithm = (await this.computesChecksums()) ? 'CRC32' : undefined;
      this.uploadId = (await this.client.send(new CreateMultipartUploadCommand({ ...this.target, ChecksumAlgorithm }))).UploadId;
      if (this.uploadId === undefined) throw new Error('S3 started a multipart upload without an upload id');
    }
    const PartNumber = this.parts.length + 1;
    if (PartNumber > MAX_PARTS) throw new Error(`an object of more than ${MAX_PARTS} parts of ${this.partSize} bytes cannot be stored`);
    const Body = this.buffer(this.current).subarray(0, this.filled);
    const UploadId = this.uploadId;
    this.parts.push({ PartNumber });
    // Awaited before the next part and at the end; a failure meanwhile is held until then.
    this.inFlight = this.client.send(new UploadPartCommand({ ...this.target, UploadId, PartNumber, Body, ContentLength: Body.length })).then(({ ETag, ChecksumCRC32 }) => {
      this.parts[PartNumber - 1] = { PartNumber, ETag, ...(ChecksumCRC32 ? { ChecksumCRC32 } : {}) };
    });
    this.inFlight.catch(() => undefined);
    this.current = 1 - this.current;
    this.filled = 0;
  }

  /**
   * Whether the client checksums uploads: the SDK's default, which the functions keep (S3 checks every
   * byte it receives); the local stack's client asks only for the checksums S3 requires.
   */
  private computesChecksums(): Promise<boolean> {
    this.checksums ??= this.client.config.requestChecksumCalculation().then((mode) => mode === 'WHEN_SUPPORTED');
    return this.checksums;
  }

  /** Copies as much of `bytes` as the current buffer takes; returns how much that was. */
  private copyIn(bytes: Uint8Array): number {
    const length = Math.min(bytes.length, this.partSize - this.filled);
    this.buffer(this.current).set(bytes.subarray(0, length), this.filled);
    this.filled += length;
    return length;
  }

  private buffer(index: number): Buffer {
    return (this.buffers[index] ??= Buffer.allocUnsafe(this.partSize));
  }
}

/**
 * A PutObject of the held chunks. The SDK retries a request only when its body can be sent again,
 * which a stream cannot: the body stays a list of chunks through the middleware stack, and each
 * attempt (below the retry middleware) gets a fresh stream of it.
 */
function heldPutObject(target: StreamUploadTarget, chunks: readonly Uint8Array[], length: number, checksumCrc32: string | undefined): PutObjectCommand {
  const held = new HeldChunks(chunks);
  const command = new PutObjectCommand({
    ...target,
    // The SDK's input type lists the bodies it can send; the held chunks never reach it as they are.
    Body: held as unknown as Uint8Array,
    ContentLength: length,
    ...(checksumCrc32 ? { ChecksumCRC32: checksumCrc32 } : {}),
  });
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown };
      if (!(request.body instanceof HeldChunks)) return next(args);
      return next({ ...args, request: Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, { body: held.stream() }) });
    },
    { step: 'deserialize', name: 'mail2ticketHeldChunksPerAttempt', priority: 'low' },
  );
  return command;
}

class HeldChunks {
  constructor(private readonly chunks: readonly Uint8Array[]) {}

  stream(): Readable {
    return Readable.from(this.chunks, { objectMode: false });
  }
}

/** S3's CRC32 (IEEE, as zlib computes it) of the chunks taken as one, base64 of its 4 big-endian bytes. */
function crc32Base64(chunks: readonly Uint8Array[]): string {
  let value = 0;
  for (const chunk of chunks) value = crc32(chunk, value);
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}
