// The Microsoft 365 connector under local dependency faults, as store-outage.test.ts drives the Gmail
// one: the DynamoDB endpoint (and, separately, the S3 endpoint) refusing connections between syncs and
// in the middle of one. Same composition (bench/reliability-queues.ts: the fake Graph posting change
// notifications to the real webhook, the FIFO sync queue with its DLQ on fauxqs, the sync handler on a
// poller — with Graph's four downloads in flight per mailbox), with the stack's DynamoDB and S3 clients
// behind a TCP proxy (tests/reliability/tcp-proxy.ts) the test makes refuse connections. The test reads
// what is stored through clients of its own, straight to the servers, with the domain's read use-cases.
// The world, the readers and the scenarios are tests/reliability/outage-support.ts, shared with the
// Gmail suite; this file holds what is Graph's.
//
// While the endpoint refuses, the mailbox's sync jobs fail and come back on the queue's schedule — not
// lost, not dead-lettered, the delta cursor not moved, no ticket readable. Once it accepts again, every
// message delivered before and during the outage (when the webhook itself may fail: the queued jobs'
// delta round from the stored cursor brings that mail in) is one ticket with its raw message and
// attachment, and the DLQ is empty.
import { describe, expect, it, vi } from 'vitest';
import { customerMail, type ReliabilityMailbox } from '../../bench/reliability-queues.js';
import { NotFound } from '../../shared/domain/errors.js';
import { listTickets, showTicket } from '../../shared/domain/tickets.js';
import { BEFORE, DURING, outageBetweenSyncs, outageMidSync, outageWorldForFile, until } from './outage-support.js';

// The world's storage (tests/support/local-storage.ts), with its clients pointed at the proxies.
vi.mock('../support/local-storage.js', async () => (await import('./outage-support.js')).proxiedLocalStorageModule());

// The ingest claim's lease scaled down with the queue's visibility timeout (as in store-outage.test.ts):
// a retry takes over an ingestion an outage cut short once its lease has run out.
vi.mock('../../shared/domain/limits.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../shared/domain/limits.js')>();
  return { ...original, DEFAULT_LIMITS: Object.freeze({ ...original.DEFAULT_LIMITS, claimLeaseSeconds: 3 }) };
});

const outageWorld = outageWorldForFile({ actor: 'operator:outage-probe', reason: 'graph store outage test' });

/** Raw messages and attachments of a mailbox in the bucket, read straight from s3rver. */
async function storedObjects(mailbox: ReliabilityMailbox): Promise<{ raw: number; att: number }> {
  const { raw, att } = await outageWorld().storedObjects(mailbox);
  return { raw, att };
}

/** A Graph mailbox whose first message is in: its delta cursor is stored (a new mailbox has none yet). */
async function syncedMailbox(name: string): Promise<{ mailbox: ReliabilityMailbox; subjects: string[] }> {
  const outage = outageWorld();
  const { world } = outage;
  const mailbox = await world.addMailbox('graph', name);
  world.deliver(mailbox, customerMail(mailbox.address, `${name}-first`));
  await world.drain(20_000);
  expect(await outage.cursor(mailbox)).toEqual(expect.any(String));
  return { mailbox, subjects: [`question ${name}-first`] };
}

describe.each(['dynamodb', 's3'] as const)('%s endpoint refusing connections', (store) => {
  it(`graph sync jobs fail and are retried on the FIFO queue while ${store} refuses; none is dead-lettered, no ticket is half-written, the delta cursor stays; once it accepts, every message is one ticket, raw and attachments stored once`, async () => {
    const outage = outageWorld();
    const { world, repo } = outage;
    const { queueUrl } = world.graph;
    const { mailbox, subjects } = await syncedMailbox(`outage-${store}`);
    const run = await outageBetweenSyncs(outage, {
      connector: world.graph,
      mailbox,
      store,
      subjects,
      idPrefix: 'graph-outage',
      // Mail before the outage: notifications accepted by the webhook, sync jobs waiting.
      async queued() {
        await until('the jobs queued', 10_000, () => outage.depth(queueUrl), (n) => n >= 1);
        return outage.depth(queueUrl);
      },
      async whileRefused() {
        // Only the first message is in.
        expect((await outage.readable(mailbox)).map((v) => v.subject)).toEqual([subjects[0]]);
        expect(await repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toHaveLength(1);
        expect(await storedObjects(mailbox)).toEqual({ raw: 1, att: 0 });
      },
    });

    expect(await storedObjects(mailbox)).toEqual({ raw: 1 + BEFORE + DURING, att: 2 });
    console.info(`graph ${store} outage: ${run.queued} sync jobs queued; ${run.during.batches} receive rounds (${run.during.failed} records) failed, none dead-lettered; all ${BEFORE + DURING} messages in ${run.recoveredMs} ms after the endpoint accepted`);
  }, 60_000);
});

describe.each(['dynamodb', 's3'] as const)('%s endpoint refusing connections in the middle of a graph sync', (store) => {
  it(`the sync under way (four downloads at once) fails; nothing it wrote is readable as a ticket; once ${store} accepts, every message is one ticket with its attachments`, async () => {
    const outage = outageWorld();
    const { world, repo, read, probe } = outage;
    const { mailbox, subjects } = await syncedMailbox(`midway-${store}`);
    await outageMidSync(outage, {
      connector: world.graph,
      mailbox,
      store,
      subjects,
      idPrefix: 'graph-midway',
      async whileRefused() {
        // Whatever the cut-short pass left is not readable as a ticket.
        const items = await repo.listTickets(mailbox.tenantId, mailbox.mailboxId);
        const shown = (await outage.readable(mailbox)).map((v) => v.subject);
        for (const subject of shown) expect(subjects).toContain(subject);
        for (const view of await outage.readable(mailbox)) expect(view.messages).toHaveLength(1);
        const readableIds = new Set((await listTickets(read, mailbox.tenantId, probe, mailbox.mailboxId)).map((t) => t.ticketId));
        for (const item of items.filter((t) => !readableIds.has(t.ticketId))) {
          await expect(showTicket(read, mailbox.tenantId, item.ticketId, probe)).rejects.toBeInstanceOf(NotFound);
        }
      },
    });
    expect(await repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toHaveLength(7);
    const objects = await storedObjects(mailbox);
    expect(objects.att).toBe(2);
    // DynamoDB: each message's raw once. S3: as for Gmail (store-outage.test.ts), a pass cut short before
    // its claim may leave its raw object behind, one per download under way (at most four).
    if (store === 'dynamodb') expect(objects.raw).toBe(7);
    else {
      expect(objects.raw).toBeGreaterThanOrEqual(7);
      expect(objects.raw).toBeLessThanOrEqual(7 + 4);
    }
  }, 60_000);
});
