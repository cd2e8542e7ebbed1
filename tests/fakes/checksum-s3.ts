// One S3 bucket speaking the REST wire format for uploads (PutObject, CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload) and GetObject, and holding them to S3's rules on
// CRC32 checksums, which s3rver ignores: a checksum that does not match its body is refused
// (BadDigest); a part's checksum must be of the algorithm its upload was created with, and an upload
// created with one must name each part's checksum when it completes (InvalidRequest, worded as S3
// words them: apache/opendal#4533, apache/arrow-rs#6793, versity/versitygw#1342). So the real
// @aws-sdk/client-s3, configured as the functions configure it (the SDK's default checksums), can
// prove what S3 would accept. aws-chunked bodies (a checksum trailer on a stream) are refused outright:
// the BlobStore must never send one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { BufferedHttpFake } from './buffered-http-fake.js';

interface Upload {
  key: string;
  algorithm: string | undefined;
  parts: Map<number, { body: Buffer; etag: string; checksum: string | undefined }>;
}

const crc32Base64 = (body: Buffer) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc32(body) >>> 0);
  return bytes.toString('base64');
};

export class ChecksumS3 extends BufferedHttpFake {
  readonly objects = new Map<string, Buffer>();
  /** Refusals sent, by code: a test reads why a request failed here. */
  readonly refusals: string[] = [];
  private readonly uploads = new Map<string, Upload>();
  private nextUpload = 0;

  constructor(readonly bucket = 'checksum-bucket') {
    super();
  }

  protected handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = decodeURIComponent(url.pathname.slice(`/${this.bucket}/`.length));
    const refuse = (status: number, code: string, message: string) => {
      this.refusals.push(code);
      res.writeHead(status, { 'content-type': 'application/xml' }).end(`<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    if (String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) return refuse(501, 'NotImplemented', 'aws-chunked bodies are not accepted here');
    const checksum = req.headers['x-amz-checksum-crc32'] as string | undefined;
    const otherChecksum = Object.keys(req.headers).find((h) => h.startsWith('x-amz-checksum-') && !['x-amz-checksum-crc32', 'x-amz-checksum-algorithm', 'x-amz-checksum-type', 'x-amz-checksum-mode'].includes(h));
    if (otherChecksum) return refuse(501, 'NotImplemented', `${otherChecksum} is not checked here`);
    if (checksum !== undefined && checksum !== crc32Base64(body)) return refuse(400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    const echo = checksum === undefined ? {} : { 'x-amz-checksum-crc32': checksum };

    if (req.method === 'POST' && url.searchParams.has('uploads')) {
      const uploadId = `upload-${++this.nextUpload}`;
      const algorithm = (req.headers['x-amz-checksum-algorithm'] as string | undefined)?.toUpperCase();
      this.uploads.set(uploadId, { key, algorithm, parts: new Map() });
      return void res
        .writeHead(200, { 'content-type': 'application/xml', ...(algorithm ? { 'x-amz-checksum-algorithm': algorithm } : {}) })
        .end(`<InitiateMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
    }
    const uploadId = url.searchParams.get('uploadId');
    if (uploadId !== null) {
      const upload = this.uploads.get(uploadId);
      if (!upload || upload.key !== key) return refuse(404, 'NoSuchUpload', 'The specified upload does not exist.');
      if (req.method === 'PUT') {
        const partType = checksum === undefined ? 'null' : 'crc32';
        const uploadType = upload.algorithm === undefined ? 'null' : upload.algorithm.toLowerCase();
        if (partType !== uploadType) return refuse(400, 'InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${uploadType}, actual checksum Type: ${partType}`);
        const partNumber = Number(url.searchParams.get('partNumber'));
        const etag = `"${uploadId}-${partNumber}"`;
        upload.parts.set(partNumber, { body, etag, checksum });
        return void res.writeHead(200, { etag, ...echo }).end();
      }
      if (req.method === 'DELETE') {
        this.uploads.delete(uploadId);
        return void res.writeHead(204).end();
      }
      if (req.method === 'POST') {
        const listed = [...body.toString().matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, part = '']) => ({
          partNumber: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(part)?.[1]),
          etag: /<ETag>([^<]*)<\/ETag>/.exec(part)?.[1]?.replace(/&quot;/g, '"'),
          checksum: /<ChecksumCRC32>([^<]*)<\/ChecksumCRC32>/.exec(part)?.[1],
        }));
        const bodies: Buffer[] = [];
        for (const part of listed) {
          const stored = upload.parts.get(part.partNumber);
          if (!stored || stored.etag !== part.etag) return refuse(400, 'InvalidPart', 'One or more of the specified parts could not be found.');
          if (upload.algorithm !== undefined && part.checksum === undefined) {
            return refuse(400, 'InvalidRequest', `The upload was created using a ${upload.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${part.partNumber} in the request.`);
          }
          if (part.checksum !== undefined && part.checksum !== stored.checksum) return refuse(400, 'InvalidPart', `The checksum of part ${part.partNumber} does not match.`);
          bodies.push(stored.body);
        }
        this.objects.set(key, Buffer.concat(bodies));
        this.uploads.delete(uploadId);
        return void res
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(`<CompleteMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${key}</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>`);
      }
    }
    if (req.method === 'PUT') {
      this.objects.set(key, body);
      return void res.writeHead(200, { etag: '"x"', ...echo }).end();
    }
    if (req.method === 'GET' && key) {
      const stored = this.objects.get(key);
      if (!stored) return refuse(404, 'NoSuchKey', 'The specified key does not exist.');
      return void res.writeHead(200, { 'content-length': String(stored.length) }).end(stored);
    }
    refuse(400, 'NotImplemented', 'not in this fake');
  }
}
