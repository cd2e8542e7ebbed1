// The scanner function's handler (make-handler) with real parts: attachments ingested `pending` by the
// real ingest use-case with DeferredScanner (as in AWS), encrypted through KmsKeyService against the
// wire-level fake KMS into s3rver, the items in dynalite; a REAL clamd started by ClamdDaemon from
// definitions it downloads from s3rver (the test signature database that detects EICAR). The stream
// records are built from the items read back from the table, shaped as DynamoDB delivers them.
// The hourly `rescan-pending` task runs through the same handler, over tenants registered in the real
// consent store, with a clock set ahead of the real one to step past the grace.
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler, RESCAN_PENDING_TASK, type InvocationContext, type ScannerTask } from '../../functions/scanner/make-handler.js';
import { ClamdDaemon } from '../../shared/adapters/clamav/clamd-daemon.js';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { RecordedScannerMetrics } from '../../shared/adapters/clamav/scanner-metrics.js';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { DynamoDbConsentStore } from '../../shared/adapters/dynamodb/dynamodb-consent-store.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { DeferredScanner } from '../../shared/adapters/system/draining-scanners.js';
import { systemClock, ulidIds } from '../../shared/adapters/system/system.js';
import { AttachmentNotServable } from '../../shared/domain/errors.js';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import type { AttachmentRecord } from '../../shared/domain/model.js';
import type { Clock, Scanner } from '../../shared/domain/ports.js';
import { readAttachment, rescanHeldAttachments } from '../../shared/domain/tickets.js';
import { ensureTable, startDynalite, type RunningDynalite } from '../../shared/local/dynalite.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../../shared/local/s3rver.js';
import { FakeKms } from '../fakes/kms.js';
import { mimeMessage } from '../support/mail.js';
import { TEST_ACCESSOR } from '../support/memory.js';

const REGION = 'eu-west-1';
const TABLE = 'mail2ticket-scanner';
const DEFINITIONS_BUCKET = 'mail2ticket-definitions';
const ALIAS_PREFIX = 'alias/mail2ticket/tenant/';
const TENANT = 'acme';
const MAILBOX = 'support';
const SIGNATURES = join(import.meta.dirname, '../../assets/clamav/mail2ticket-local.hdb');
const EICAR = readFileSync(join(import.meta.dirname, '../fixtures/attachments/eicar.com.txt'));
const CLEAN_PDF = readFileSync(join(import.meta.dirname, '../fixtures/attachments/clean.pdf'));
const HOUR = 3_600_000;

let dir: string;
let dynamo: RunningDynalite;
let s3: RunningS3rver;
let kms: FakeKms;
let dynamoClient: DynamoDBClient;
let s3Client: S3Client;
let repo: DynamoDbTicketRepository;
let blobs: S3BlobStore;
let keys: KmsKeyService;
let daemon: ClamdDaemon;
let ingestDeps: IngestDeps;
let consent: DynamoDbConsentStore;
let sequence = 0;
/** How far the scan deps' clock runs ahead of the real one: the rescan's grace is stepped past with it. */
let ahead = 0;
const aheadClock: Clock = { now: () => new Date(Date.now() + ahead) };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2t-scanner-'));
  dynamo = await startDynalite();
  s3 = await startS3rver({ dir: join(dir, 's3') });
  kms = new FakeKms(REGION);
  await kms.start();
  kms.createKey(`${ALIAS_PREFIX}${TENANT}`);
  kms.createKey(`${ALIAS_PREFIX}${TENANT}-index`);

  dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await ensureTable(dynamoClient, TABLE);
  s3Client = makeS3Client({ endpoint: s3.endpoint, region: REGION, credentials: S3RVER_CREDENTIALS });
  await s3Client.send(new CreateBucketCommand({ Bucket: DEFINITIONS_BUCKET }));

  repo = new DynamoDbTicketRepository(dynamoClient, TABLE);
  blobs = new S3BlobStore(s3Client, s3.bucket);
  keys = new KmsKeyService({ kms: new KMSClient({ endpoint: kms.endpoint, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), aliasPrefix: ALIAS_PREFIX });
  ingestDeps = { repo, blobs, keys, scanner: new DeferredScanner(), clock: systemClock, ids: ulidIds(), limits: DEFAULT_LIMITS };
  consent = new DynamoDbConsentStore(dynamoClient, TABLE);
  await repo.putMailbox({ tenantId: TENANT, mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: new Date().toISOString() });

  // What the definitions-update job leaves in the bucket: the databases and a manifest. The test
  // database has no CVD header, so the manifest's updatedAt (5 hours ago) is the definitions' age.
  const definitions = new S3BlobStore(s3Client, DEFINITIONS_BUCKET);
  await definitions.put('clamav/mail2ticket-local.hdb', readFileSync(SIGNATURES));
  await definitions.put('clamav/manifest.json', Buffer.from(JSON.stringify({ updatedAt: new Date(Date.now() - 5 * HOUR).toISOString(), builtAt: null, files: [] })));
  daemon = ClamdDaemon.start({ definitions, workDir: join(dir, 'clamd'), clamdPath: '/usr/sbin/clamd', readyTimeoutMs: 60_000, clock: systemClock });
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  dynamoClient?.destroy();
  s3Client?.destroy();
  await kms?.stop();
  await s3?.stop();
  await dynamo?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** One handler for the file, as one warm Lambda environment has; its metrics are read per invocation. */
let lambda: ReturnType<typeof makeHandler> | undefined;
const published = new RecordedScannerMetrics();

/** What a scan, and the hourly rescan, need: the real adapters, the tenants of the consent store. */
const scanDeps = (scanner: Scanner = daemon.scanner) => ({ repo, blobs, keys, scanner, tenants: consent, clock: aheadClock });

function warmHandler() {
  published.counts.clear();
  published.gauges.clear();
  published.flushes = 0;
  lambda ??= makeHandler({ scan: scanDeps(), ready: () => daemon.ensureRunning(), metrics: published });
  return lambda;
}

function invoke(records: DynamoDBRecord[]) {
  return warmHandler()({ Records: records });
}

/** The scheduled event EventBridge Scheduler delivers (infra/constructs/scanner.ts SCANNER_TASKS). */
function runRescan(context?: InvocationContext) {
  return warmHandler()(RESCAN_PENDING_TASK, context);
}

function mail(subject: string, attachment: { name: string; type: string; bytes: Buffer }): Buffer {
  return mimeMessage({
    messageId: `${subject.replace(/\W/g, '')}-${Date.now()}@customer.example`,
    subject,
    text: 'see attached',
    attachments: [{ filename: attachment.name, contentType: `${attachment.type}; name="${attachment.name}"`, bytes: attachment.bytes }],
  });
}

async function ingestWith(subject: string, attachment: { name: string; type: string; bytes: Buffer }, tenantId = TENANT): Promise<AttachmentRecord> {
  const result = await ingestMessage(ingestDeps, Readable.from([mail(subject, attachment)]), { tenantId, mailboxId: MAILBOX, receivedAt: new Date() });
  expect(result.attachments).toHaveLength(1);
  expect(result.attachments[0]?.scan).toBe('pending');
  const stored = await repo.getAttachment(tenantId, result.attachments[0]?.id as string);
  expect(stored?.scan).toBe('pending');
  return stored as AttachmentRecord;
}

/** The attachment's item as it is in the table, read with the SDK (keys and all). */
async function tableItem(a: AttachmentRecord): Promise<Record<string, AttributeValue>> {
  const out = await dynamoClient.send(
    new ScanCommand({
      TableName: TABLE,
      FilterExpression: 'entity = :entity AND attachmentId = :id',
      ExpressionAttributeValues: { ':entity': { S: 'attachment' }, ':id': { S: a.attachmentId } },
      ConsistentRead: true,
    }),
  );
  const [item, ...others] = out.Items ?? [];
  if (!item || others.length) throw new Error(`expected one item for attachment ${a.attachmentId}`);
  return item;
}

/** A DynamoDB stream record carrying the item as its new image, numbered like a shard's records. */
function streamRecord(item: Record<string, AttributeValue>, eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT'): DynamoDBRecord {
  const SequenceNumber = String(1_000_000 + ++sequence).padStart(21, '0');
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    dynamodb: {
      Keys: { PK: item.PK, SK: item.SK } as never,
      ...(eventName === 'REMOVE' ? { OldImage: item as never } : { NewImage: item as never }),
      SequenceNumber,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const readDeps = () => ({ repo, blobs, keys, audit: new DynamoDbAuditLog(dynamoClient, TABLE), ids: ulidIds(), clock: systemClock });

async function objectExists(key: string): Promise<boolean> {
  try {
    await s3Client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

describe('scanner handler with real clamd, dynalite, s3rver and KMS', () => {
  let clean: AttachmentRecord;
  let infected: AttachmentRecord;

  it('scans pending attachments: clean is served, infected is recorded and its bytes deleted', async () => {
    clean = await ingestWith('clean report', { name: 'report.pdf', type: 'application/pdf', bytes: CLEAN_PDF });
    infected = await ingestWith('infected report', { name: 'eicar.com', type: 'application/octet-stream', bytes: EICAR });
    // Held while pending: never served.
    await expect(readAttachment(readDeps(), TENANT, clean.attachmentId, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);
    expect(await objectExists(infected.blobKey as string)).toBe(true);


    const records = [streamRecord(await tableItem(clean)), streamRecord(await tableItem(infected))];
    expect(await invoke(records)).toEqual({ batchItemFailures: [] });

    const served = await readAttachment(readDeps(), TENANT, clean.attachmentId, TEST_ACCESSOR);
    expect(served.summary.scan).toBe('clean');
    expect(await buffer(served.content)).toEqual(CLEAN_PDF);

    const afterScan = await repo.getAttachment(TENANT, infected.attachmentId);
    expect(afterScan).toMatchObject({ scan: 'infected', scanDetail: 'Eicar-Test-Signature.UNOFFICIAL', blobKey: null });
    expect(await objectExists(infected.blobKey as string)).toBe(false);
    await expect(readAttachment(readDeps(), TENANT, infected.attachmentId, TEST_ACCESSOR)).rejects.toThrow(/infected/);

    expect(published.get('attachments_scanned_clean')).toBe(1);
    expect(published.get('attachments_infected')).toBe(1);
    expect(published.get('scan_errors')).toBe(0);
    // Cold start: the definitions' age (no CVD header here, so the manifest's upload time: 5 h ago).
    expect(published.gauges.get('definitions_age_hours')).toHaveLength(1);
    expect(published.gauges.get('definitions_age_hours')?.[0]).toBeCloseTo(5, 0);
    expect(published.flushes).toBe(1);
  }, 60_000);

  it('does nothing for a re-delivered record of a decided attachment', async () => {

    const before = [await repo.getAttachment(TENANT, clean.attachmentId), await repo.getAttachment(TENANT, infected.attachmentId)];
    // The records as first delivered (their images still say pending), delivered again.
    const records = [streamRecord(pendingImage(clean)), streamRecord(pendingImage(infected))];
    expect(await invoke(records)).toEqual({ batchItemFailures: [] });
    expect([await repo.getAttachment(TENANT, clean.attachmentId), await repo.getAttachment(TENANT, infected.attachmentId)]).toEqual(before);
    expect([...published.counts.values()].reduce((a, b) => a + b, 0)).toBe(0);
    // Not a cold start any more: no second age gauge.
    expect(published.gauges.size).toBe(0);
  });

  it('ignores records that are not pending attachments', async () => {
    const item = await tableItem(clean); // scan: clean
    const removed = streamRecord({ ...(await tableItem(clean)), scan: { S: 'pending' } }, 'REMOVE');
    expect(await invoke([streamRecord(item), streamRecord(item, 'MODIFY'), removed])).toEqual({ batchItemFailures: [] });
    expect(published.counts.size).toBe(0);
  });

  it('scans again when an ingest retry re-puts the item as pending after the verdict (MODIFY)', async () => {
    const decided = (await repo.getAttachment(TENANT, clean.attachmentId)) as AttachmentRecord;
    // writeIngested's idempotent re-put of the same item, as a retry of the ingest write does.
    await repo.updateAttachmentScan({ ...decided, scan: 'pending' });
    await expect(readAttachment(readDeps(), TENANT, clean.attachmentId, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);

    expect(await invoke([streamRecord(await tableItem(clean), 'MODIFY')])).toEqual({ batchItemFailures: [] });
    expect(published.get('attachments_scanned_clean')).toBe(1);
    expect((await readAttachment(readDeps(), TENANT, clean.attachmentId, TEST_ACCESSOR)).summary.scan).toBe('clean');
  }, 30_000);

  it('never resurrects an attachment deleted before its record is processed', async () => {
    const doomed = await ingestWith('to be erased', { name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('nothing to see\n') });
    const record = streamRecord(await tableItem(doomed));
    await repo.deleteMessage({ tenantId: TENANT, ticketId: doomed.ticketId, messageId: doomed.messageId }, [doomed], []);

    expect(await invoke([record])).toEqual({ batchItemFailures: [] });
    expect(await repo.getAttachment(TENANT, doomed.attachmentId)).toBeUndefined();
    expect(await repo.listAttachments(TENANT, doomed.ticketId)).toEqual([]);
  }, 30_000);

  it('reports the record as failed and keeps it pending when clamd is killed, then scans it once clamd is back', async () => {
    const held = await ingestWith('while clamd is down', { name: 'eicar.txt', type: 'text/plain', bytes: EICAR });
    const pid = daemon.pid;
    expect(pid).toBeTypeOf('number');
    process.kill(pid as number, 'SIGKILL');
    await until(() => !daemon.isRunning());
    // Its databases gone too, so the restart before the batch cannot bring it back either.
    const db = join(dir, 'clamd', 'db');
    for (const name of await readdir(db)) await rm(join(db, name));

    const ignored = streamRecord(await tableItem(clean)); // decided: not part of the failure
    const record = streamRecord(await tableItem(held));
    const response = await invoke([ignored, record]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber }] });
    expect(await repo.getAttachment(TENANT, held.attachmentId)).toMatchObject({ scan: 'pending', blobKey: held.blobKey });
    expect(await objectExists(held.blobKey as string)).toBe(true);
    expect(published.get('scan_errors')).toBe(1);
    expect(published.flushes).toBe(1);

    // The stream retries the record: the failed start is tried again from the bucket's definitions.
    expect(await invoke([record])).toEqual({ batchItemFailures: [] });
    expect(await repo.getAttachment(TENANT, held.attachmentId)).toMatchObject({ scan: 'infected', blobKey: null });
    expect(await objectExists(held.blobKey as string)).toBe(false);
    expect(published.get('attachments_infected')).toBe(1);
  }, 90_000);

  it('starts a clamd that died again before the next batch', async () => {
    const held = await ingestWith('after a crash', { name: 'report.pdf', type: 'application/pdf', bytes: CLEAN_PDF });
    const pid = daemon.pid as number;
    process.kill(pid, 'SIGKILL');
    await until(() => !daemon.isRunning());
    expect(await invoke([streamRecord(await tableItem(held))])).toEqual({ batchItemFailures: [] });
    expect(daemon.pid).not.toBe(pid);
    expect(await repo.getAttachment(TENANT, held.attachmentId)).toMatchObject({ scan: 'clean' });
  }, 60_000);

  it('fails a record that gets no verdict, and every later one, so the stream retries from it', async () => {
    const held = await ingestWith('clamd dies between', { name: 'report.pdf', type: 'application/pdf', bytes: CLEAN_PDF });
    // A scanner on a socket nobody listens on: what the running daemon's scanner gives once clamd is gone.
    const metrics = new RecordedScannerMetrics();
    const deadSocket = new ClamdScanner({ socketPath: join(dir, 'nobody.sock') });
    const handler = makeHandler({ scan: scanDeps(deadSocket), ready: () => daemon.ensureRunning(), metrics });
    const record = streamRecord(await tableItem(held));
    const later = streamRecord(await tableItem(clean));
    expect(await handler({ Records: [record, later] })).toEqual({
      batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber }, { itemIdentifier: later.dynamodb?.SequenceNumber }],
    });
    expect(await repo.getAttachment(TENANT, held.attachmentId)).toMatchObject({ scan: 'pending' });
    expect(metrics.get('scan_errors')).toBe(1);
  }, 30_000);

  it('is the same step `attachments rescan` runs on held attachments', async () => {
    const held = await ingestWith('rescan me', { name: 'report.pdf', type: 'application/pdf', bytes: CLEAN_PDF });
    const results = await rescanHeldAttachments({ repo, blobs, keys, scanner: daemon.scanner }, TENANT);
    expect(results).toContainEqual({ attachmentId: held.attachmentId, scan: 'clean' });
    expect((await readAttachment(readDeps(), TENANT, held.attachmentId, TEST_ACCESSOR)).summary.scan).toBe('clean');
  }, 30_000);
});

describe('the hourly rescan of attachments the stream left pending', () => {
  const TENANTS = ['globex', 'initech'] as const;
  const MINUTE = 60_000;
  const PDF = { name: 'report.pdf', type: 'application/pdf', bytes: CLEAN_PDF };
  const deadSocket = () => new ClamdScanner({ socketPath: join(dir, 'nobody.sock') });

  beforeAll(async () => {
    for (const tenantId of TENANTS) {
      kms.createKey(`${ALIAS_PREFIX}${tenantId}`);
      kms.createKey(`${ALIAS_PREFIX}${tenantId}-index`);
      await repo.putMailbox({ tenantId, mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: new Date().toISOString() });
      // As tenant-lifecycle registers every tenant: the rescan's list of tenants.
      expect(await consent.createTenant({ tenantId, name: `${tenantId} Ltd`, createdAt: new Date().toISOString() })).toBe(true);
    }
  });

  afterAll(() => {
    ahead = 0;
  });

  /** Every held attachment of the registered tenants that is pending: what a run could find. */
  async function pendingOfTenants(): Promise<string[]> {
    const held = await Promise.all(TENANTS.map((t) => repo.listHeldAttachments(t)));
    return held.flat().filter((a) => a.scan === 'pending').map((a) => a.attachmentId).sort();
  }

  it('leaves a pending attachment to the stream during the grace, then scans it; never an unscanned one', async () => {
    ahead = 0;
    const clean = await ingestWith('stream gave up on this', PDF, 'initech');
    const infected = await ingestWith('and on this one', { name: 'eicar.com', type: 'application/octet-stream', bytes: EICAR }, 'globex');
    // Its stream batch failed: no clamd answered (every retry, then the failure queue took the records).
    const streamMetrics = new RecordedScannerMetrics();
    const failing = makeHandler({ scan: scanDeps(deadSocket()), ready: () => daemon.ensureRunning(), metrics: streamMetrics });
    const records = [streamRecord(await tableItem(clean)), streamRecord(await tableItem(infected))];
    expect((await failing({ Records: records })).batchItemFailures).toHaveLength(2);
    // Inspected and found uninspectable (say an encrypted archive): held as unscanned, bytes kept. Its
    // bytes are a clean PDF, so a scan would call it clean: it must not be scanned at all.
    const encrypted = await ingestWith('an encrypted archive', PDF, 'initech');
    await repo.updateAttachmentScan({ ...encrypted, scan: 'unscanned', scanDetail: 'encrypted' });
    const unscannedBefore = await repo.getAttachment('initech', encrypted.attachmentId);
    expect(await pendingOfTenants()).toEqual([clean.attachmentId, infected.attachmentId].sort());

    // 10 minutes later: still the stream's.
    ahead = 10 * MINUTE;
    expect(await runRescan()).toEqual({ tenants: 2, rescanned: 0, stillPending: 0, recent: 2, withoutMessage: 0, complete: true });
    expect(published.counts.get('attachments_rescanned')).toBe(0);
    expect(published.counts.get('attachments_still_pending')).toBe(0);
    expect(await pendingOfTenants()).toEqual([clean.attachmentId, infected.attachmentId].sort());

    // Past the 30-minute grace: scanned, each tenant's.
    ahead = 31 * MINUTE;
    expect(await runRescan()).toEqual({ tenants: 2, rescanned: 2, stillPending: 0, recent: 0, withoutMessage: 0, complete: true });
    expect(published.get('attachments_rescanned')).toBe(2);
    expect(published.counts.get('attachments_still_pending')).toBe(0);
    expect(published.get('attachments_scanned_clean')).toBe(1);
    expect(published.get('attachments_infected')).toBe(1);
    expect(published.get('scan_errors')).toBe(0);
    expect(published.flushes).toBe(1);

    const served = await readAttachment(readDeps(), 'initech', clean.attachmentId, TEST_ACCESSOR);
    expect(served.summary.scan).toBe('clean');
    expect(await buffer(served.content)).toEqual(CLEAN_PDF);
    expect(await repo.getAttachment('globex', infected.attachmentId)).toMatchObject({ scan: 'infected', blobKey: null });
    expect(await objectExists(infected.blobKey as string)).toBe(false);
    // The unscanned one: untouched, still held.
    expect(await repo.getAttachment('initech', encrypted.attachmentId)).toEqual(unscannedBefore);
    expect(unscannedBefore).toMatchObject({ scan: 'unscanned', scanDetail: 'encrypted' });
    await expect(readAttachment(readDeps(), 'initech', encrypted.attachmentId, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);

    // Nothing left: the next hour does nothing.
    ahead = 91 * MINUTE;
    expect(await runRescan()).toMatchObject({ rescanned: 0, stillPending: 0, recent: 0 });
    expect(published.get('attachments_scanned_clean')).toBe(0);
  }, 90_000);

  it('counts as still pending what it cannot scan: clamd unreachable, or not starting at all', async () => {
    ahead = 0;
    const held = await ingestWith('clamd keeps crashing', PDF, 'globex');
    ahead = 31 * MINUTE;

    const unreachable = new RecordedScannerMetrics();
    const noSocket = makeHandler({ scan: scanDeps(deadSocket()), ready: () => daemon.ensureRunning(), metrics: unreachable });
    expect(await noSocket(RESCAN_PENDING_TASK)).toMatchObject({ rescanned: 0, stillPending: 1, complete: true });
    expect(unreachable.get('attachments_still_pending')).toBe(1);
    expect(unreachable.counts.get('attachments_rescanned')).toBe(0);
    expect(unreachable.get('scan_errors')).toBe(1);

    const noClamd = new RecordedScannerMetrics();
    const notStarting = makeHandler({ scan: scanDeps(), ready: () => Promise.reject(new Error('no definitions in the bucket yet')), metrics: noClamd });
    expect(await notStarting(RESCAN_PENDING_TASK)).toMatchObject({ rescanned: 0, stillPending: 1, complete: true });
    expect(noClamd.get('attachments_still_pending')).toBe(1);
    expect(noClamd.get('scan_errors')).toBe(1);
    expect(noClamd.flushes).toBe(1);
    expect(await repo.getAttachment('globex', held.attachmentId)).toMatchObject({ scan: 'pending', blobKey: held.blobKey });

    // clamd back: the next hour scans it.
    expect(await runRescan()).toMatchObject({ rescanned: 1, stillPending: 0 });
    expect(await repo.getAttachment('globex', held.attachmentId)).toMatchObject({ scan: 'clean' });
  }, 60_000);

  it('starts no scan once the time budget is spent, and the next run takes the rest', async () => {
    ahead = 0;
    const first = await ingestWith('backlog one', PDF, 'initech');
    const second = await ingestWith('backlog two', PDF, 'initech');
    ahead = 31 * MINUTE;
    // Lambda's time left: plenty before the first scan, then less than the reserve a scan needs.
    let asked = 0;
    const context: InvocationContext = { getRemainingTimeInMillis: () => (asked++ === 0 ? 290_000 : 100_000) };
    expect(await runRescan(context)).toMatchObject({ rescanned: 1, stillPending: 1, complete: false });
    expect(published.get('attachments_rescanned')).toBe(1);
    expect(published.get('attachments_still_pending')).toBe(1);
    const states = async () => [(await repo.getAttachment('initech', first.attachmentId))?.scan, (await repo.getAttachment('initech', second.attachmentId))?.scan].sort();
    expect(await states()).toEqual(['clean', 'pending']);

    expect(await runRescan({ getRemainingTimeInMillis: () => 290_000 })).toMatchObject({ rescanned: 1, stillPending: 0, complete: true });
    expect(await states()).toEqual(['clean', 'clean']);
  }, 60_000);

  it('is harmless beside a stream scan of the same attachment', async () => {
    ahead = 0;
    // Clean bytes: both scans may well finish, and the later write changes nothing.
    const held = await ingestWith('stream retry and rescan at once', PDF, 'globex');
    ahead = 31 * MINUTE;
    const streamMetrics = new RecordedScannerMetrics();
    const stream = makeHandler({ scan: scanDeps(), ready: () => daemon.ensureRunning(), metrics: streamMetrics });
    const [streamed, rescanned] = await Promise.all([stream({ Records: [streamRecord(await tableItem(held))] }), runRescan()]);
    expect(streamed).toEqual({ batchItemFailures: [] });
    expect(rescanned).toMatchObject({ stillPending: 0 });
    expect(await repo.getAttachment('globex', held.attachmentId)).toMatchObject({ scan: 'clean', blobKey: held.blobKey });
    expect((await readAttachment(readDeps(), 'globex', held.attachmentId, TEST_ACCESSOR)).summary.scan).toBe('clean');
    expect(streamMetrics.get('scan_errors') + published.get('scan_errors')).toBe(0);
  }, 60_000);

  it('goes on past an attachment that cannot be read: its tenant key is being deleted', async () => {
    // A tenant being offboarded: its key is scheduled for deletion while its items wait for the purge.
    kms.createKey(`${ALIAS_PREFIX}hooli`);
    kms.createKey(`${ALIAS_PREFIX}hooli-index`);
    await repo.putMailbox({ tenantId: 'hooli', mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: new Date().toISOString() });
    expect(await consent.createTenant({ tenantId: 'hooli', name: 'Hooli', createdAt: new Date().toISOString() })).toBe(true);
    ahead = 0;
    const stuck = await ingestWith('tenant leaving', PDF, 'hooli');
    const fine = await ingestWith('tenant staying', PDF, 'initech');
    const kmsClient = new KMSClient({ endpoint: kms.endpoint, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await kmsClient.send(new ScheduleKeyDeletionCommand({ KeyId: kms.aliasTarget(`${ALIAS_PREFIX}hooli`) as string, PendingWindowInDays: 7 }));
    kmsClient.destroy();
    ahead = 31 * MINUTE;

    expect(await runRescan()).toMatchObject({ tenants: 3, rescanned: 1, stillPending: 1, complete: true });
    expect(published.get('attachments_rescanned')).toBe(1);
    expect(published.get('attachments_still_pending')).toBe(1);
    expect(published.get('scan_errors')).toBe(1);
    expect(await repo.getAttachment('hooli', stuck.attachmentId)).toMatchObject({ scan: 'pending', blobKey: stuck.blobKey });
    expect(await repo.getAttachment('initech', fine.attachmentId)).toMatchObject({ scan: 'clean' });
  }, 60_000);

  it('refuses an event that is neither a stream batch nor its task', async () => {
    await expect(warmHandler()({ task: 'rescan-everything' } as unknown as ScannerTask)).rejects.toThrow(/rescan-pending/);
  });
});

/** The item as first written (pending), marshalled like a stream image. */
function pendingImage(a: AttachmentRecord): Record<string, AttributeValue> {
  return {
    entity: { S: 'attachment' },
    tenantId: { S: a.tenantId },
    mailboxId: { S: a.mailboxId },
    ticketId: { S: a.ticketId },
    messageId: { S: a.messageId },
    attachmentId: { S: a.attachmentId },
    scan: { S: 'pending' },
    blobKey: a.blobKey ? { S: a.blobKey } : { NULL: true },
  };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
