// A versioning S3 bucket speaking the REST wire format for the calls the BlobStore makes (PutObject,
// GetObject, DeleteObject, DeleteObjects, ListObjectsV2, ListObjectVersions), so the real
// @aws-sdk/client-s3 can prove that a purge removes every version and delete marker.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BufferedHttpFake } from './buffered-http-fake.js';

interface Version {
  versionId: string;
  body: Buffer | null; // null: a delete marker
  lastModified: Date;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class VersionedS3 extends BufferedHttpFake {
  readonly objects = new Map<string, Version[]>();

  constructor(readonly bucket = 'versioned-bucket') {
    super();
  }

  /** Versions and delete markers left under a prefix. */
  remaining(prefix = ''): number {
    let n = 0;
    for (const [key, versions] of this.objects) if (key.startsWith(prefix)) n += versions.length;
    return n;
  }

  protected handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = decodeURIComponent(url.pathname.slice(`/${this.bucket}/`.length));
    const send = (status: number, payload = '') => res.writeHead(status, { 'content-type': 'application/xml' }).end(payload);
    if (req.method === 'PUT') {
      this.add(key, body);
      return void res.writeHead(200, { etag: '"x"' }).end();
    }
    if (req.method === 'GET' && key) {
      const latest = this.objects.get(key)?.at(-1);
      if (!latest?.body) return send(404, '<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>');
      return void res.writeHead(200, { 'content-length': String(latest.body.length) }).end(latest.body);
    }
    if (req.method === 'DELETE' && key) {
      this.add(key, null);
      return void res.writeHead(204).end();
    }
    if (req.method === 'POST' && url.searchParams.has('delete')) {
      for (const [, k, v] of body.toString().matchAll(/<Key>([^<]*)<\/Key>(?:\s*<VersionId>([^<]*)<\/VersionId>)?/g)) {
        const objectKey = (k ?? '').replace(/&amp;/g, '&');
        if (v) {
          const left = (this.objects.get(objectKey) ?? []).filter((version) => version.versionId !== v);
          if (left.length) this.objects.set(objectKey, left);
          else this.objects.delete(objectKey);
        } else this.add(objectKey, null);
      }
      return send(200, '<DeleteResult></DeleteResult>');
    }
    if (req.method === 'GET' && url.searchParams.has('versions')) {
      const prefix = url.searchParams.get('prefix') ?? '';
      let entries = '';
      for (const [k, versions] of [...this.objects].filter(([k]) => k.startsWith(prefix))) {
        for (const v of versions) {
          const tag = v.body ? 'Version' : 'DeleteMarker';
          entries += `<${tag}><Key>${xml(k)}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${v === versions.at(-1)}</IsLatest><LastModified>${v.lastModified.toISOString()}</LastModified></${tag}>`;
        }
      }
      return send(200, `<ListVersionsResult><Name>${this.bucket}</Name><Prefix>${xml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${entries}</ListVersionsResult>`);
    }
    if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const live = [...this.objects].filter(([k, v]) => k.startsWith(prefix) && v.at(-1)?.body);
      const contents = live.map(([k, v]) => `<Contents><Key>${xml(k)}</Key><LastModified>${v.at(-1)?.lastModified.toISOString()}</LastModified><Size>${v.at(-1)?.body?.length}</Size></Contents>`).join('');
      return send(200, `<ListBucketResult><Name>${this.bucket}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${live.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`);
    }
    send(400, '<Error><Code>NotImplemented</Code><Message>not in this fake</Message></Error>');
  }

  private add(key: string, body: Buffer | null): void {
    const versions = this.objects.get(key) ?? [];
    versions.push({ versionId: randomBytes(8).toString('hex'), body, lastModified: new Date() });
    this.objects.set(key, versions);
  }
}
