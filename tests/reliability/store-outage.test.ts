// Local dependency faults: the DynamoDB endpoint (and, separately, the S3 endpoint) refusing connections
// for a while. The composition is npm start's (bench/reliability-queues.ts: the fake Gmail pushing over
// HTTP to the real webhook, the FIFO sync queue with its DLQ on fauxqs, the sync handler on a poller),
// with one change: the stack's DynamoDB and S3 clients reach dynalite and s3rver through a TCP proxy
// (tests/reliability/tcp-proxy.ts) the test can make refuse connections. The test reads the stored state
// through clients of its own, straight to the servers, with the domain's read use-cases.
//
// While the endpoint refuses, the mailbox's sync jobs fail and come back on the queue's schedule — not
// lost, not dead-lettered, the mailbox cursor not moved, no ticket readable. Once it accepts again,
// every message delivered (before the outage, and during it, when the webhook itself may fail) is one
// ticket with its raw message and attachment stored once, and the DLQ is empty. The outage also begins
// in the middle of a sync (between a new ticket's item and its message item; between a raw object and its
// attachment): what the cut-short pass left is not readable as a ticket, and its retry completes it.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { customerMail, startReliabilityWorld, type ReliabilityMailbox, type ReliabilityWorld } from '../../bench/reliability-queues.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import type { Accessor } from '../../shared/domain/audit.js';
import { NotFound } from '../../shared/domain/errors.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import { listTickets, showTicket, type ReadDeps } from '../../shared/domain/tickets.js';
import type { TcpProxy } from './tcp-proxy.js';

// The world's storage (tests/support/local-storage.ts), with its clients pointed at the proxies.
const endpoints = vi.hoisted(() => ({}) as { dynamo?: { direct: string; proxy: TcpProxy }; s3?: { direct: string; bucket: string; proxy: TcpProxy } });
vi.mock('../support/local-storage.js', async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { makeS3Client, S3BlobStore } = await import('../../shared/adapters/s3/s3-blob-store.js');
  const { startDynalite } = await import('../../shared/local/dynalite.js');
  const { S3RVER_CREDENTIALS, startS3rver } = await import('../../shared/local/s3rver.js');
  const { TcpProxy } = await import('./tcp-proxy.js');
  return {
    async startLocalStorage(name: string) {
      const dir = await mkdtemp(join(tmpdir(), `m2t-${name}-`));
      const dynamo = await startDynalite();
      const s3 = await startS3rver({ dir: join(dir, 's3') });
      const dynamoProxy = await TcpProxy.start(dynamo.endpoint);
      const s3Proxy = await TcpProxy.start(s3.endpoint);
      endpoints.dynamo = { direct: dynamo.endpoint, proxy: dynamoProxy };
      endpoints.s3 = { direct: s3.endpoint, bucket: s3.bucket, proxy: s3Proxy };
      const client = new DynamoDBClient({ endpoint: dynamoProxy.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      return {
        dir,
        client,
        blobs: () => new S3BlobStore(makeS3Client({ endpoint: s3Proxy.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS }), s3.bucket),
        stop: async () => {
          client.destroy();
          await s3Proxy.stop();
          await dynamoProxy.stop();
          await s3.stop();
          await dynamo.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  };
});

// The ingest claim's lease scaled down with the queue's visibility timeout: a retry takes over an
// ingestion an outage cut short only once its lease has run out (120 s by default, well inside the
// deployed queue's retry schedule but not this test's 10 receives × 2 s).
vi.mock('../../shared/domain/limits.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../shared/domain/limits.js')>();
  return { ...original, DEFAULT_LIMITS: Object.freeze({ ...original.DEFAULT_LIMITS, claimLeaseSeconds: 3 }) };
});

const VISIBILITY_SECONDS = 2;
/** High enough that the outage below (about three receives) neither dead-letters nor parks a job. */
const MAX_RECEIVES = 10;
/** Receives of each queued job the outage lasts. */
const OUTAGE_RECEIVES = 3;
const BEFORE = 4;
const DURING = 2;
const PROBE: Accessor = { actor: 'operator:outage-probe', reason: 'store outage test' };

let world: ReliabilityWorld;
let direct: { client: DynamoDBClient; repo: DynamoDbTicketRepository; blobs: S3BlobStore; read: ReadDeps };

beforeAll(async () => {
  world = await startReliabilityWorld({ visibilityTimeoutSeconds: VISIBILITY_SECONDS, maxReceiveCount: MAX_RECEIVES });
  const client = new DynamoDBClient({ endpoint: endpoints.dynamo!.direct, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const repo = new DynamoDbTicketRepository(client, 'reliability');
  const blobs = new S3BlobStore(makeS3Client({ endpoint: endpoints.s3!.direct, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }), endpoints.s3!.bucket);
  // The world's key directory: the same tenant keys the pipeline sealed the tickets with.
  const keys = new LocalKeyService({ keyDir: join(world.storage.dir, 'keys') });
  direct = { client, repo, blobs, read: { repo, blobs, keys, audit: new DynamoDbAuditLog(client, 'reliability'), clock: { now: () => new Date() }, ids: { next: () => ulid(), randomToken: () => randomBytes(20).toString('hex') } } };
}, 60_000);
afterAll(async () => {
  direct?.client.destroy();
  await endpoints.dynamo?.proxy.accept();
  await endpoints.s3?.proxy.accept();
  await world?.stop();
});

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T> | T, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(100);
  }
}

async function inQueue(queueUrl: string): Promise<number> {
  const { Attributes } = await world.queues.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
}

/** Objects of a mailbox in the bucket, read straight from s3rver. */
async function storedObjects(mailbox: ReliabilityMailbox): Promise<{ raw: number; att: number; body: number }> {
  const prefix = mailboxPrefix(mailbox.tenantId, mailbox.mailboxId);
  const counts = { raw: 0, att: 0, body: 0 };
  for await (const { key } of direct.blobs.list(prefix)) {
    const kind = key.slice(prefix.length).split('/')[0];
    if (kind === 'raw' || kind === 'att' || kind === 'body') counts[kind]++;
  }
  return counts;
}

/** What a reader sees of a mailbox through the domain's read use-cases: every ticket, shown whole. */
async function readable(mailbox: ReliabilityMailbox) {
  const tickets = await listTickets(direct.read, mailbox.tenantId, PROBE, mailbox.mailboxId);
  return Promise.all(tickets.map((t) => showTicket(direct.read, mailbox.tenantId, t.ticketId, PROBE)));
}

describe.each(['dynamodb', 's3'] as const)('%s endpoint refusing connections', (store) => {
  it(`gmail sync jobs fail and are retried on the FIFO queue while ${store} refuses; none is dead-lettered, no ticket is half-written; once it accepts, every message is one ticket, raw and attachments stored once`, async () => {
    const proxy = store === 'dynamodb' ? endpoints.dynamo!.proxy : endpoints.s3!.proxy;
    const { poller, metrics, queueUrl, dlqUrl } = world.gmail;
    const mailbox = await world.addMailbox('gmail', `outage-${store}`);
    const cursorBefore = (await direct.repo.getMailbox(mailbox.tenantId, mailbox.mailboxId))?.connection?.cursor;
    expect(cursorBefore).toEqual(expect.any(String));

    // Mail before the outage: pushes accepted by the webhook, sync jobs waiting (the workers held back).
    await poller.stop();
    const accepted = metrics.get('gmail.push_accepted');
    const subjects: string[] = [];
    const deliver = (i: number) => {
      const id = `${store}-outage-${i}`;
      subjects.push(`question ${id}`);
      // One attachment before the outage, one during it.
      world.deliver(mailbox, customerMail(mailbox.address, id, i === 0 || i === BEFORE ? { attachment: randomBytes(3000) } : {}));
    };
    for (let i = 0; i < BEFORE; i++) deliver(i);
    await until('the pushes accepted', 10_000, () => metrics.get('gmail.push_accepted') - accepted, (n) => n >= BEFORE);
    const queued = await inQueue(queueUrl);
    expect(queued).toBeGreaterThanOrEqual(1);

    // The outage: the workers run again and every sync of the mailbox fails; more mail arrives meanwhile.
    await proxy.refuse();
    const refusedAt = Date.now();
    const before = { ...poller.stats };
    let during: { batches: number; received: number; failed: number; deleted: number };
    try {
      await poller.start();
      for (let i = BEFORE; i < BEFORE + DURING; i++) deliver(i);
      // The head job of the mailbox's FIFO group fails and comes back after each visibility timeout.
      await until(
        `${OUTAGE_RECEIVES} failed receive rounds`,
        OUTAGE_RECEIVES * (VISIBILITY_SECONDS + 2) * 1000 + 6_000,
        () => ({ batches: poller.stats.batches - before.batches, failed: poller.stats.failed - before.failed }),
        (n) => n.batches >= OUTAGE_RECEIVES && n.failed >= OUTAGE_RECEIVES,
      );
      during = { batches: poller.stats.batches - before.batches, received: poller.stats.records - before.records, failed: poller.stats.failed - before.failed, deleted: poller.stats.deleted - before.deleted };
      expect(during.deleted).toBe(0);
      expect(during.failed).toBe(during.received);
      expect(await inQueue(dlqUrl)).toBe(0);
      expect(await inQueue(queueUrl)).toBeGreaterThanOrEqual(queued);
      // Nothing half-written is readable, and the cursor has not moved past mail that is not in.
      expect(await readable(mailbox)).toEqual([]);
      expect(await direct.repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toEqual([]);
      expect((await direct.repo.getMailbox(mailbox.tenantId, mailbox.mailboxId))?.connection?.cursor).toBe(cursorBefore);
      expect(await storedObjects(mailbox)).toEqual({ raw: 0, att: 0, body: 0 });
      // Mail delivered during a DynamoDB outage: the webhook cannot look its mailbox up (Pub/Sub would
      // redeliver); the queued jobs, reading the history from the cursor, bring it in all the same.
      expect(metrics.get('gmail.push_accepted') - accepted).toBe(store === 'dynamodb' ? BEFORE : BEFORE + DURING);
    } finally {
      // The endpoint accepts again (a failed assertion above must not leave the next test an outage).
      await proxy.accept();
    }
    const acceptedAt = Date.now();
    await world.drain(30_000);
    const recoveredMs = Date.now() - acceptedAt;

    // Every message is one ticket, shown whole; each attachment stored once, clean, with its bytes.
    const views = await readable(mailbox);
    expect(views.map((v) => v.subject).sort()).toEqual([...subjects].sort());
    for (const view of views) expect(view.messages).toHaveLength(1);
    for (const view of views) {
      const stored = await direct.repo.listAttachments(mailbox.tenantId, view.ticketId);
      const withAttachment = view.subject.endsWith('-0') || view.subject.endsWith(`-${BEFORE}`);
      expect(stored.map((a) => [a.contentType, a.scan, a.blobKey !== null])).toEqual(withAttachment ? [['application/pdf', 'clean', true]] : []);
    }
    expect(await storedObjects(mailbox)).toEqual({ raw: BEFORE + DURING, att: 2, body: expect.any(Number) });
    expect(await world.objects(mailbox)).toEqual({ raw: BEFORE + DURING, att: 2 });
    expect(await inQueue(queueUrl)).toBe(0);
    expect(await inQueue(dlqUrl)).toBe(0);
    expect((await direct.repo.getMailbox(mailbox.tenantId, mailbox.mailboxId))?.connection?.cursor).not.toBe(cursorBefore);
    console.info(
      `${store} outage: ${queued} sync jobs queued; ${during.batches} receive rounds (${during.failed} records) failed over ${acceptedAt - refusedAt} ms, none dead-lettered; ` +
        `all ${BEFORE + DURING} messages in ${recoveredMs} ms after the endpoint accepted`,
    );
  }, 60_000);
});

/**
 * Where each outage begins in the middle of a sync: DynamoDB at the message item's put that follows the
 * batch holding a new ticket's item; S3 at the first attachment's put, after the raw message's.
 */
function midway(store: 'dynamodb' | 's3'): (chunk: Buffer) => boolean {
  if (store === 'dynamodb') {
    let batched = false;
    return (chunk) => {
      const text = chunk.toString('latin1');
      if (/x-amz-target: DynamoDB_20120810\.BatchWriteItem/i.test(text)) batched = true;
      return batched && /x-amz-target: DynamoDB_20120810\.PutItem/i.test(text);
    };
  }
  return (chunk) => /^PUT \S*\/att\//.test(chunk.toString('latin1'));
}

describe.each(['dynamodb', 's3'] as const)('%s endpoint refusing connections in the middle of a sync', (store) => {
  it(`the sync under way fails; nothing it wrote is readable as a ticket; once ${store} accepts, every message is one ticket with its raw message and attachments stored once (regression: a new ticket whose message item was never written was listed and shown with no message)`, async () => {
    const proxy = store === 'dynamodb' ? endpoints.dynamo!.proxy : endpoints.s3!.proxy;
    const { poller, dlqUrl, queueUrl } = world.gmail;
    const mailbox = await world.addMailbox('gmail', `midway-${store}`);
    const subjects: string[] = [];
    const before = { ...poller.stats };
    proxy.refuseWhen(midway(store));
    let seen: { objects: unknown; items: number };
    try {
      for (let i = 0; i < 6; i++) {
        const id = `${store}-midway-${i}`;
        subjects.push(`question ${id}`);
        // The first message has an attachment: the S3 outage begins in its ingestion.
        world.deliver(mailbox, customerMail(mailbox.address, id, i % 3 === 0 ? { attachment: randomBytes(4096) } : {}));
      }
      await until('the outage', 10_000, () => proxy.accepting, (accepting) => !accepting);
      await until('a failed sync', 10_000, () => poller.stats.failed - before.failed, (n) => n >= 1);
      // What the cut-short ingestion left: a ticket item without its message (DynamoDB), a raw object
      // without its ticket (S3). Neither is readable as a ticket.
      const items = await direct.repo.listTickets(mailbox.tenantId, mailbox.mailboxId);
      seen = { objects: await storedObjects(mailbox), items: items.length };
      expect(await readable(mailbox)).toEqual([]);
      for (const item of items) await expect(showTicket(direct.read, mailbox.tenantId, item.ticketId, PROBE)).rejects.toBeInstanceOf(NotFound);
      expect(await inQueue(dlqUrl)).toBe(0);
    } finally {
      await proxy.accept();
    }
    await world.drain(30_000).catch((error: unknown) => {
      throw new Error(`not drained: ${JSON.stringify(poller.stats)}; handler: ${String(poller.lastHandlerError)}`, { cause: error });
    });
    const views = await readable(mailbox);
    expect(views.map((v) => v.subject).sort()).toEqual([...subjects].sort());
    for (const view of views) expect(view.messages).toHaveLength(1);
    expect(views.flatMap((v) => v.messages.flatMap((m) => m.attachments))).toHaveLength(2);
    expect(await direct.repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toHaveLength(6);
    // KNOWN GAP (S3, reported, not fixed): the raw object the cut-short pass stored before its claim stays
    // behind — its clean-up delete failed with S3 refusing, and nothing references or sweeps it. It is
    // not readable as anything; each message's own objects are stored once.
    expect(await storedObjects(mailbox)).toEqual({ raw: store === 's3' ? 7 : 6, att: 2, body: expect.any(Number) });
    expect(await inQueue(queueUrl)).toBe(0);
    expect(await inQueue(dlqUrl)).toBe(0);
    console.info(`${store} outage mid-sync: left at the outage ${JSON.stringify(seen)}; ${poller.stats.failed - before.failed} records failed before recovery`);
  }, 60_000);
});
