// The definitions-update job's handler against s3rver: the bucket's definitions come down, freshclam
// runs over them, what changed goes back up with a manifest, and definitions_age_hours is published
// after every run. ClamAV's mirror is unreachable from this machine, so:
// - the failure path runs the REAL freshclam against a local HTTP mirror that answers 404;
// - the success path uses a stand-in for the mirror's effect (writing the containers freshclam would
//   leave, with real CVD headers), since a real CVD cannot be made without ClamAV's signing key.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DefinitionsUpdateFailed, makeHandler } from '../../functions/definitions-update/make-handler.js';
import { UNKNOWN_AGE_HOURS, type DefinitionsFetcher } from '../../shared/adapters/clamav/definitions.js';
import { FreshclamRunner } from '../../shared/adapters/clamav/freshclam.js';
import { RecordedScannerMetrics } from '../../shared/adapters/clamav/scanner-metrics.js';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../../shared/local/s3rver.js';

const HOUR = 3_600_000;
const NOW = new Date('2026-12-02T12:00:00Z');
const clock = { now: () => new Date(NOW) };

let dir: string;
let s3: RunningS3rver;
let blobs: S3BlobStore;
let bucketNo = 0;
let workDir: string;

/** A definitions container: the 512-byte header ClamAV writes (build time as stime), then a body. */
function container(version: number, builtAt: Date): Buffer {
  const stime = Math.floor(builtAt.getTime() / 1000);
  const header = `ClamAV-VDB:${builtAt.toUTCString().slice(5, 22).replace(':', '-')} +0000:${version}:${1000 + version}:90:${'0'.repeat(32)}:X:m2t:${stime}`;
  return Buffer.concat([Buffer.from(header.padEnd(512, ' '), 'latin1'), Buffer.from(`body of version ${version}`)]);
}

const MAIN = container(62, new Date(NOW.getTime() - 40 * 24 * HOUR));
const DAILY_OLD = container(27000, new Date(NOW.getTime() - 30 * HOUR));
const DAILY_NEW = container(27001, new Date(NOW.getTime() - 2 * HOUR));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2t-definitions-'));
  s3 = await startS3rver({ dir: join(dir, 's3') });
});
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  // A fresh bucket per test: the bucket as the last successful run left it.
  blobs = await createBucket(`definitions-${++bucketNo}`);
  workDir = await mkdtemp(join(dir, 'work-'));
});

async function createBucket(bucket: string): Promise<S3BlobStore> {
  const client = makeS3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return new S3BlobStore(client, bucket);
}

async function seed(options: { manifest?: boolean } = {}): Promise<void> {
  await blobs.put('clamav/main.cvd', MAIN);
  await blobs.put('clamav/daily.cvd', DAILY_OLD);
  if (options.manifest !== false) {
    const manifest = { updatedAt: new Date(NOW.getTime() - 29 * HOUR).toISOString(), builtAt: new Date(NOW.getTime() - 30 * HOUR).toISOString(), files: [] };
    await blobs.put('clamav/manifest.json', Buffer.from(JSON.stringify(manifest)));
  }
}

async function bucketKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of blobs.list('clamav/')) keys.push(key);
  return keys.sort();
}

async function object(key: string): Promise<Buffer> {
  return buffer(await blobs.get(key));
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Stands in for the unreachable mirror: leaves in the directory what freshclam leaves after a daily diff. */
class DailyDiffStandIn implements DefinitionsFetcher {
  found: string[] = [];
  async update(databaseDir: string): Promise<void> {
    this.found = (await readdir(databaseDir)).sort();
    await writeFile(join(databaseDir, 'daily.cld'), DAILY_NEW);
    await rm(join(databaseDir, 'daily.cvd'));
  }
}

describe('definitions-update handler', () => {
  it('uploads only what freshclam changed, removes what it replaced, writes the manifest and publishes the age', async () => {
    await seed();
    const fetcher = new DailyDiffStandIn();
    const metrics = new RecordedScannerMetrics();
    const result = await makeHandler({ blobs, fetcher, clock, workDir, metrics })({});

    // freshclam found the bucket's definitions in its directory: it fetches only diffs.
    expect(fetcher.found).toEqual(['daily.cvd', 'main.cvd']);
    expect(result).toEqual({ uploaded: ['daily.cld'], removed: ['daily.cvd'], ageHours: 2 });
    expect(await bucketKeys()).toEqual(['clamav/daily.cld', 'clamav/main.cvd', 'clamav/manifest.json']);
    expect(await object('clamav/daily.cld')).toEqual(DAILY_NEW);
    expect(await object('clamav/main.cvd')).toEqual(MAIN);
    expect(JSON.parse((await object('clamav/manifest.json')).toString())).toEqual({
      updatedAt: NOW.toISOString(),
      builtAt: new Date(NOW.getTime() - 2 * HOUR).toISOString(),
      files: [
        { name: 'daily.cld', sha256: sha256(DAILY_NEW), size: DAILY_NEW.length },
        { name: 'main.cvd', sha256: sha256(MAIN), size: MAIN.length },
      ],
    });
    expect(metrics.gauges.get('definitions_age_hours')).toEqual([2]);
    expect(metrics.flushes).toBe(1);
  });

  it('uploads nothing when freshclam finds the definitions current, and still refreshes the manifest', async () => {
    await seed();
    const upToDate: DefinitionsFetcher = { update: async () => undefined };
    const metrics = new RecordedScannerMetrics();
    const result = await makeHandler({ blobs, fetcher: upToDate, clock, workDir, metrics })({});
    expect(result).toEqual({ uploaded: [], removed: [], ageHours: 30 });
    expect(JSON.parse((await object('clamav/manifest.json')).toString())).toMatchObject({ updatedAt: NOW.toISOString(), builtAt: new Date(NOW.getTime() - 30 * HOUR).toISOString() });
    expect(metrics.gauges.get('definitions_age_hours')).toEqual([30]);
  });

  describe('with the real freshclam and a mirror that answers 404', () => {
    let mirror: Server;
    let mirrorUrl: string;
    const requested: string[] = [];

    beforeAll(async () => {
      mirror = createServer((req, res) => {
        requested.push(`${req.method} ${req.url}`);
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
      mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => mirror.close(resolve));
    });

    it('fails the run, leaves the bucket as it was and publishes the age of the definitions still in use', async () => {
      await seed();
      const before = await Promise.all((await bucketKeys()).map(async (key) => [key, await object(key)] as const));
      const metrics = new RecordedScannerMetrics();
      const freshclam = new FreshclamRunner({ binary: '/usr/bin/freshclam', workDir, privateMirror: mirrorUrl, maxAttempts: 1, timeoutMs: 60_000 });

      const run = makeHandler({ blobs, fetcher: freshclam, clock, workDir, metrics })({});
      await expect(run).rejects.toBeInstanceOf(DefinitionsUpdateFailed);
      await expect(run).rejects.toThrow(/freshclam exited/);

      expect(requested.some((line) => /^GET \/daily\.(cvd|cld)$/.test(line))).toBe(true);
      const after = await Promise.all((await bucketKeys()).map(async (key) => [key, await object(key)] as const));
      expect(after).toEqual(before);
      // From the manifest already in the bucket: its builtAt, 30 hours ago.
      expect(metrics.gauges.get('definitions_age_hours')).toEqual([30]);
      expect(metrics.flushes).toBe(1);
    }, 60_000);
  });

  it('without a manifest, takes the age of a failed run from the definitions’ own headers', async () => {
    await seed({ manifest: false });
    const metrics = new RecordedScannerMetrics();
    const missing = new FreshclamRunner({ binary: join(dir, 'no-such-freshclam'), workDir });
    await expect(makeHandler({ blobs, fetcher: missing, clock, workDir, metrics })({})).rejects.toThrow(/freshclam exited ENOENT/);
    expect(metrics.gauges.get('definitions_age_hours')).toEqual([30]);
  });

  it('publishes an age far past any alarm when there are no definitions at all', async () => {
    const metrics = new RecordedScannerMetrics();
    const upToDate: DefinitionsFetcher = { update: async () => undefined };
    await expect(makeHandler({ blobs, fetcher: upToDate, clock, workDir, metrics })({})).rejects.toThrow(/no definitions/);
    expect(metrics.gauges.get('definitions_age_hours')).toEqual([UNKNOWN_AGE_HOURS]);
    expect(await bucketKeys()).toEqual([]);
  });
});
