// What the store-outage suites share (store-outage.test.ts drives the Gmail connector,
// graph-store-outage.test.ts the Microsoft 365 one): the reliability world of bench/reliability-queues.ts
// with its DynamoDB and S3 clients behind TCP proxies (tcp-proxy.ts) a test makes refuse connections;
// clients of the test's own, straight to dynalite and s3rver, to read what is stored whatever the
// proxies do; and the two outage scenarios — between syncs, and beginning in the middle of one — with
// the expectations every connector meets in them. Each suite keeps its connector and its own assertions.
// Also the polling helper and queue depth the other reliability suites use.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ulid } from 'ulid';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ReliabilityMailbox, ReliabilityWorld } from '../../bench/reliability-queues.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import type { Accessor } from '../../shared/domain/audit.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import { listTickets, showTicket, type ReadDeps, type TicketView } from '../../shared/domain/tickets.js';
import { startDynalite } from '../../shared/local/dynalite.js';
import { S3RVER_CREDENTIALS, startS3rver } from '../../shared/local/s3rver.js';
import type { LocalStorage } from '../support/local-storage.js';
import { TcpProxy } from './tcp-proxy.js';

/** Polls `probe` every 100 ms until `done` holds of its value; fails naming `what`, with the last value, after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T> | T, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(100);
  }
}

/** Jobs waiting, in flight or delayed on a queue. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + Number(Attributes?.[name] ?? 0), 0);
}

// bench/reliability-queues.ts is loaded on first use, not imported at the top: it imports
// tests/support/local-storage.ts, and the outage suites' mock of that module is this one (a cycle at load time).
const reliabilityQueues = () => import('../../bench/reliability-queues.js');

export type Store = 'dynamodb' | 's3';

/** The world's local storage (tests/support/local-storage.ts) with its clients reaching each server through a proxy. */
interface ProxiedStorage extends LocalStorage {
  proxies: Record<Store, TcpProxy>;
  /** The servers themselves, past the proxies. */
  direct: { dynamoEndpoint: string; s3Endpoint: string; bucket: string };
}

const LOCAL_DYNAMO_CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };

async function startProxiedStorage(name: string): Promise<ProxiedStorage> {
  const dir = await mkdtemp(join(tmpdir(), `m2t-${name}-`));
  const dynamo = await startDynalite();
  const s3 = await startS3rver({ dir: join(dir, 's3') });
  const dynamoProxy = await TcpProxy.start(dynamo.endpoint);
  const s3Proxy = await TcpProxy.start(s3.endpoint);
  const client = new DynamoDBClient({ endpoint: dynamoProxy.endpoint, region: 'us-east-1', credentials: LOCAL_DYNAMO_CREDENTIALS });
  return {
    dir,
    client,
    blobs: () => new S3BlobStore(makeS3Client({ endpoint: s3Proxy.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS }), s3.bucket),
    proxies: { dynamodb: dynamoProxy, s3: s3Proxy },
    direct: { dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, bucket: s3.bucket },
    stop: async () => {
      client.destroy();
      await s3Proxy.stop();
      await dynamoProxy.stop();
      await s3.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What an outage suite's `vi.mock('../support/local-storage.js', ...)` stands in with: the same storage,
 * its clients pointed at the proxies. (vi.mock is hoisted above the imports, so the suite's factory
 * imports this module and calls this.)
 */
export function proxiedLocalStorageModule(): typeof import('../support/local-storage.js') {
  return { startLocalStorage: startProxiedStorage };
}

function proxied(storage: LocalStorage): ProxiedStorage {
  if (!('proxies' in storage)) throw new Error('the world runs on unproxied storage: the suite must mock ../support/local-storage.js with proxiedLocalStorageModule()');
  return storage as ProxiedStorage;
}

export const VISIBILITY_SECONDS = 2;
/** High enough that the outage between syncs (about three receives) neither dead-letters nor parks a job. */
export const MAX_RECEIVES = 10;
/** Receives of each queued job the outage between syncs lasts. */
export const OUTAGE_RECEIVES = 3;
/** Messages delivered before the outage between syncs (the first with an attachment)… */
export const BEFORE = 4;
/** …and during it (the first with an attachment). */
export const DURING = 2;
/** Messages delivered in the outage beginning mid-sync (the first and fourth with an attachment). */
export const MID_SYNC_MESSAGES = 6;

export interface OutageWorld {
  world: ReliabilityWorld;
  /** The ticket repository and bucket straight on dynalite and s3rver, past the proxies. */
  repo: DynamoDbTicketRepository;
  blobs: S3BlobStore;
  /** The domain's read use-cases' dependencies on those, with the tenant keys the pipeline sealed with. */
  read: ReadDeps;
  probe: Accessor;
  /** The proxy in front of the store's endpoint, which the world's clients go through. */
  proxy(store: Store): TcpProxy;
  /** What a reader sees of a mailbox through the domain's read use-cases: every ticket, shown whole. */
  readable(mailbox: ReliabilityMailbox): Promise<TicketView[]>;
  /** Objects of a mailbox in the bucket by kind, read straight from s3rver. */
  storedObjects(mailbox: ReliabilityMailbox): Promise<{ raw: number; att: number; body: number }>;
  /** The mailbox's stored sync cursor (Gmail history id, Graph delta link). */
  cursor(mailbox: ReliabilityMailbox): Promise<string | undefined>;
  depth(queueUrl: string): Promise<number>;
  stop(): Promise<void>;
}

/** The world with the outage scenarios' queue settings, and the test's direct readers. `probe` names the reads in the audit log. */
async function startOutageWorld(probe: Accessor): Promise<OutageWorld> {
  const { startReliabilityWorld } = await reliabilityQueues();
  const world = await startReliabilityWorld({ visibilityTimeoutSeconds: VISIBILITY_SECONDS, maxReceiveCount: MAX_RECEIVES });
  try {
    const storage = proxied(world.storage);
    const client = new DynamoDBClient({ endpoint: storage.direct.dynamoEndpoint, region: 'us-east-1', credentials: LOCAL_DYNAMO_CREDENTIALS });
    const repo = new DynamoDbTicketRepository(client, 'reliability');
    const blobs = new S3BlobStore(makeS3Client({ endpoint: storage.direct.s3Endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS }), storage.direct.bucket);
    // The world's key directory: the same tenant keys the pipeline sealed the tickets with.
    const keys = new LocalKeyService({ keyDir: join(world.storage.dir, 'keys') });
    const read: ReadDeps = { repo, blobs, keys, audit: new DynamoDbAuditLog(client, 'reliability'), clock: { now: () => new Date() }, ids: { next: () => ulid(), randomToken: () => randomBytes(20).toString('hex') } };
    return {
      world,
      repo,
      blobs,
      read,
      probe,
      proxy: (store) => storage.proxies[store],
      async readable(mailbox) {
        const tickets = await listTickets(read, mailbox.tenantId, probe, mailbox.mailboxId);
        return Promise.all(tickets.map((t) => showTicket(read, mailbox.tenantId, t.ticketId, probe)));
      },
      async storedObjects(mailbox) {
        const prefix = mailboxPrefix(mailbox.tenantId, mailbox.mailboxId);
        const counts = { raw: 0, att: 0, body: 0 };
        for await (const { key } of blobs.list(prefix)) {
          const kind = key.slice(prefix.length).split('/')[0];
          if (kind === 'raw' || kind === 'att' || kind === 'body') counts[kind]++;
        }
        return counts;
      },
      cursor: async (mailbox) => (await repo.getMailbox(mailbox.tenantId, mailbox.mailboxId))?.connection?.cursor,
      depth: (queueUrl) => queueDepth(world.queues.client, queueUrl),
      async stop() {
        client.destroy();
        // A failed test must not leave the world's own stop an outage.
        await storage.proxies.dynamodb.accept();
        await storage.proxies.s3.accept();
        await world.stop();
      },
    };
  } catch (error) {
    await world.stop();
    throw error;
  }
}

/** Starts the outage world before the file's tests and stops it after them; the function returned hands it to a test. */
export function outageWorldForFile(probe: Accessor): () => OutageWorld {
  let outage: OutageWorld | undefined;
  beforeAll(async () => {
    outage = await startOutageWorld(probe);
  }, 60_000);
  afterAll(async () => {
    await outage?.stop();
  });
  return () => {
    if (!outage) throw new Error('the outage world has not started');
    return outage;
  };
}

/** The connector under test: its sync queue, dead-letter queue and workers (world.gmail, world.graph). */
export type OutageConnector = Pick<ReliabilityWorld['gmail'], 'poller' | 'queueUrl' | 'dlqUrl'>;

interface Scenario {
  connector: OutageConnector;
  mailbox: ReliabilityMailbox;
  store: Store;
  /** The subjects the mailbox's tickets must end up with; the scenario adds those of the mail it delivers. */
  subjects: string[];
  /** Message ids are `${store}-${idPrefix}-${i}`: distinct across the suites. */
  idPrefix: string;
  /** The suite's own checks while the endpoint still refuses. */
  whileRefused(): Promise<void>;
}

/** Delivers question `i` of the scenario to its mailbox (with an attachment of `attachmentBytes` random bytes, if given). */
async function questions(o: OutageWorld, s: Scenario): Promise<(i: number, attachmentBytes?: number) => void> {
  const { customerMail } = await reliabilityQueues();
  return (i, attachmentBytes) => {
    const id = `${s.store}-${s.idPrefix}-${i}`;
    s.subjects.push(`question ${id}`);
    o.world.deliver(s.mailbox, customerMail(s.mailbox.address, id, attachmentBytes === undefined ? {} : { attachment: randomBytes(attachmentBytes) }));
  };
}

/** Every delivered message is one ticket with one message, all in, both queues empty. */
async function expectEveryMessageOneTicket(o: OutageWorld, s: Scenario): Promise<TicketView[]> {
  const views = await o.readable(s.mailbox);
  expect(views.map((v) => v.subject).sort()).toEqual([...s.subjects].sort());
  for (const view of views) expect(view.messages).toHaveLength(1);
  expect(await o.depth(s.connector.queueUrl)).toBe(0);
  expect(await o.depth(s.connector.dlqUrl)).toBe(0);
  return views;
}

export interface BetweenSyncs extends Scenario {
  /** Once the mail before the outage is delivered (the workers held back): the sync jobs it queued. */
  queued(): Promise<number>;
}

export interface BetweenSyncsRun {
  queued: number;
  /** What the workers did while the endpoint refused. */
  during: { batches: number; received: number; failed: number; deleted: number };
  refusedAt: number;
  acceptedAt: number;
  recoveredMs: number;
}

/**
 * The outage between syncs. With the connector's workers held back, BEFORE messages arrive and their
 * sync jobs queue up; then the store's endpoint refuses, the workers run again and DURING more messages
 * arrive. For OUTAGE_RECEIVES receive rounds every sync of the mailbox fails and its job comes back on the
 * queue's schedule: none deleted, none dead-lettered, the jobs still queued, the cursor where it was.
 * Once the endpoint accepts and the queues drain, every message is one ticket, shown whole, whose
 * attachment (first message before the outage, first during it) is stored once, clean; the queues are
 * empty and the cursor has moved.
 */
export async function outageBetweenSyncs(o: OutageWorld, s: BetweenSyncs): Promise<BetweenSyncsRun> {
  const { poller, queueUrl, dlqUrl } = s.connector;
  const proxy = o.proxy(s.store);
  const cursorBefore = await o.cursor(s.mailbox);
  expect(cursorBefore).toEqual(expect.any(String));
  const question = await questions(o, s);
  // One attachment before the outage, one during it.
  const deliver = (i: number) => question(i, i === 0 || i === BEFORE ? 3000 : undefined);

  // Mail before the outage: sync jobs waiting (the workers held back).
  await poller.stop();
  for (let i = 0; i < BEFORE; i++) deliver(i);
  const queued = await s.queued();

  // The outage: the workers run again and every sync of the mailbox fails; more mail arrives meanwhile.
  await proxy.refuse();
  const refusedAt = Date.now();
  const before = { ...poller.stats };
  let during: BetweenSyncsRun['during'];
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
    expect(await o.depth(dlqUrl)).toBe(0);
    expect(await o.depth(queueUrl)).toBeGreaterThanOrEqual(queued);
    // The cursor has not moved past mail that is not in.
    expect(await o.cursor(s.mailbox)).toBe(cursorBefore);
    await s.whileRefused();
  } finally {
    // The endpoint accepts again (a failed assertion above must not leave the next test an outage).
    await proxy.accept();
  }
  const acceptedAt = Date.now();
  await o.world.drain(30_000);
  const recoveredMs = Date.now() - acceptedAt;

  // Every message is one ticket, shown whole; each attachment stored once, clean, with its bytes.
  const views = await expectEveryMessageOneTicket(o, s);
  for (const view of views) {
    const stored = await o.repo.listAttachments(s.mailbox.tenantId, view.ticketId);
    const withAttachment = view.subject.endsWith('-0') || view.subject.endsWith(`-${BEFORE}`);
    expect(stored.map((a) => [a.contentType, a.scan, a.blobKey !== null])).toEqual(withAttachment ? [['application/pdf', 'clean', true]] : []);
  }
  expect(await o.cursor(s.mailbox)).not.toBe(cursorBefore);
  return { queued, during, refusedAt, acceptedAt, recoveredMs };
}

/**
 * Where each outage begins in the middle of a sync: DynamoDB at the message item's put that follows the
 * batch holding a new ticket's item; S3 at the first attachment's put, after the raw message's.
 */
function midway(store: Store): (chunk: Buffer) => boolean {
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

/**
 * The outage beginning in the middle of a sync (see midway): MID_SYNC_MESSAGES messages arrive, the
 * sync under way fails when the endpoint starts refusing, and nothing is dead-lettered meanwhile. Once
 * it accepts and the queues drain, every message is one ticket with one message, the two attachments are
 * in, and the queues are empty. Resolves to the records that failed before the recovery.
 */
export async function outageMidSync(o: OutageWorld, s: Scenario): Promise<{ failed: number }> {
  const { poller, dlqUrl } = s.connector;
  const proxy = o.proxy(s.store);
  const question = await questions(o, s);
  const before = { ...poller.stats };
  proxy.refuseWhen(midway(s.store));
  try {
    // The first message has an attachment: the S3 outage begins in its ingestion.
    for (let i = 0; i < MID_SYNC_MESSAGES; i++) question(i, i % 3 === 0 ? 4096 : undefined);
    await until('the outage', 10_000, () => proxy.accepting, (accepting) => !accepting);
    await until('a failed sync', 10_000, () => poller.stats.failed - before.failed, (n) => n >= 1);
    await s.whileRefused();
    expect(await o.depth(dlqUrl)).toBe(0);
  } finally {
    await proxy.accept();
  }
  await o.world.drain(30_000).catch((error: unknown) => {
    throw new Error(`not drained: ${JSON.stringify(poller.stats)}; handler: ${String(poller.lastHandlerError)}`, { cause: error });
  });
  const views = await expectEveryMessageOneTicket(o, s);
  expect(views.flatMap((v) => v.messages.flatMap((m) => m.attachments))).toHaveLength(2);
  return { failed: poller.stats.failed - before.failed };
}
