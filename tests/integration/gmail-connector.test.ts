// The Gmail connector end to end on real parts: the real @googleapis/gmail client and
// google-auth-library against the fake Gmail (Google's wire format), pushes signed like Pub/Sub's,
// the SQS FIFO queue on fauxqs through the real SDK with a Lambda-style poller, tickets on dynalite
// and s3rver, attachments through the real clamd.
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createLocalJWKSet } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlePush } from '../../functions/gmail-push/make-handler.js';
import { handleSyncRecord, makeHandler as makeSyncHandler, type GmailSyncHandlerDeps } from '../../functions/gmail-sync/make-handler.js';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbDirectoryReader } from '../../shared/adapters/dynamodb/dynamodb-directory-reader.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { PubSubPushVerifier } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { SqsJobDeferral, SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { simpleParser } from 'mailparser';
import { sendGmailReply, type ReplyDeps } from '../../shared/domain/gmail/reply.js';
import { RequesterRestricted } from '../../shared/domain/reply-common.js';
import { restrictRequester } from '../../shared/domain/requesters.js';
import { verifyAuditChain } from '../../shared/domain/audit.js';
import { connectGmailMailbox, enqueueSafetySyncs, releaseGmailMailbox, renewGmailWatches } from '../../shared/domain/gmail/lifecycle.js';
import { syncGmailMailbox } from '../../shared/domain/gmail/sync.js';
import type { GmailPushDeps } from '../../shared/domain/gmail/push.js';
import { DEFAULT_GMAIL_SETTINGS } from '../../shared/domain/gmail/ports.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { disconnectMailbox } from '../../shared/domain/retention.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { startLocalQueues, type LocalQueues } from '../../shared/local/queues.js';
import { SqsPoller } from '../../shared/local/sqs-poller.js';
import { FakeGmail } from '../../shared/sandbox/fake-gmail.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';
import { clamdSocket } from '../support/clamd.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';
import { SequentialIds } from '../support/memory.js';
import { ProviderMisconfigured } from '../../shared/domain/provider-errors.js';

/** Real time (Retry-After waits are real here), movable forward for the stalled-push check. */
class OffsetClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

const AUDIENCE = 'https://mail2ticket.test/webhooks/gmail';
const PUSH_ACCOUNT = 'gmail-push@mail2ticket-test.iam.gserviceaccount.com';
const TOPIC = 'projects/mail2ticket-test/topics/gmail';
const CLIENT = { clientId: 'client-1.apps.googleusercontent.com', clientSecret: 'secret-1' };
const MAILBOX = 'support@acme.example';
const TENANT = 'acme';

let storage: LocalStorage;
let queues: LocalQueues;
let fake: FakeGmail;
let emitter: PubSubPushEmitter;
let tableNo = 0;

beforeAll(async () => {
  storage = await startLocalStorage('gmail');
  // Short visibility so a deferred or failed job comes back within the test's patience.
  queues = await startLocalQueues({ queues: [] });
  emitter = await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT });
});
afterAll(async () => {
  await queues.stop();
  await storage.stop();
});

interface World {
  repo: DynamoDbTicketRepository;
  metrics: CountingMetrics;
  clock: OffsetClock;
  sync: GmailSyncHandlerDeps;
  push: GmailPushDeps;
  poller: SqsPoller;
  mailboxId: string;
  reply: ReplyDeps;
}
let world: World;

function mail(id: string, options: { subject?: string; inReplyTo?: string; attachment?: Buffer; from?: string } = {}): Buffer {
  const lines = [
    `From: ${options.from ?? 'Alice <alice@customer.example>'}`,
    `To: ${MAILBOX}`,
    `Subject: ${options.subject ?? `question ${id}`}`,
    `Message-ID: <${id}@customer.example>`,
    ...(options.inReplyTo ? [`In-Reply-To: <${options.inReplyTo}@customer.example>`, `References: <${options.inReplyTo}@customer.example>`] : []),
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
  ];
  if (!options.attachment) return Buffer.from([...lines, 'Content-Type: text/plain; charset=utf-8', '', `body of ${id}`, ''].join('\r\n'));
  return Buffer.from(
    [
      ...lines,
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      `body of ${id}`,
      '--b',
      'Content-Type: application/octet-stream',
      'Content-Disposition: attachment; filename="file.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      options.attachment.toString('base64').replace(/.{76}/g, '$&\r\n'),
      '--b--',
      '',
    ].join('\r\n'),
  );
}

beforeEach(async () => {
  fake = new FakeGmail({ clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret });
  await fake.start();
  fake.addMailbox(MAILBOX, { refreshToken: 'refresh-acme' });

  const tableName = `gmail-${++tableNo}`;
  await ensureTable(storage.client, tableName);
  const repo = new DynamoDbTicketRepository(storage.client, tableName);
  const metrics = new CountingMetrics();
  const clock = new OffsetClock();
  const keys = new LocalKeyService({ keyDir: join(storage.dir, 'keys') });
  // A queue of its own: a stopped poller's long poll stays open at the server for up to a second, and a
  // job the next test enqueued meanwhile would go to it and stay invisible for the visibility timeout.
  const { queueUrl } = await queues.addQueue({ name: `gmail-sync-${tableNo}`, visibilityTimeoutSeconds: 2, maxReceiveCount: 4 });
  const queue = new SqsJobQueue(queues.client, queueUrl);
  const sync: GmailSyncHandlerDeps = {
    repo,
    blobs: storage.blobs(),
    keys,
    scanner: new ClamdScanner({ socketPath: clamdSocket() }),
    clock,
    ids: new SequentialIds(),
    limits: DEFAULT_LIMITS,
    gmail: new GoogleGmailConnector({ ...CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, revokeUrl: fake.revokeUrl, timeoutMs: 2_000 }),
    metrics,
    settings: { ...DEFAULT_GMAIL_SETTINGS },
    backoff: { attempts: 3, baseMs: 50, capMs: 500, maxInlineWaitMs: 300 },
    queue,
    deferral: new SqsJobDeferral(queues.client, queueUrl),
    maxReceiveCount: 4,
  };
  const push: GmailPushDeps = {
    verifier: new PubSubPushVerifier({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT, keys: createLocalJWKSet(emitter.jwks()) }),
    // As functions/gmail-push/compose.ts wires it: the directory's read side alone.
    directory: new DynamoDbDirectoryReader(storage.client, tableName),
    keys,
    queue,
    metrics,
  };
  const poller = new SqsPoller({ client: queues.client, queueUrl, handler: makeSyncHandler(sync, silentMetrics()), waitTimeSeconds: 1 });
  const reply: ReplyDeps = { ...sync, audit: new DynamoDbAuditLog(storage.client, tableName) };
  world = { repo, metrics, clock, sync, push, poller, mailboxId: `inbox${tableNo}`, reply };
  await connectGmailMailbox({ ...sync, directory: repo, settings: { topicName: TOPIC } }, { tenantId: TENANT, mailboxId: world.mailboxId }, 'refresh-acme');
  await poller.start();
});

afterEach(async () => {
  await world.poller.stop();
  await fake.stop();
  expect(fake.errors).toEqual([]);
});

/** Powertools metrics outside Lambda would print EMF to stdout; the handler only needs the calls. */
function silentMetrics() {
  return { publishStoredMetrics: () => undefined, addMetric: () => undefined } as unknown as Parameters<typeof makeSyncHandler>[1];
}

async function pushFor(options: { messageId?: string; token?: string | null } = {}) {
  const body = emitter.body({ emailAddress: MAILBOX, historyId: fake.historyId(MAILBOX) }, options.messageId ? { messageId: options.messageId } : {});
  const token = options.token === undefined ? await emitter.token() : options.token;
  return handlePush(world.push)({ headers: token === null ? {} : { authorization: `Bearer ${token}` }, body: JSON.stringify(body), isBase64Encoded: false });
}

async function queueDepth(): Promise<number> {
  const { queueUrl } = queues.urls[`gmail-sync-${tableNo}`]!;
  const { Attributes } = await queues.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function dlqDepth(): Promise<number> {
  const { dlqUrl } = queues.urls[`gmail-sync-${tableNo}`]!;
  const { Attributes } = await queues.client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

const tickets = () => world.repo.listTickets(TENANT, world.mailboxId);
const historyCalls = () => fake.count('GET', '/history');
const drain = () => world.poller.drain({ timeoutMs: 30_000 });

describe('push webhook', () => {
  it('answers forged, expired and mismatched pushes with 401 and enqueues nothing', async () => {
    await world.poller.stop();
    const forged = await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT });
    const attempts: Array<string | null> = [
      null,
      'not-a-jwt',
      await emitter.token({ aud: 'https://elsewhere.example/webhooks/gmail' }),
      await emitter.token({ email: 'someone@evil.example' }),
      await emitter.token({ email_verified: false }),
      await emitter.token({ iss: 'https://evil.example' }),
      await emitter.token({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
      await forged.token(),
    ];
    for (const token of attempts) expect((await pushFor({ token })).statusCode).toBe(401);
    expect(await queueDepth()).toBe(0);
    expect(world.metrics.get('gmail.push_unauthenticated')).toBe(attempts.length);
  });

  it('answers an authentic push for an unknown mailbox or undecodable data with 204, counted, nothing enqueued', async () => {
    await world.poller.stop();
    const token = await emitter.token();
    const unknown = emitter.body({ emailAddress: 'nobody@elsewhere.example', historyId: '5' });
    const results = await Promise.all([
      handlePush(world.push)({ headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(unknown), isBase64Encoded: false }),
      handlePush(world.push)({ headers: { authorization: `Bearer ${token}` }, body: '{"message":{"data":"!!!","messageId":"1"}}', isBase64Encoded: false }),
      handlePush(world.push)({ headers: { authorization: `Bearer ${token}` }, body: 'not json', isBase64Encoded: false }),
    ]);
    expect(results.map((r) => r.statusCode)).toEqual([204, 204, 204]);
    expect(world.metrics.get('gmail.push_unusable')).toBe(3);
    expect(await queueDepth()).toBe(0);
  });
});

describe('sync', () => {
  it('turns a pushed message into a ticket, and 100 duplicate pushes into one job and one ticket', async () => {
    fake.deliver(MAILBOX, mail('first'));
    const before = historyCalls();
    const results = await Promise.all(Array.from({ length: 100 }, () => pushFor({ messageId: '777001' })));
    expect(results.every((r) => r.statusCode === 204)).toBe(true);
    await drain();
    expect(historyCalls() - before).toBeLessThanOrEqual(2);
    expect(world.poller.stats.records).toBe(1);
    const list = await tickets();
    expect(list).toHaveLength(1);
    const mailbox = await world.repo.getMailbox(TENANT, world.mailboxId);
    expect(mailbox?.connection?.cursor).toBe(fake.historyId(MAILBOX));
    expect(mailbox?.connection?.lastNotifiedAt).toBeDefined();
  });

  it('threads a reply into the same ticket and scans attachments with clamd (EICAR is refused, bytes not kept)', async () => {
    const eicar = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
    fake.deliver(MAILBOX, mail('q1'));
    await pushFor();
    await drain();
    fake.deliver(MAILBOX, mail('q1-reply', { inReplyTo: 'q1', attachment: eicar }));
    await pushFor();
    await drain();
    const list = await tickets();
    expect(list).toHaveLength(1);
    const messages = await world.repo.listMessages(TENANT, list[0]!.ticketId);
    expect(messages).toHaveLength(2);
    const attachments = await world.repo.listAttachments(TENANT, list[0]!.ticketId);
    expect(attachments.map((a) => [a.scan, a.blobKey])).toEqual([['infected', null]]);
  });

  it('pages through history and advances the cursor past every page', async () => {
    world.sync.gmail = new GoogleGmailConnector({ ...CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, historyPageSize: 2 });
    for (let i = 0; i < 7; i++) fake.deliver(MAILBOX, mail(`paged-${i}`));
    await pushFor();
    await drain();
    expect(await tickets()).toHaveLength(7);
    expect(fake.count('GET', '/history')).toBeGreaterThanOrEqual(4);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.cursor).toBe(fake.historyId(MAILBOX));
  });

  it('ingests only inbox arrivals: not sent, drafts or spam — until spam is rescued to the inbox', async () => {
    fake.deliver(MAILBOX, mail('spam-1'), { labelIds: ['SPAM'] });
    fake.deliver(MAILBOX, mail('draft-1'), { labelIds: ['DRAFT'] });
    fake.deliver(MAILBOX, mail('sent-1'), { labelIds: ['SENT'] });
    await pushFor();
    await drain();
    expect(await tickets()).toHaveLength(0);

    const spam = fake.deliver(MAILBOX, mail('spam-2'), { labelIds: ['SPAM'] });
    await pushFor();
    await drain();
    fake.removeLabels(MAILBOX, spam.id, ['SPAM']);
    fake.addLabels(MAILBOX, spam.id, ['INBOX']);
    await pushFor();
    await drain();
    expect(await tickets()).toHaveLength(1);
  });

  it('catches a lost push with the safety sync and reports the stalled push', async () => {
    fake.deliver(MAILBOX, mail('lost'));
    world.clock.advance(2 * 3600 * 1000);
    const enqueued = await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: world.clock }, 'gmail', 15);
    expect(enqueued).toBe(1);
    // The same schedule slot enqueued twice is one job.
    await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: world.clock }, 'gmail', 15);
    await drain();
    expect(await tickets()).toHaveLength(1);
    expect(world.poller.stats.records).toBe(1);
    expect(world.metrics.get('gmail.push_stalled')).toBe(1);
  });

  it('finding: a mailbox whose pushes never arrived counts as stalled, though safety syncs ran meanwhile', async () => {
    const safetySync = async () => {
      await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: world.clock }, 'gmail', 15);
      await drain();
    };
    // Quiet safety syncs every 15 minutes for 75 minutes: no mail, so nothing to report.
    for (let i = 0; i < 5; i++) {
      world.clock.advance(15 * 60 * 1000);
      await safetySync();
    }
    expect(world.metrics.get('gmail.push_stalled') ?? 0).toBe(0);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.lastNotifiedAt).toBeUndefined();
    // Mail arrives and no push ever announces it: the next safety sync finds it 90 minutes after connect.
    fake.deliver(MAILBOX, mail('never-pushed'));
    world.clock.advance(15 * 60 * 1000);
    await safetySync();
    expect(await tickets()).toHaveLength(1);
    expect(world.metrics.get('gmail.push_stalled')).toBe(1);
  });

  it('falls back to a bounded full sync when history has expired, without duplicating tickets', async () => {
    fake.deliver(MAILBOX, mail('before-1'));
    fake.deliver(MAILBOX, mail('before-2'));
    await pushFor();
    await drain();
    expect(await tickets()).toHaveLength(2);

    await world.repo.updateConnection(TENANT, world.mailboxId, { cursor: '1' });
    fake.expireHistory(MAILBOX);
    fake.deliver(MAILBOX, mail('after-expiry'));
    await pushFor();
    await drain();
    expect(await tickets()).toHaveLength(3);
    expect(world.metrics.get('gmail.full_sync')).toBe(1);
    const mailbox = await world.repo.getMailbox(TENANT, world.mailboxId);
    expect(mailbox?.connection?.lastIssue?.code).toBe('history_expired');
    expect(fake.requests.some((r) => r.path.endsWith('/messages') && (r.query.get('q') ?? '').includes('newer_than:7d'))).toBe(true);
  });

  /** Spent once `allowed` messages were started: the budget is asked before each message after the first. */
  const budgetFor = (allowed: number) => {
    let asked = 0;
    return { spent: () => ++asked >= allowed };
  };
  const rawDownloads = () => fake.requests.filter((r) => /\/messages\/[0-9a-f]+$/.test(r.path) && r.query.get('format') === 'raw').length;
  const job = () => ({ tenantId: TENANT, mailboxId: world.mailboxId, reason: 'push' as const });

  it('a history sync whose time budget is spent saves its place after the last whole record, and the next sync goes on from it', async () => {
    const delivered = ['long-1', 'long-2', 'long-3', 'long-4', 'long-5'].map((id) => fake.deliver(MAILBOX, mail(id)));
    const first = await syncGmailMailbox(world.sync, job(), { budget: budgetFor(2) });
    expect(first).toMatchObject({ outcome: 'paused', mode: 'history', ingested: 2 });
    expect(world.metrics.get('gmail.sync_paused')).toBe(1);
    expect(await tickets()).toHaveLength(2);
    // The cursor is the history record of the second message: history after it starts with the third.
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.cursor).toBe(delivered[1]!.historyId);

    const second = await syncGmailMailbox(world.sync, job());
    expect(second).toMatchObject({ outcome: 'synced', ingested: 3, added: 3 });
    expect(await tickets()).toHaveLength(5);
    expect(rawDownloads()).toBe(5);
    expect(fake.requests.filter((r) => r.path.endsWith('/history')).map((r) => r.query.get('startHistoryId')).at(-1)).toBe(delivered[1]!.historyId);
  });

  it('a full sync whose time budget is spent resumes past the last message it brought in, from the historyId it began with', async () => {
    await world.repo.updateConnection(TENANT, world.mailboxId, { cursor: '1' });
    fake.expireHistory(MAILBOX);
    for (const id of ['full-1', 'full-2', 'full-3', 'full-4']) fake.deliver(MAILBOX, mail(id));
    const first = await syncGmailMailbox(world.sync, job(), { budget: budgetFor(2) });
    expect(first).toMatchObject({ outcome: 'paused', mode: 'full', ingested: 2 });
    const paused = (await world.repo.getMailbox(TENANT, world.mailboxId))?.connection;
    expect(paused?.fullSync).toEqual({ historyId: expect.stringMatching(/^\d+$/), lastId: expect.stringMatching(/^[0-9a-f]+$/) });
    expect(paused?.cursor).toBe('1');

    // Mail arriving meanwhile is in the listing and in the history after the full sync's historyId.
    const meanwhile = fake.deliver(MAILBOX, mail('full-5'));
    const [profiles, histories] = [fake.count('GET', '/profile'), fake.count('GET', '/history')];
    const second = await syncGmailMailbox(world.sync, job());
    expect(second).toMatchObject({ outcome: 'synced', mode: 'full', ingested: 3 });
    // Resumed where it paused: no history read first, no new historyId, nothing downloaded twice.
    expect([fake.count('GET', '/profile'), fake.count('GET', '/history')]).toEqual([profiles, histories]);
    expect(rawDownloads()).toBe(5);
    expect(await tickets()).toHaveLength(5);
    expect(world.metrics.get('gmail.full_sync')).toBe(1);
    const done = (await world.repo.getMailbox(TENANT, world.mailboxId))?.connection;
    expect(done?.fullSync).toBeNull();
    expect(done?.cursor).toBe(paused?.fullSync?.historyId);
    expect(BigInt(meanwhile.historyId)).toBeGreaterThan(BigInt(done?.cursor ?? '0'));

    // History from there replays the message that came meanwhile; ingest knows it.
    await expect(syncGmailMailbox(world.sync, job())).resolves.toMatchObject({ outcome: 'synced', mode: 'history', added: 0 });
    expect(await tickets()).toHaveLength(5);
  });

  it('a worker short of time hands each paused sync to a fresh job until the backlog is in', async () => {
    await world.poller.stop();
    const { queueUrl } = queues.urls[`gmail-sync-${tableNo}`]!;
    // The local poller's context counts down from 30 s: with this reserve every sync is out of time at once.
    const hurried = new SqsPoller({ client: queues.client, queueUrl, handler: makeSyncHandler({ ...world.sync, timeReserveMs: 30_000 }, silentMetrics()), waitTimeSeconds: 1 });
    await hurried.start();
    try {
      for (const id of ['rush-1', 'rush-2', 'rush-3']) fake.deliver(MAILBOX, mail(id));
      await pushFor();
      await hurried.drain({ timeoutMs: 30_000 });
    } finally {
      await hurried.stop();
    }
    expect(await tickets()).toHaveLength(3);
    // One message a job: the push's job and two continuations paused, the last continuation found the end.
    expect(world.metrics.get('gmail.sync_paused')).toBe(2);
    expect(rawDownloads()).toBe(3);
    expect(await dlqDepth()).toBe(0);
  });

  it('skips a message deleted before its fetch and records it', async () => {
    const gone = fake.deliver(MAILBOX, mail('deleted-early'));
    fake.deliver(MAILBOX, mail('kept'));
    fake.deleteMessage(MAILBOX, gone.id);
    await pushFor();
    await drain();
    expect(await tickets()).toHaveLength(1);
    expect(world.metrics.get('gmail.message_vanished')).toBe(1);
  });

  it('waits out a 429 storm: no request before Retry-After, every message arrives, nothing dead-lettered', async () => {
    for (let i = 0; i < 3; i++) fake.deliver(MAILBOX, mail(`storm-${i}`));
    fake.injectFaults({ method: 'GET', pathIncludes: '/messages/' }, Array.from({ length: 6 }, () => ({ status: 429, retryAfterSeconds: 2 })));
    await pushFor();
    await drain();
    expect(await tickets()).toHaveLength(3);
    expect(await dlqDepth()).toBe(0);
    const gets = fake.requests.filter((r) => r.method === 'GET' && r.path.includes('/messages/'));
    // Every request after a 429 came at least Retry-After later than the 429 it followed.
    const throttled = gets.slice(0, 6);
    for (let i = 1; i < gets.length && i <= 6; i++) expect(gets[i]!.at - throttled[i - 1]!.at).toBeGreaterThanOrEqual(1_900);
    expect(world.metrics.get('gmail.throttled')).toBeGreaterThan(0);
  }, 60_000);

  it('marks the mailbox reauthorization_required on invalid_grant, after exactly one token request', async () => {
    fake.revokeRefreshToken(MAILBOX);
    fake.deliver(MAILBOX, mail('unreachable'));
    const tokenCalls = () => fake.count('POST', '/token');
    const before = tokenCalls();
    await pushFor();
    await drain();
    expect(tokenCalls() - before).toBe(1);
    const mailbox = await world.repo.getMailbox(TENANT, world.mailboxId);
    expect(mailbox?.status).toBe('reauthorization_required');
    expect(world.metrics.get('gmail.reauthorization_required')).toBe(1);
    expect(await dlqDepth()).toBe(0);
    // Further pushes until the admin reconnects: the webhook reads only the directory (the address
    // stays claimed), so the job is queued; the worker skips it without asking Google for anything.
    const gmailCalls = () => fake.requests.length;
    const callsBefore = gmailCalls();
    expect((await pushFor()).statusCode).toBe(204);
    await drain();
    expect(await queueDepth()).toBe(0);
    expect(gmailCalls()).toBe(callsBefore);
    expect(tokenCalls() - before).toBe(1);
    expect(world.metrics.get('gmail.reauthorization_required')).toBe(1);
    expect(await dlqDepth()).toBe(0);
  });

  // Regression: the token endpoint's 401 invalid_client (our own OAuth client secret, wrong after a
  // rotation) was read as reauthorization required, disconnecting every Gmail mailbox at once.
  it('a wrong OAuth client secret fails the job for a retry and leaves the mailbox connected', async () => {
    await world.poller.stop();
    fake.deliver(MAILBOX, mail('after-rotation'));
    const wrongSecret = new GoogleGmailConnector({ ...CLIENT, clientSecret: 'rotated-by-mistake', rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, timeoutMs: 2_000 });
    const record = { messageId: 'm1', receiptHandle: 'rh-1', body: JSON.stringify({ tenantId: TENANT, mailboxId: world.mailboxId, reason: 'push' }), attributes: { ApproximateReceiveCount: '1' } };
    const handler = handleSyncRecord({ ...world.sync, gmail: wrongSecret });
    await expect(handler(record as unknown as Parameters<typeof handler>[0])).rejects.toBeInstanceOf(ProviderMisconfigured);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.status).toBe('connected');
    expect(world.metrics.get('gmail.client_misconfigured')).toBe(1);
    expect(world.metrics.get('gmail.reauthorization_required')).toBe(0);
    // The operator fixes the secret: the retried job brings the mail in.
    await handleSyncRecord(world.sync)(record as unknown as Parameters<typeof handler>[0]);
    expect(await tickets()).toHaveLength(1);
  });

  // Regression: gaxios's per-request timeout (30 s) also bounded reading the raw body, which the ingest
  // consumes at the pace of S3 and the scanner: a large message behind a slow scan always timed out.
  it('reads a raw message for longer than the request timeout: the download has a deadline of its own', async () => {
    const raw = mail('large', { attachment: Buffer.alloc(4 * 1024 * 1024, 'a') });
    const { id } = fake.deliver(MAILBOX, raw);
    const connector = new GoogleGmailConnector({ ...CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, timeoutMs: 500 });
    const stream = await connector.open({ address: MAILBOX, refreshToken: 'refresh-acme' }).getRawMessage(id);
    // A consumer held back by backpressure (a slow scan) past the request timeout.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(raw)).toBe(true);
  });

  it('defers a throttled job through the queue instead of failing it', async () => {
    await world.poller.stop();
    fake.deliver(MAILBOX, mail('deferred'));
    fake.injectFaults({ method: 'GET', pathIncludes: '/history' }, Array.from({ length: 3 }, () => ({ status: 503 })));
    const deferred: Array<[string, number]> = [];
    const handler = handleSyncRecord({ ...world.sync, deferral: { defer: async (handle, seconds) => void deferred.push([handle, seconds]) } });
    const record = { messageId: 'm1', receiptHandle: 'rh-1', body: JSON.stringify({ tenantId: TENANT, mailboxId: world.mailboxId, reason: 'push' }), attributes: { ApproximateReceiveCount: '1' } };
    await expect(handler(record as unknown as Parameters<typeof handler>[0])).rejects.toThrow(/503/);
    expect(deferred).toHaveLength(1);
    expect(deferred[0]![1]).toBeGreaterThanOrEqual(1);
    expect(await tickets()).toHaveLength(0);
  });
});

describe('watch lifecycle', () => {
  it('watches the inbox on connect, renews the watch, and on disconnect stops it, revokes the token and forgets the address', async () => {
    expect(fake.watches(MAILBOX)).toMatchObject({ topicName: TOPIC, labelIds: ['INBOX'] });
    const lifecycle = { ...world.sync, directory: world.repo, settings: { topicName: TOPIC } };
    expect(await renewGmailWatches(lifecycle)).toEqual({ renewed: 1, reauthorizationRequired: 0, failed: 0 });
    expect(fake.count('POST', '/watch')).toBe(2);

    await disconnectMailbox({ repo: world.repo, retention: world.repo, blobs: world.sync.blobs, clock: world.clock, releaseProvider: (m) => releaseGmailMailbox(lifecycle, m) }, TENANT, world.mailboxId);
    expect(fake.count('POST', '/stop')).toBe(1);
    expect(fake.count('POST', '/revoke')).toBe(1);
    expect(fake.watches(MAILBOX)).toBeUndefined();
    const mailbox = await world.repo.getMailbox(TENANT, world.mailboxId);
    expect(mailbox?.status).toBe('disconnected');
    expect(mailbox?.connection?.sealedCredentials).toBeUndefined();
    // The address no longer leads anywhere: a push for it is unusable and enqueues nothing.
    await world.poller.stop();
    expect((await pushFor()).statusCode).toBe(204);
    expect(await queueDepth()).toBe(0);
  });

  it('refuses to connect a Gmail address another mailbox already holds', async () => {
    const lifecycle = { ...world.sync, directory: world.repo, settings: { topicName: TOPIC } };
    await expect(connectGmailMailbox(lifecycle, { tenantId: 'globex', mailboxId: 'support' }, 'refresh-acme')).rejects.toThrow(/already connected/);
  });
});

describe('replies', () => {
  const agent = { actor: 'agent:7', reason: 'answering the customer' };
  /** Replies through a client that gives up after half a second, so a lost answer costs the test little. */
  const impatient = () => ({ ...world.reply, gmail: new GoogleGmailConnector({ ...CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, revokeUrl: fake.revokeUrl, timeoutMs: 500 }) });

  async function customerTicket(id: string) {
    const delivered = fake.deliver(MAILBOX, mail(id, { subject: 'Printer jammed', from: 'Alice Example <alice@customer.example>' }));
    await pushFor();
    await drain();
    const [ticket] = await tickets();
    return { ticket: ticket!, delivered };
  }

  it('sends in the customer\'s thread, records the Message-ID Gmail stored, and threads the customer\'s answer', async () => {
    fake.replaceMessageIdOnSend = true;
    const { ticket, delivered } = await customerTicket('ask-1');
    const result = await sendGmailReply(world.reply, { tenantId: TENANT, ticketId: ticket.ticketId, text: 'Have you tried turning it off and on?', accessor: agent });
    expect(result.status).toBe('sent');

    const [sent] = fake.sent(MAILBOX);
    expect(fake.sent(MAILBOX)).toHaveLength(1);
    expect(sent!.threadId).toBe(delivered.threadId);
    const parsed = await simpleParser(sent!.raw);
    expect(parsed.subject).toBe('Re: Printer jammed');
    expect(parsed.inReplyTo).toBe('<ask-1@customer.example>');
    expect(parsed.references).toContain('<ask-1@customer.example>');
    expect(parsed.to && 'value' in parsed.to ? parsed.to.value[0]?.address : undefined).toBe('alice@customer.example');
    expect(parsed.headers.get('x-mail2ticket-loop')).toBe('reply');
    expect(parsed.headers.get('x-mail2ticket-reply')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // Gmail replaced our Message-ID; the ticket records Gmail's.
    expect(result.internetMessageId).toBe(sent!.messageId?.replace(/^<|>$/g, ''));
    expect(result.internetMessageId).toMatch(/@mail\.gmail\.com$/);

    // The customer answers the reply — in another Gmail thread, so only the recorded Message-ID can
    // thread it; the SENT copy itself never came in as a customer message.
    const answer = mail('ask-2').toString().replace('Subject: question ask-2', `Subject: Re: Printer jammed\r\nIn-Reply-To: <${result.internetMessageId}>`);
    fake.deliver(MAILBOX, Buffer.from(answer), { threadId: 'f00dfeedf00dfeed' });
    await pushFor();
    await drain();
    const list = await tickets();
    expect(list).toHaveLength(1);
    const messages = await world.repo.listMessages(TENANT, ticket.ticketId);
    expect(messages.map((m) => m.direction).sort()).toEqual(['inbound', 'inbound', 'outbound']);
    // The reply is an audited access to the ticket.
    const audit = await world.reply.audit.list(TENANT);
    expect(audit.filter((r) => r.action === 'ticket.reply')).toHaveLength(1);
    expect(verifyAuditChain(audit).ok).toBe(true);
  });

  it('sends once when the first answer is lost to a timeout, and a retried command does not send again', async () => {
    const { ticket } = await customerTicket('ask-timeout');
    // The send is stored at Gmail but answered after the client gave up.
    fake.injectFaults({ method: 'POST', pathIncludes: '/messages/send' }, [{ delayMs: 1_000 }]);
    const request = { tenantId: TENANT, ticketId: ticket.ticketId, text: 'We are on it.', accessor: agent };
    const first = await sendGmailReply(impatient(), request);
    expect(first.status).toBe('sent');
    expect(fake.sent(MAILBOX)).toHaveLength(1);

    const again = await sendGmailReply(impatient(), request);
    expect(again.status).toBe('already_sent');
    expect(again.messageId).toBe(first.messageId);
    expect(fake.sent(MAILBOX)).toHaveLength(1);
    expect(fake.count('POST', '/messages/send')).toBe(1);
    expect(await world.repo.listMessages(TENANT, ticket.ticketId)).toHaveLength(2);
  });

  // Gmail may replace the Message-ID we composed, and then `rfc822msgid:` cannot find the reply: the
  // token header it carries must (https://github.com/gauteh/lieer/issues/198 saw the API do so).
  it('sends once where Gmail replaced our Message-ID: a lost answer and a retried command find the reply by its token', async () => {
    fake.replaceMessageIdOnSend = true;
    const { ticket, delivered } = await customerTicket('ask-rewritten');
    fake.injectFaults({ method: 'POST', pathIncludes: '/messages/send' }, [{ delayMs: 1_000 }]);
    const request = { tenantId: TENANT, ticketId: ticket.ticketId, text: 'Replaced ids do not fool us.', accessor: agent };
    const first = await sendGmailReply(impatient(), request);
    expect(first.status).toBe('sent');
    expect(first.internetMessageId).toMatch(/@mail\.gmail\.com$/);
    expect(fake.sent(MAILBOX)).toHaveLength(1);
    expect(fake.sent(MAILBOX)[0]!.threadId).toBe(delivered.threadId);

    const again = await sendGmailReply(impatient(), request);
    expect(again).toMatchObject({ status: 'already_sent', messageId: first.messageId, providerMessageId: first.providerMessageId });
    expect(fake.count('POST', '/messages/send')).toBe(1);
    expect(fake.count('GET', `/threads/${delivered.threadId}`)).toBeGreaterThanOrEqual(2);
    expect(await world.repo.listMessages(TENANT, ticket.ticketId)).toHaveLength(2);

    // Another text is another reply, and it goes out.
    await expect(sendGmailReply(world.reply, { ...request, text: 'One more thing.' })).resolves.toMatchObject({ status: 'sent' });
    expect(fake.sent(MAILBOX)).toHaveLength(2);
  });

  it('sends once where Gmail replaced our Message-ID and the customer\'s message has left the mailbox: the newest sent mail is read', async () => {
    fake.replaceMessageIdOnSend = true;
    const { ticket, delivered } = await customerTicket('ask-deleted');
    fake.deleteMessage(MAILBOX, delivered.id);
    fake.injectFaults({ method: 'POST', pathIncludes: '/messages/send' }, [{ delayMs: 1_000 }]);
    const request = { tenantId: TENANT, ticketId: ticket.ticketId, text: 'Your message is gone from our inbox, not from our minds.', accessor: agent };
    const first = await sendGmailReply(impatient(), request);
    expect(first.status).toBe('sent');
    const [sent] = fake.sent(MAILBOX);
    expect(sent!.threadId).not.toBe(delivered.threadId);

    const again = await sendGmailReply(impatient(), request);
    expect(again).toMatchObject({ status: 'already_sent', providerMessageId: first.providerMessageId });
    expect(fake.count('POST', '/messages/send')).toBe(1);
    expect(fake.count('GET', '/threads/')).toBe(0);
  });

  it('replies ignored restriction: a restricted requester gets no mail, nothing is recorded, the refusal is audited', async () => {
    const { ticket } = await customerTicket('ask-restricted');
    await restrictRequester(world.reply, TENANT, 'alice@customer.example', true, 'DSR-R1', agent);
    const request = { tenantId: TENANT, ticketId: ticket.ticketId, text: 'We will keep your data.', accessor: agent };
    await expect(sendGmailReply(world.reply, request)).rejects.toBeInstanceOf(RequesterRestricted);
    expect(fake.count('POST', '/messages/send')).toBe(0);
    expect(fake.sent(MAILBOX)).toHaveLength(0);
    expect(await world.repo.listMessages(TENANT, ticket.ticketId)).toHaveLength(1);
    const replies = (await world.reply.audit.list(TENANT)).filter((r) => r.action === 'ticket.reply');
    expect(replies).toEqual([expect.objectContaining({ outcome: 'refused', subjectIds: [ticket.ticketId] })]);

    await restrictRequester(world.reply, TENANT, 'alice@customer.example', false, 'DSR-R2', agent);
    await expect(sendGmailReply(world.reply, request)).resolves.toMatchObject({ status: 'sent' });
    expect(fake.sent(MAILBOX)).toHaveLength(1);
  });

  it('refuses a reply that would reach a restricted participant, though the ticket\'s requester is not restricted', async () => {
    const { ticket } = await customerTicket('ask-shared');
    // Bob writes last in Alice's thread: a reply answers him.
    fake.deliver(MAILBOX, mail('bob-1', { subject: 'Re: Printer jammed', inReplyTo: 'ask-shared', from: 'Bob <bob@customer.example>' }));
    await pushFor();
    await drain();
    expect(await world.repo.listMessages(TENANT, ticket.ticketId)).toHaveLength(2);
    await restrictRequester(world.reply, TENANT, 'bob@customer.example', true, 'DSR-R3', agent);
    await expect(sendGmailReply(world.reply, { tenantId: TENANT, ticketId: ticket.ticketId, text: 'Thanks, Bob.', accessor: agent })).rejects.toBeInstanceOf(RequesterRestricted);
    expect(fake.sent(MAILBOX)).toHaveLength(0);
  });

  it('refuses a reply on a ticket of a disconnected mailbox', async () => {
    const { ticket } = await customerTicket('ask-gone');
    await disconnectMailbox({ repo: world.repo, retention: world.repo, blobs: world.sync.blobs, clock: world.clock }, TENANT, world.mailboxId);
    await expect(sendGmailReply(world.reply, { tenantId: TENANT, ticketId: ticket.ticketId, text: 'hello', accessor: agent })).rejects.toThrow();
    expect(fake.sent(MAILBOX)).toHaveLength(0);
  });
});
