// Retention, clock-driven, on dynalite and s3rver through the real SDK: disconnect hides a mailbox at
// once; by its deadline nothing of it remains in the table or the bucket, while its neighbour is
// intact; the backstop catches what a lost stream record left; erase acts at once.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutItemCommand, ScanCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler as makePurgeStreamHandler } from '../../functions/purge-stream/make-handler.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { MailboxDisconnected } from '../../shared/domain/errors.js';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import {
  closeTenant,
  disconnectMailbox,
  eraseMailbox,
  eraseTenant,
  LATE_WRITE_GRACE_MINUTES,
  reapplyTombstones,
  sweepDueMailboxes,
  type RetentionDeps,
  type SweepReport,
} from '../../shared/domain/retention.js';
import { buffer } from 'node:stream/consumers';
import { listTickets, showTicket } from '../../shared/domain/tickets.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { expireItems } from '../../shared/local/ttl-emulator.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';
import { mimeMessage } from '../support/mail.js';
import { EicarScanner, ManualClock, TEST_ACCESSOR, SequentialIds } from '../support/memory.js';

const DAY = 24 * 3600 * 1000;
let dir: string;
let storage: LocalStorage;
let client: DynamoDBClient;
let tableNo = 0;
let tableName: string;
let clock: ManualClock;
let deps: IngestDeps & { audit: DynamoDbAuditLog };
let retention: RetentionDeps;

beforeAll(async () => {
  storage = await startLocalStorage('retention');
  dir = storage.dir;
  client = storage.client;
});
afterAll(() => storage.stop());

function mail(id: string, withAttachment = true): Buffer {
  return mimeMessage({
    messageId: `${id}@customer.example`,
    subject: `message ${id}`,
    text: `body of ${id}`,
    attachments: withAttachment ? [{ filename: `${id}.pdf`, contentType: 'application/pdf', bytes: '%PDF-1.4 tiny' }] : [],
  });
}

beforeEach(async () => {
  tableName = `retention-${++tableNo}`;
  await ensureTable(client, tableName);
  clock = new ManualClock(new Date('2026-11-24T12:00:00Z'));
  const repo = new DynamoDbTicketRepository(client, tableName);
  const blobs = storage.blobs();
  deps = { repo, audit: new DynamoDbAuditLog(client, tableName), blobs, keys: new LocalKeyService({ keyDir: join(dir, 'keys') }), scanner: new EicarScanner(), clock, ids: new SequentialIds(), limits: DEFAULT_LIMITS };
  retention = { repo, retention: repo, blobs, clock };
  // Each test gets its own tenant so the shared bucket never mixes their objects.
  tenant = `t${tableNo}`;
  for (const mailboxId of ['gone', 'kept']) await repo.putMailbox({ tenantId: tenant, mailboxId, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
  for (const [mailboxId, n] of [['gone', 3], ['kept', 2]] as const) {
    for (let i = 0; i < n; i++) await ingestMessage(deps, Readable.from([mail(`${mailboxId}-${i}`)]), { tenantId: tenant, mailboxId, receivedAt: clock.now() });
  }
});
let tenant: string;

async function tableItems(mailboxId: string) {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
  return Items.map((item) => unmarshall(item)).filter((item) => item.MBX === `T#${tenant}#MB#${mailboxId}`);
}

async function objects(mailboxId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of deps.blobs.list(mailboxPrefix(tenant, mailboxId))) keys.push(key);
  return keys;
}

const deliverToStream = () => makePurgeStreamHandler(retention);
const NOTHING_SWEPT: SweepReport = { mailboxes: 0, items: 0, objects: 0, rechecks: 0, lateWrites: 0, tenants: 0, tenantRecords: 0 };
const MINUTE = 60_000;

/**
 * An ingestion into `mailboxId` that has read its mailbox and stored part of the raw message, then
 * waits: `started` resolves once it is under way, `finish()` lets it complete.
 */
async function ingestionUnderWay(mailboxId: string, id: string): Promise<{ finish: () => ReturnType<typeof ingestMessage> }> {
  const raw = mail(id);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let pulled!: () => void;
  const started = new Promise<void>((resolve) => (pulled = resolve));
  const stream = Readable.from(
    (async function* () {
      yield raw.subarray(0, 64);
      pulled();
      await gate;
      yield raw.subarray(64);
    })(),
  );
  const result = ingestMessage(deps, stream, { tenantId: tenant, mailboxId, receivedAt: clock.now() });
  result.catch(() => undefined);
  await started;
  return {
    finish: () => {
      release();
      return result;
    },
  };
}

describe('retention', () => {
  it('hides a disconnected mailbox at once and deletes all of it, and only it, by its deadline', async () => {
    const goneTicket = (await listTickets(deps, tenant, TEST_ACCESSOR, 'gone'))[0]?.ticketId as string;
    expect(await objects('gone')).toHaveLength(6); // 3 raw messages + 3 attachments
    const mailbox = await disconnectMailbox(retention, tenant, 'gone');
    expect(mailbox.purgeBy).toBe(new Date(clock.now().getTime() + 30 * DAY).toISOString());

    expect((await listTickets(deps, tenant, TEST_ACCESSOR)).map((t) => t.mailboxId)).toEqual(['kept', 'kept']);
    await expect(showTicket(deps, tenant, goneTicket, TEST_ACCESSOR)).rejects.toThrow(/not found/);

    const purgeBy = Date.parse(mailbox.purgeBy as string) / 1000;
    const stamped = await tableItems('gone');
    expect(stamped.length).toBeGreaterThan(10);
    for (const item of stamped) {
      expect(item.expiresAt, item.SK).toBeLessThanOrEqual(purgeBy - 2 * 24 * 3600); // room for TTL lag
    }
    expect((await tableItems('kept')).every((item) => item.expiresAt === undefined)).toBe(true);

    // A day before the stamped expiry nothing has gone yet.
    expect(await expireItems({ client, tableName, now: new Date(clock.now().getTime() + 26 * DAY), deliver: deliverToStream() })).toBe(0);
    const expired = await expireItems({ client, tableName, now: new Date(clock.now().getTime() + 27 * DAY + 1000), deliver: deliverToStream() });
    expect(expired).toBe(stamped.length);
    expect(await tableItems('gone')).toEqual([]);
    expect(await objects('gone')).toEqual([]);
    expect(await tableItems('kept')).not.toEqual([]);
    expect(await objects('kept')).toHaveLength(4);
  });

  it('ingests nothing for a job that runs after the disconnect', async () => {
    await disconnectMailbox(retention, tenant, 'gone');
    const before = (await tableItems('gone')).length;
    await expect(ingestMessage(deps, Readable.from([mail('late')]), { tenantId: tenant, mailboxId: 'gone', receivedAt: clock.now() })).rejects.toBeInstanceOf(MailboxDisconnected);
    expect((await tableItems('gone')).length).toBe(before);
  });

  it('the backstop removes what a lost stream record left behind, and says so', async () => {
    await disconnectMailbox(retention, tenant, 'gone');
    clock.advance(27 * DAY + 1000);
    await expireItems({ client, tableName, now: clock.now(), deliver: async () => undefined }); // records lost
    expect(await tableItems('gone')).toEqual([]);
    expect(await objects('gone')).toHaveLength(6);
    clock.advance(DAY); // the next daily sweep: the deadline (day 30) falls before its next run plus a day
    const report = await sweepDueMailboxes(retention);
    expect(report).toMatchObject({ mailboxes: 1, objects: 6 });
    expect(await objects('gone')).toEqual([]);
    expect(await objects('kept')).toHaveLength(4);
    expect((await deps.repo.getMailbox(tenant, 'gone'))?.purgedAt).toBeTruthy();
    expect(await sweepDueMailboxes(retention)).toEqual(NOTHING_SWEPT);
  });

  it('the backstop alone clears a mailbox before its deadline even if TTL never ran', async () => {
    await disconnectMailbox(retention, tenant, 'gone');
    clock.advance(27 * DAY);
    expect((await sweepDueMailboxes(retention)).mailboxes).toBe(0); // due in 3 days: after the next sweep + 1 day
    clock.advance(DAY);
    expect((await sweepDueMailboxes(retention)).mailboxes).toBe(1);
    expect(await tableItems('gone')).toEqual([]);
    expect(await objects('gone')).toEqual([]);
  });

  it('erasing the account deletes everything of the tenant at once — items, objects, access log, restrictions — and destroys its keys', async () => {
    // Tenant-level records besides the mailboxes': an audited read and a restriction.
    await listTickets(deps, tenant, TEST_ACCESSOR, 'kept');
    await deps.repo.setRestriction(tenant, 'f'.repeat(64), true);
    expect((await deps.audit.list(tenant)).length).toBeGreaterThan(0);
    const neighbourTickets = await deps.repo.listTickets('neighbour');
    const sealedBefore = await deps.keys.encrypt(Buffer.from('x'), { tenantId: tenant, mailboxId: 'kept', purpose: 'fields' });

    const result = await eraseTenant({ ...retention, tenantKeys: deps.keys as LocalKeyService }, tenant);
    expect(result.mailboxes).toBe(2);
    for (const mailboxId of ['gone', 'kept']) {
      expect(await tableItems(mailboxId)).toEqual([]);
      expect(await objects(mailboxId)).toEqual([]);
    }
    // What is left of the tenant is its mailbox records as tombstones: ids and dates, no content.
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
    const left = Items.map((item) => unmarshall(item)).filter((item) => String(item.PK).startsWith(`T#${tenant}`));
    expect(left.map((item) => item.entity)).toEqual(['mailbox', 'mailbox']);
    expect(left.every((item) => item.purgedAt)).toBe(true);
    expect(await deps.audit.list(tenant)).toEqual([]);
    expect(await deps.repo.listRestrictions(tenant)).toEqual(new Set());
    // Any copy made before (a backup) no longer opens.
    const attempt = new LocalKeyService({ keyDir: join(dir, 'keys') }).decrypt(sealedBefore, { tenantId: tenant, mailboxId: 'kept', purpose: 'fields' });
    await expect(attempt).rejects.toThrow();
    expect(await deps.repo.listTickets('neighbour')).toEqual(neighbourTickets);
  });

  it('closing the account makes every copy of the tenant unreadable, and no other tenant', async () => {
    // A "backup": the raw ciphertexts as they sit in the bucket right now.
    const copies: Buffer[] = [];
    for (const key of await objects('kept')) copies.push(await buffer(await deps.blobs.get(key)));
    const keys = deps.keys as LocalKeyService;
    const result = await closeTenant({ ...retention, tenantKeys: keys }, tenant);
    expect(result.mailboxes).toBe(2);
    expect((await deps.repo.listMailboxes(tenant)).every((m) => m.status === 'disconnected' && m.purgeBy)).toBe(true);
    const fresh = new LocalKeyService({ keyDir: join(dir, 'keys') });
    for (const copy of copies) {
      const attempt = buffer(Readable.from([copy]).pipe(fresh.decryptStream({ tenantId: tenant, mailboxId: 'kept', purpose: 'raw' })));
      await expect(attempt).rejects.toThrow();
    }
    // Another tenant's data still reads.
    const other = await fresh.encrypt(Buffer.from('x'), { tenantId: 'neighbour', mailboxId: 'm', purpose: 'fields' });
    expect(Buffer.from(await new LocalKeyService({ keyDir: join(dir, 'keys') }).decrypt(other, { tenantId: 'neighbour', mailboxId: 'm', purpose: 'fields' })).toString()).toBe('x');
  });

  it('a restored backup does not bring purged data back: the tombstones are re-applied', async () => {
    const { Items: backup = [] } = await client.send(new ScanCommand({ TableName: tableName }));
    await eraseMailbox(retention, tenant, 'gone');
    expect(await tableItems('gone')).toEqual([]);
    // "Restore": every item of the backup put back as it was.
    for (const Item of backup) await client.send(new PutItemCommand({ TableName: tableName, Item }));
    expect((await tableItems('gone')).length).toBeGreaterThan(10);
    expect((await deps.repo.getMailbox(tenant, 'gone'))?.status).toBe('connected');

    // The restored table's TTL and stream come back before any tombstone is applied.
    const order: string[] = [];
    const table = {
      ensure: async () => {
        order.push('table');
        return { ttl: 'enabled' as const, stream: 'enabled' as const, streamArn: 'arn:stream' };
      },
    };
    const tableItemsBefore = (await tableItems('gone')).length;
    const report = await reapplyTombstones({ ...retention, keys: deps.keys, table });
    expect(order).toEqual(['table']);
    expect(report.table).toMatchObject({ ttl: 'enabled', stream: 'enabled' });
    expect(report.items).toBe(tableItemsBefore);
    expect(report.items).toBeGreaterThan(10);
    expect(await tableItems('gone')).toEqual([]);
    expect((await deps.repo.getMailbox(tenant, 'gone'))).toMatchObject({ status: 'disconnected', purgedAt: expect.any(String) });
    expect(await listTickets(deps, tenant, TEST_ACCESSOR, 'gone')).toEqual([]);
    expect(await tableItems('kept')).not.toEqual([]);
    expect((await reapplyTombstones({ ...retention, keys: deps.keys })).items).toBe(0); // idempotent
  });

  it('an ingestion under way when the mailbox is erased: what it writes after the purge goes at the recheck', async () => {
    const late = await ingestionUnderWay('gone', 'in-flight');
    await eraseMailbox(retention, tenant, 'gone');
    expect((await late.finish()).status).toBe('created'); // it read the mailbox before the erase
    const written = (await tableItems('gone')).length;
    expect(written).toBeGreaterThan(0);
    expect(await objects('gone')).toHaveLength(2); // its raw message and attachment

    clock.advance((LATE_WRITE_GRACE_MINUTES - 1) * MINUTE);
    expect(await sweepDueMailboxes(retention)).toEqual(NOTHING_SWEPT); // still inside the grace
    clock.advance(2 * MINUTE);
    expect(await sweepDueMailboxes(retention)).toEqual({ ...NOTHING_SWEPT, rechecks: 1, lateWrites: written + 2 });
    expect(await tableItems('gone')).toEqual([]);
    expect(await objects('gone')).toEqual([]);
    const mailbox = await deps.repo.getMailbox(tenant, 'gone');
    expect(mailbox?.purgedAt).toBeTruthy();
    expect(mailbox?.recheckAt).toBeUndefined();
    clock.advance(40 * DAY);
    expect(await sweepDueMailboxes(retention)).toEqual(NOTHING_SWEPT); // once only
    expect(await tableItems('kept')).not.toEqual([]);
  });

  it('an ingestion under way when the mailbox is disconnected: the recheck stamps what it wrote after the stamping', async () => {
    const late = await ingestionUnderWay('gone', 'in-flight');
    const mailbox = await disconnectMailbox(retention, tenant, 'gone');
    expect((await late.finish()).status).toBe('created');
    const unstamped = (await tableItems('gone')).filter((item) => item.expiresAt === undefined);
    expect(unstamped.length).toBeGreaterThan(0); // the race happened: its items came after the stamping

    clock.advance((LATE_WRITE_GRACE_MINUTES + 1) * MINUTE);
    expect(await sweepDueMailboxes(retention)).toEqual({ ...NOTHING_SWEPT, rechecks: 1, lateWrites: unstamped.length });
    const purgeBy = Date.parse(mailbox.purgeBy as string) / 1000;
    for (const item of await tableItems('gone')) expect(item.expiresAt, item.SK).toBeLessThanOrEqual(purgeBy - 2 * 24 * 3600);
    expect((await deps.repo.getMailbox(tenant, 'gone'))?.recheckAt).toBeUndefined();
    expect(await sweepDueMailboxes(retention)).toEqual(NOTHING_SWEPT);
    // The deadline still stands: the backstop purges it as before.
    clock.advance(28 * DAY);
    expect((await sweepDueMailboxes(retention)).mailboxes).toBe(1);
    expect(await tableItems('gone')).toEqual([]);
  });

  it('disconnecting again finishes a stamping that stopped part way, and keeps the first deadline', async () => {
    const first = await disconnectMailbox(retention, tenant, 'gone');
    const [item] = await tableItems('gone');
    await client.send(new UpdateItemCommand({ TableName: tableName, Key: marshall({ PK: item?.PK, SK: item?.SK }), UpdateExpression: 'REMOVE expiresAt' }));
    expect((await tableItems('gone')).filter((i) => i.expiresAt === undefined)).toHaveLength(1);
    clock.advance(DAY);
    const again = await disconnectMailbox(retention, tenant, 'gone', 5);
    expect(again.purgeBy).toBe(first.purgeBy);
    expect((await tableItems('gone')).filter((i) => i.expiresAt === undefined)).toEqual([]);
  });

  it('a scan verdict written back never revives a purged attachment nor drops a TTL stamped meanwhile', async () => {
    const [ticket] = await listTickets(deps, tenant, TEST_ACCESSOR, 'gone');
    const [attachment] = await deps.repo.listAttachments(tenant, ticket?.ticketId as string);
    if (!attachment) throw new Error('fixture has an attachment');
    await disconnectMailbox(retention, tenant, 'gone');
    await deps.repo.updateAttachmentScan({ ...attachment, scan: 'infected', scanDetail: 'Eicar-Test-Signature', blobKey: null });
    const updated = (await tableItems('gone')).find((item) => item.attachmentId === attachment.attachmentId);
    expect(updated).toMatchObject({ scan: 'infected', scanDetail: 'Eicar-Test-Signature', expiresAt: expect.any(Number) });
    expect(updated?.blobKey).toBeNull();

    await eraseMailbox(retention, tenant, 'gone');
    await deps.repo.updateAttachmentScan({ ...attachment, scan: 'clean' });
    expect(await tableItems('gone')).toEqual([]);
  });

  it('closing the account stamps its own records and the backstop deletes them by the closure deadline', async () => {
    await listTickets(deps, tenant, TEST_ACCESSOR, 'kept'); // an audited access
    await deps.repo.setRestriction(tenant, 'f'.repeat(64), true);
    const ownRecords = async () => {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
      return Items.map((i) => unmarshall(i)).filter((i) => String(i.PK).startsWith(`T#${tenant}#AUDIT`) || String(i.PK).startsWith(`T#${tenant}#RESTRICTED`));
    };
    const records = await ownRecords();
    expect(records.length).toBeGreaterThanOrEqual(3); // an audit record, the chain head, a restriction

    const result = await closeTenant({ ...retention, tenantKeys: deps.keys as LocalKeyService }, tenant);
    expect(result.recordsPurgeBy).toBe(new Date(clock.now().getTime() + 30 * DAY).toISOString());
    const purgeBy = Date.parse(result.recordsPurgeBy) / 1000;
    for (const record of await ownRecords()) expect(record.expiresAt, record.SK).toBeLessThanOrEqual(purgeBy - 2 * 24 * 3600);
    clock.advance(DAY);
    expect((await closeTenant({ ...retention, tenantKeys: deps.keys as LocalKeyService }, tenant)).recordsPurgeBy).toBe(result.recordsPurgeBy);

    // With neither TTL nor stream having run, the backstop still removes them before the deadline.
    clock.advance(26 * DAY);
    expect((await sweepDueMailboxes(retention)).tenants).toBe(0);
    clock.advance(DAY);
    const report = await sweepDueMailboxes(retention);
    expect(report).toMatchObject({ tenants: 1, mailboxes: 2 });
    expect(report.tenantRecords).toBe(records.length);
    expect(await ownRecords()).toEqual([]);
    expect(await deps.audit.list(tenant)).toEqual([]);
    expect(await deps.repo.listRestrictions(tenant)).toEqual(new Set());
    expect((await sweepDueMailboxes(retention)).tenants).toBe(0);
  });

  it('erases a mailbox at once on request', async () => {
    const removed = await eraseMailbox(retention, tenant, 'gone');
    expect(removed.objects).toBe(6);
    expect(await tableItems('gone')).toEqual([]);
    expect(await objects('gone')).toEqual([]);
    expect(await tableItems('kept')).not.toEqual([]);
  });
});
