// Local dependency faults: the DynamoDB endpoint (and, separately, the S3 endpoint) refusing connections
// for a while. The composition is npm start's (bench/reliability-queues.ts: the fake Gmail pushing over
// HTTP to the real webhook, the FIFO sync queue with its DLQ on fauxqs, the sync handler on a poller),
// with one change: the stack's DynamoDB and S3 clients reach dynalite and s3rver through a TCP proxy
// (tests/reliability/tcp-proxy.ts) the test can make refuse connections. The test reads the stored state
// through clients of its own, straight to the servers, with the domain's read use-cases. The world, the
// readers and the scenarios are tests/reliability/outage-support.ts, shared with the Graph suite
// (graph-store-outage.test.ts); this file holds what is Gmail's.
//
// While the endpoint refuses, the mailbox's sync jobs fail and come back on the queue's schedule — not
// lost, not dead-lettered, the mailbox cursor not moved, no ticket readable. Once it accepts again,
// every message delivered (before the outage, and during it, when the webhook itself may fail) is one
// ticket with its raw message and attachment stored once, and the DLQ is empty. The outage also begins
// in the middle of a sync (between a new ticket's item and its message item; between a raw object and its
// attachment): what the cut-short pass left is not readable as a ticket, and its retry completes it.
import { describe, expect, it, vi } from 'vitest';
import { NotFound } from '../../shared/domain/errors.js';
import { ORPHAN_GRACE_HOURS, sweepOrphanObjects } from '../../shared/domain/orphans.js';
import { showTicket } from '../../shared/domain/tickets.js';
import { BEFORE, DURING, outageBetweenSyncs, outageMidSync, outageWorldForFile, until } from './outage-support.js';

// The world's storage (tests/support/local-storage.ts), with its clients pointed at the proxies.
vi.mock('../support/local-storage.js', async () => (await import('./outage-support.js')).proxiedLocalStorageModule());

// The ingest claim's lease scaled down with the queue's visibility timeout: a retry takes over an
// ingestion an outage cut short only once its lease has run out (120 s by default, well inside the
// deployed queue's retry schedule but not this test's 10 receives × 2 s).
vi.mock('../../shared/domain/limits.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../shared/domain/limits.js')>();
  return { ...original, DEFAULT_LIMITS: Object.freeze({ ...original.DEFAULT_LIMITS, claimLeaseSeconds: 3 }) };
});

const outageWorld = outageWorldForFile({ actor: 'operator:outage-probe', reason: 'store outage test' });

describe.each(['dynamodb', 's3'] as const)('%s endpoint refusing connections', (store) => {
  it(`gmail sync jobs fail and are retried on the FIFO queue while ${store} refuses; none is dead-lettered, no ticket is half-written; once it accepts, every message is one ticket, raw and attachments stored once`, async () => {
    const outage = outageWorld();
    const { world, repo } = outage;
    const { metrics, queueUrl } = world.gmail;
    const mailbox = await world.addMailbox('gmail', `outage-${store}`);
    const subjects: string[] = [];
    const accepted = metrics.get('gmail.push_accepted');
    const run = await outageBetweenSyncs(outage, {
      connector: world.gmail,
      mailbox,
      store,
      subjects,
      idPrefix: 'outage',
      // Mail before the outage: pushes accepted by the webhook, sync jobs waiting.
      async queued() {
        await until('the pushes accepted', 10_000, () => metrics.get('gmail.push_accepted') - accepted, (n) => n >= BEFORE);
        const queued = await outage.depth(queueUrl);
        expect(queued).toBeGreaterThanOrEqual(1);
        return queued;
      },
      async whileRefused() {
        // Nothing half-written is readable.
        expect(await outage.readable(mailbox)).toEqual([]);
        expect(await repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toEqual([]);
        expect(await outage.storedObjects(mailbox)).toEqual({ raw: 0, att: 0, body: 0 });
        // Mail delivered during a DynamoDB outage: the webhook cannot look its mailbox up (Pub/Sub would
        // redeliver); the queued jobs, reading the history from the cursor, bring it in all the same.
        expect(metrics.get('gmail.push_accepted') - accepted).toBe(store === 'dynamodb' ? BEFORE : BEFORE + DURING);
      },
    });

    expect(await outage.storedObjects(mailbox)).toEqual({ raw: BEFORE + DURING, att: 2, body: expect.any(Number) });
    expect(await world.objects(mailbox)).toEqual({ raw: BEFORE + DURING, att: 2 });
    console.info(
      `${store} outage: ${run.queued} sync jobs queued; ${run.during.batches} receive rounds (${run.during.failed} records) failed over ${run.acceptedAt - run.refusedAt} ms, none dead-lettered; ` +
        `all ${BEFORE + DURING} messages in ${run.recoveredMs} ms after the endpoint accepted`,
    );
  }, 60_000);
});

describe.each(['dynamodb', 's3'] as const)('%s endpoint refusing connections in the middle of a sync', (store) => {
  it(`the sync under way fails; nothing it wrote is readable as a ticket; once ${store} accepts, every message is one ticket with its raw message and attachments stored once (regression: a new ticket whose message item was never written was listed and shown with no message)`, async () => {
    const outage = outageWorld();
    const { world, repo } = outage;
    const mailbox = await world.addMailbox('gmail', `midway-${store}`);
    const subjects: string[] = [];
    let seen: { objects: unknown; items: number } | undefined;
    const { failed } = await outageMidSync(outage, {
      connector: world.gmail,
      mailbox,
      store,
      subjects,
      idPrefix: 'midway',
      async whileRefused() {
        // What the cut-short ingestion left: a ticket item without its message (DynamoDB), a raw object
        // without its ticket (S3). Neither is readable as a ticket.
        const items = await repo.listTickets(mailbox.tenantId, mailbox.mailboxId);
        seen = { objects: await outage.storedObjects(mailbox), items: items.length };
        expect(await outage.readable(mailbox)).toEqual([]);
        for (const item of items) await expect(showTicket(outage.read, mailbox.tenantId, item.ticketId, outage.probe)).rejects.toBeInstanceOf(NotFound);
      },
    });
    expect(await repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toHaveLength(6);
    // S3: the raw object the cut-short pass stored before its claim stays behind — its clean-up delete
    // failed with S3 refusing, and nothing references it. It is not readable as anything; each
    // message's own objects are stored once.
    expect(await outage.storedObjects(mailbox)).toEqual({ raw: store === 's3' ? 7 : 6, att: 2, body: expect.any(Number) });
    const left = await outage.storedObjects(mailbox);
    // The orphan sweep leaves it alone within its grace period, and removes it (only it) after.
    const sweep = (hoursLater: number) =>
      sweepOrphanObjects(
        { repo, retention: repo, blobs: outage.blobs, clock: { now: () => new Date(Date.now() + hoursLater * 3600 * 1000) } },
        { scope: { tenantId: mailbox.tenantId, mailboxId: mailbox.mailboxId } },
      );
    expect((await sweep(0)).objects).toBe(0);
    expect(await outage.storedObjects(mailbox)).toEqual(left);
    expect(await sweep(ORPHAN_GRACE_HOURS + 1)).toMatchObject({ ingestions: store === 's3' ? 1 : 0, byKind: { raw: store === 's3' ? 1 : 0, att: 0, body: 0 } });
    expect(await outage.storedObjects(mailbox)).toEqual({ ...left, raw: 6 });
    const swept = await outage.readable(mailbox);
    expect(swept.map((v) => v.subject).sort()).toEqual([...subjects].sort());
    expect(swept.flatMap((v) => v.messages.flatMap((m) => m.attachments))).toHaveLength(2);
    expect(await outage.depth(world.gmail.queueUrl)).toBe(0);
    expect(await outage.depth(world.gmail.dlqUrl)).toBe(0);
    console.info(`${store} outage mid-sync: left at the outage ${JSON.stringify(seen)}; ${failed} records failed before recovery`);
  }, 60_000);
});
