// The orphan sweep on dynalite and s3rver through the real SDK, with the real ingest use-case and the
// real clamd: objects of ingestions that never completed (a worker killed before its claim, a
// takeover or a duplicate whose clean-up delete failed) go once they are older than the grace period,
// never before; whatever a completed ingestion names stays (a ticket with body object and
// attachments, a reply, an outbound message, an unparsed message, a robot, a duplicate, a takeover,
// infected and held attachments); a second run finds nothing.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler as makeSweeper } from '../../functions/sweeper/make-handler.js';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import type { S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { ulidIds } from '../../shared/adapters/system/system.js';
import { ingestMessage, type IngestContext, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import { ORPHAN_GRACE_HOURS, sweepOrphanObjects, type OrphanSweepDeps } from '../../shared/domain/orphans.js';
import type { BlobStore, IngestClaim, Scanner } from '../../shared/domain/ports.js';
import { disconnectMailbox } from '../../shared/domain/retention.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { FaultInjector, runUntilCrash } from '../reliability/crash-support.js';
import { clamdSocket } from '../support/clamd.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';
import { mimeMessage } from '../support/mail.js';
import { ManualClock } from '../support/memory.js';

const HOUR = 3600 * 1000;
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const MAILBOX = 'support';

let storage: LocalStorage;
let client: DynamoDBClient;
let n = 0;
let tenant: string;
let table: string;
let repo: DynamoDbTicketRepository;
let blobs: S3BlobStore;
let clock: ManualClock;
let deps: IngestDeps;

beforeAll(async () => {
  storage = await startLocalStorage('orphans');
  client = storage.client;
});
afterAll(() => storage.stop());

beforeEach(async () => {
  n++;
  tenant = `orph${n}`;
  table = `orphans-${n}`;
  await ensureTable(client, table);
  repo = new DynamoDbTicketRepository(client, table);
  blobs = storage.blobs();
  // The bucket stamps objects with the wall clock; ingestion runs on it too, the sweep later.
  clock = new ManualClock(new Date());
  deps = {
    repo,
    blobs,
    keys: new LocalKeyService({ keyDir: join(storage.dir, 'keys') }),
    scanner: new ClamdScanner({ socketPath: clamdSocket() }),
    clock,
    ids: ulidIds(),
    limits: DEFAULT_LIMITS,
  };
  await repo.putMailbox({ tenantId: tenant, mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
});

function mail(id: string, options: { attachments?: string[]; bigBody?: boolean; inReplyTo?: string; robot?: boolean; from?: string } = {}): Buffer {
  return mimeMessage({
    messageId: `${id}@customer.example`,
    subject: id,
    from: options.from,
    inReplyTo: options.inReplyTo && `${options.inReplyTo}@customer.example`,
    headers: options.robot ? ['Auto-Submitted: auto-replied'] : [],
    date: 'Tue, 01 Dec 2026 10:00:00 +0000',
    text: options.bigBody ? `body of ${id} `.repeat(1500) : `body of ${id}`, // ~20 KB: a body object of its own
    attachments: (options.attachments ?? []).map((bytes, i) => ({ filename: `${id}-${i}.bin`, contentType: 'application/octet-stream', bytes })),
  });
}

function ingest(raw: Buffer, overrides: Partial<IngestDeps> = {}, ctx: Partial<IngestContext> = {}) {
  return ingestMessage({ ...deps, ...overrides }, Readable.from([raw]), { tenantId: tenant, mailboxId: MAILBOX, receivedAt: clock.now(), ...ctx });
}

async function objects(mailboxId = MAILBOX): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of blobs.list(mailboxPrefix(tenant, mailboxId))) keys.push(key);
  return keys.sort();
}

/** Every object key an item of the table names in the mailbox, read with a Scan: independent of the sweep's own reads. */
async function namedByItems(mailboxId = MAILBOX): Promise<string[]> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
  return Items.map((item) => unmarshall(item))
    .flatMap((item) => [item.rawKey, item.bodyKey, item.blobKey])
    .filter((key): key is string => typeof key === 'string' && key.startsWith(mailboxPrefix(tenant, mailboxId)))
    .sort();
}

/** The sweep as the daily run would make it, `hoursLater` after the ingestions. */
function sweepAt(hoursLater: number, options: { dryRun?: boolean } = {}) {
  const later = new ManualClock(new Date(Date.now() + hoursLater * HOUR));
  const sweepDeps: OrphanSweepDeps = { repo, retention: repo, blobs, clock: later };
  // The bucket is shared by this file's tests, each with a tenant of its own.
  return sweepOrphanObjects(sweepDeps, { ...options, scope: { tenantId: tenant } });
}

let recordings = 0;
const allPorts = (injector: FaultInjector): IngestDeps => ({
  ...deps,
  repo: injector.wrap('repo', repo),
  blobs: injector.wrap('blobs', blobs),
  keys: injector.wrap('keys', deps.keys),
  scanner: injector.wrap('scanner', deps.scanner),
});

/**
 * Runs an ingestion and stops it dead right after the first call of `label` (every port dies with
 * it: nothing after runs, no clean-up). The call sequence is recorded first in a tenant of its own.
 */
async function killAfter(label: string, raw: Buffer, mailboxId = MAILBOX): Promise<void> {
  const recorder = `${tenant}rec${++recordings}`;
  await repo.putMailbox({ tenantId: recorder, mailboxId, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
  const spy = new FaultInjector();
  await ingestMessage(allPorts(spy), Readable.from([raw]), { tenantId: recorder, mailboxId, receivedAt: clock.now() });
  const index = spy.calls.indexOf(label);
  expect(index, spy.calls.join(' ')).toBeGreaterThanOrEqual(0);
  const injector = new FaultInjector({ index, when: 'after', mode: 'kill' });
  let work: Promise<unknown> = Promise.resolve();
  await runUntilCrash(injector, () => (work = ingestMessage(allPorts(injector), Readable.from([raw]), { tenantId: tenant, mailboxId, receivedAt: clock.now() })));
  expect(injector.fired).toContain(label);
  // Calls made before the death still land (an upload under way); nothing after it has an effect.
  // Waiting for them keeps what the bucket holds from changing under the assertions.
  await work.catch(() => undefined);
}

const ingestIdOf = (key: string) => key.split('/')[5];

/** A blob store whose deletes fail (S3 refusing) `times` times: an ingestion's clean-up does not happen. */
function failingDeletes(times: number): BlobStore {
  let left = times;
  return {
    put: (key, body) => blobs.put(key, body),
    get: (key) => blobs.get(key),
    list: (prefix) => blobs.list(prefix),
    delete: async (keys) => {
      if (left-- > 0) throw new Error('S3 503 SlowDown');
      return blobs.delete(keys);
    },
  };
}

const unreachableClamd = (): Scanner => new ClamdScanner({ socketPath: join(storage.dir, 'no-clamd.sock') });

describe('what a completed ingestion names stays', () => {
  it('every kind of stored message keeps all its objects, however old; nothing is deleted', async () => {
    const created = await ingest(mail('first', { bigBody: true, attachments: ['report one', 'report two'] }));
    expect(created.status).toBe('created');
    expect((await ingest(mail('reply', { inReplyTo: 'first', attachments: ['more'] }))).status).toBe('appended');
    const outbound = await ingest(mail('answer', { inReplyTo: 'first', bigBody: true, from: 'Support <support@helpdesk.example>' }), {}, { outbound: { ticketId: created.ticketId as string } });
    expect(outbound.status).toBe('appended');
    const unparsed = await ingest(Buffer.from('\u0000\u0001\u0002 not a message at all'));
    expect(unparsed.notices.map((x) => x.code)).toContain('unparsed');
    expect((await ingest(mail('robot', { robot: true, attachments: ['dropped'] }))).status).toBe('suppressed');
    expect((await ingest(mail('first', { bigBody: true, attachments: ['report one', 'report two'] }))).status).toBe('duplicate');
    const infected = await ingest(mail('virus', { attachments: [EICAR, 'clean part'] }));
    expect(infected.attachments.map((a) => a.scan).sort()).toEqual(['clean', 'infected']);
    const held = await ingest(mail('held', { attachments: ['unscanned part'] }), { scanner: unreachableClamd() });
    expect(held.attachments.map((a) => a.scan)).toEqual(['unscanned']);

    const stored = await objects();
    expect(stored.filter((k) => k.includes('/raw/'))).toHaveLength(7);
    expect(stored.filter((k) => k.includes('/body/'))).toHaveLength(2);
    expect(stored.filter((k) => k.includes('/att/'))).toHaveLength(5); // 2 + 1 + clean part + held part
    expect(stored).toEqual(await namedByItems());

    for (const hours of [1, ORPHAN_GRACE_HOURS + 1, 24 * 365]) {
      const report = await sweepAt(hours);
      expect(report).toMatchObject({ mailboxes: 1, skipped: 0, ingestions: 0, objects: 0 });
    }
    expect(await objects()).toEqual(stored);
  });

  it('a takeover keeps the objects of the pass that completed the message, and the sweep keeps a crashed pass that still holds the claim', async () => {
    const message = mail('taken', { bigBody: true, attachments: ['one', 'two'] });
    // The first pass is killed right after its claim: its objects are named by the claim only.
    await repo.putMailbox({ tenantId: tenant, mailboxId: 'second', provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
    await killAfter('repo.claim', message, 'second');
    const crashed = await objects('second');
    expect(crashed).toHaveLength(3); // raw and two attachments; the body comes after the claim
    expect(await sweepAt(ORPHAN_GRACE_HOURS + 1)).toMatchObject({ ingestions: 0, objects: 0 });
    expect(await objects('second')).toEqual(crashed);

    // The retry after the lease takes the claim over and completes the message under its own objects.
    clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
    expect((await ingestMessage(deps, Readable.from([message]), { tenantId: tenant, mailboxId: 'second', receivedAt: clock.now() })).status).toBe('created');
    const completed = await objects('second');
    expect(completed.some((k) => crashed.includes(k))).toBe(false);
    expect(await sweepAt(ORPHAN_GRACE_HOURS + 1)).toMatchObject({ mailboxes: 1, ingestions: 0, objects: 0 });
    expect(await objects('second')).toEqual(completed);
  });
});

describe('objects of ingestions that never completed', () => {
  it('go after the grace period and not before: a pre-claim kill, a takeover and a duplicate whose clean-up failed; then nothing more', async () => {
    // Stored and referenced: one complete message.
    await ingest(mail('kept', { bigBody: true, attachments: ['kept file'] }));

    // 1. Killed between storing its objects and its claim (a real pass, stopped dead after the scan).
    await killAfter('scanner.scan', mail('killed', { attachments: ['a', 'b'] }));

    // 2. Killed after its claim; the takeover's clean-up of that pass's objects fails (S3 refusing
    //    once), then a later retry takes over again and completes: the first pass's objects are named
    //    by nothing any more.
    const taken = mail('taken', { bigBody: true, attachments: ['t'] });
    await killAfter('repo.claim', taken);
    clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
    await expect(ingest(taken, { blobs: failingDeletes(1) })).rejects.toThrow(/SlowDown/);
    clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
    expect((await ingest(taken)).status).toBe('created');

    // 3. A duplicate of the complete message whose clean-up deletes failed.
    await expect(ingest(mail('kept', { bigBody: true, attachments: ['kept file'] }), { blobs: failingDeletes(2) })).rejects.toThrow(/SlowDown/);

    const named = await namedByItems();
    const before = await objects();
    const orphans = before.filter((k) => !named.includes(k));
    // Three passes' objects: each left its raw message; the takeover's first pass and the duplicate
    // their attachment too; the pre-claim kill whatever attachments it had stored.
    expect(orphans.filter((k) => k.includes('/raw/'))).toHaveLength(3);
    expect(orphans.filter((k) => k.includes('/body/'))).toHaveLength(0);
    expect(orphans.filter((k) => k.includes('/att/')).length).toBeGreaterThanOrEqual(2);
    expect(new Set(orphans.map(ingestIdOf)).size).toBe(3);
    const att = orphans.length - 3;

    // Within the grace period: nothing goes.
    expect(await sweepAt(ORPHAN_GRACE_HOURS - 1)).toMatchObject({ mailboxes: 1, ingestions: 0, objects: 0 });
    expect(await objects()).toEqual(before);
    // A dry run names them and deletes nothing.
    expect(await sweepAt(ORPHAN_GRACE_HOURS + 1, { dryRun: true })).toMatchObject({ ingestions: 3, objects: orphans.length, byKind: { raw: 3, body: 0, att } });
    expect(await objects()).toEqual(before);

    const report = await sweepAt(ORPHAN_GRACE_HOURS + 1);
    expect(report).toMatchObject({ mailboxes: 1, ingestions: 3, objects: orphans.length, byKind: { raw: 3, body: 0, att } });
    expect(await objects()).toEqual(named);
    expect(await objects()).toEqual(before.filter((k) => !orphans.includes(k)));

    // Idempotent: the next run finds nothing, and every stored message still reads.
    expect(await sweepAt(ORPHAN_GRACE_HOURS + 2)).toMatchObject({ ingestions: 0, objects: 0 });
    expect(await objects()).toEqual(named);
    const tickets = await repo.listTickets(tenant, MAILBOX);
    expect(tickets).toHaveLength(2);
    for (const ticket of tickets) for (const m of await repo.listMessages(tenant, ticket.ticketId)) await expect(blobs.get(m.rawKey ?? 'no raw key')).resolves.toBeDefined();
  });

  it('leaves disconnected mailboxes to retention, and keys of kinds it does not know', async () => {
    await repo.putMailbox({ tenantId: tenant, mailboxId: 'leaving', provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
    await killAfter('scanner.scan', mail('leaving', { attachments: ['x'] }), 'leaving');
    const leaving = await objects('leaving');
    expect(leaving.length).toBeGreaterThanOrEqual(1);
    await disconnectMailbox({ repo, retention: repo, blobs, clock }, tenant, 'leaving');
    const unknown = `${mailboxPrefix(tenant, MAILBOX)}notes/readme`;
    await blobs.put(unknown, Buffer.from('not an ingestion'));

    const report = await sweepAt(ORPHAN_GRACE_HOURS + 1);
    expect(report).toMatchObject({ mailboxes: 0, skipped: 1, objects: 0 });
    expect(await objects('leaving')).toEqual(leaving);
    expect(await objects()).toEqual([unknown]);
  });

  it('stops between mailboxes once its time is up, saying so; the next run finishes', async () => {
    for (const mailboxId of ['first', 'second']) {
      await repo.putMailbox({ tenantId: tenant, mailboxId, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
      await killAfter('scanner.scan', mail(mailboxId, { attachments: ['z'] }), mailboxId);
    }
    const later = new ManualClock(new Date(Date.now() + (ORPHAN_GRACE_HOURS + 1) * HOUR));
    const sweepDeps: OrphanSweepDeps = { repo, retention: repo, blobs, clock: later };
    const cut = await sweepOrphanObjects(sweepDeps, { scope: { tenantId: tenant }, stopAt: later.now().getTime() });
    expect(cut).toMatchObject({ mailboxes: 1, ingestions: 1, complete: false });
    expect(await objects('first')).toEqual([]);
    expect((await objects('second')).length).toBeGreaterThan(0);
    // 'first' holds no object any more: only 'second' is looked at.
    expect(await sweepOrphanObjects(sweepDeps, { scope: { tenantId: tenant } })).toMatchObject({ mailboxes: 1, ingestions: 1, complete: true });
    expect(await objects('second')).toEqual([]);
  });

  it('refuses a grace period short enough to catch a pass in flight', async () => {
    await expect(sweepOrphanObjects({ repo, retention: repo, blobs, clock }, { graceHours: 0.1, scope: { tenantId: tenant } })).rejects.toThrow(/grace period/);
  });
});

describe('the table reads the sweep makes', () => {
  it('pages through every claim and every object a mailbox item names, past the index page size', async () => {
    const now = clock.now();
    const claims: IngestClaim[] = Array.from({ length: 520 }, (_, i) => ({
      tenantId: tenant,
      mailboxId: MAILBOX,
      fingerprint: `fp${i}`,
      ingestId: `ing${i}`,
      ticketId: null,
      messageId: `msg${i}`,
      status: 'suppressed',
      claimedAt: now.toISOString(),
      leaseUntil: now.toISOString(),
    }));
    for (const claim of claims) await repo.claim(claim);
    // Robots' records name their raw message; a page of index keys also holds the claims.
    for (const claim of claims.slice(0, 30)) {
      await repo.writeSuppressed(
        { tenantId: tenant, mailboxId: MAILBOX, messageId: claim.messageId, receivedAt: now.toISOString(), reason: 'loop', rawKey: `${mailboxPrefix(tenant, MAILBOX)}raw/${claim.ingestId}`, sealed: new Uint8Array([1]) },
        claim,
        `pid${claim.ingestId}`,
      );
    }
    const ingestIds: string[] = [];
    let pages = 0;
    let cursor: string | undefined;
    do {
      const page = await repo.listClaimedIngestions(tenant, MAILBOX, cursor);
      ingestIds.push(...page.ingestIds);
      pages++;
      cursor = page.cursor;
    } while (cursor);
    expect(pages).toBeGreaterThan(1);
    // Claims and the provider-id records of the robots both name their ingestion.
    expect([...new Set(ingestIds)].sort()).toEqual(claims.map((c) => c.ingestId).sort());
    expect(ingestIds).toHaveLength(520 + 30);

    const keys: string[] = [];
    cursor = undefined;
    do {
      const page = await repo.listObjectReferences(tenant, MAILBOX, cursor);
      keys.push(...page.objectKeys);
      cursor = page.cursor;
    } while (cursor);
    expect(keys.sort()).toEqual(claims.slice(0, 30).map((c) => `${mailboxPrefix(tenant, MAILBOX)}raw/${c.ingestId}`).sort());
  });
});

describe('the daily sweeper', () => {
  it('runs the orphan sweep after the backstop and counts the objects it deleted in orphan_objects_deleted', async () => {
    await ingest(mail('stays', { attachments: ['x'] }));
    await killAfter('scanner.scan', mail('lost', { attachments: ['y'] }));
    const named = await namedByItems();
    const orphans = (await objects()).filter((k) => !named.includes(k));
    expect(orphans.length).toBeGreaterThan(0);

    const published: unknown[] = [];
    class ObservedMetrics extends Metrics {
      override publishStoredMetrics() {
        published.push(this.serializeMetrics());
        return super.publishStoredMetrics();
      }
    }
    const later = new ManualClock(new Date(Date.now() + (ORPHAN_GRACE_HOURS + 1) * HOUR));
    // The sweeper walks the whole bucket: this file's other tenants live in other tables and are skipped.
    const handler = makeSweeper({ repo, retention: repo, blobs, clock: later, keys: deps.keys }, new ObservedMetrics({ namespace: 'mail2ticket', serviceName: 'sweeper' }));
    const result = await handler({}, { getRemainingTimeInMillis: () => 15 * 60_000 });
    expect(result).toMatchObject({ mailboxes: 0, orphans: { objects: orphans.length, ingestions: 1, complete: true } });
    expect(await objects()).toEqual(named);
    const emf = JSON.stringify(published);
    expect(published).toHaveLength(1);
    expect(emf).toContain('"orphan_objects_deleted":' + orphans.length);
    expect(emf).toContain('"Namespace":"mail2ticket"');
    expect(emf).toContain('"service":"sweeper"');
  });
});
