// The Microsoft 365 connector end to end on real parts: the real msal-node and
// @microsoft/microsoft-graph-client against the fake identity platform and fake Graph (Microsoft's
// wire format, TLS with a test CA), Graph's notifications posted to our real webhook handler, the
// SQS FIFO queue on fauxqs with a Lambda-style poller, tickets on dynalite and s3rver.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { SQSRecord } from 'aws-lambda';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleGraphWebhook } from '../../functions/graph-notify/make-handler.js';
import { handleGraphSyncRecord, makeHandler as makeGraphSyncHandler, type GraphSyncHandlerDeps } from '../../functions/graph-sync/make-handler.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { MicrosoftGraphConnector } from '../../shared/adapters/graph/microsoft-graph-connector.js';
import { SqsJobDeferral, SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { enqueueSafetySyncs } from '../../shared/domain/gmail/lifecycle.js';
import { connectGraphMailbox, releaseGraphMailbox, renewGraphSubscriptions } from '../../shared/domain/graph/lifecycle.js';
import { queuedSyncJob } from '../../shared/domain/connectors/sync-job.js';
import { syncGraphMailbox } from '../../shared/domain/graph/sync.js';
import { acceptGraphNotification, subscriptionKey, type GraphNotifyDeps } from '../../shared/domain/graph/notify.js';
import { DEFAULT_GRAPH_SETTINGS, type GraphSettings } from '../../shared/domain/graph/ports.js';
import { sendGraphReply, type GraphReplyDeps } from '../../shared/domain/graph/reply.js';
import { RequesterRestricted } from '../../shared/domain/reply-common.js';
import { restrictRequester } from '../../shared/domain/requesters.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { ProviderMisconfigured, ProviderThrottled } from '../../shared/domain/provider-errors.js';
import { disconnectMailbox } from '../../shared/domain/retention.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { startLocalQueues, type LocalQueues } from '../../shared/local/queues.js';
import { SqsPoller } from '../../shared/local/sqs-poller.js';
import { FakeGraph } from '../../shared/sandbox/fake-graph.js';
import { CaTrustingNetworkModule, FakeIdentity, trustCaInProcess } from '../../shared/sandbox/fake-identity.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';
import { EicarScanner, SequentialIds } from '../support/memory.js';

const TENANT = 'contoso';
const ADDRESS = 'support@contoso.example';
const AZURE_TENANT = randomUUID();
const CLIENT_ID = randomUUID();
const CLIENT_SECRET = randomBytes(24).toString('base64url');

let storage: LocalStorage;
let queues: LocalQueues;
let identity: FakeIdentity;
let graph: FakeGraph;
let webhook: Server;
let webhookUrl = '';
/** Every notification body Graph posted, for replaying one as a duplicate. */
const posted: string[] = [];
let tableNo = 0;

/** Real time (Retry-After waits are real here), movable forward for the stalled-notification check. */
class OffsetClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

interface World {
  repo: DynamoDbTicketRepository;
  metrics: CountingMetrics;
  clock: OffsetClock;
  sync: GraphSyncHandlerDeps;
  notify: GraphNotifyDeps;
  reply: GraphReplyDeps;
  poller: SqsPoller;
  mailboxId: string;
}
let world: World;

/** Routes Graph's posts to the same handler the Lambda runs, answering as API Gateway would. */
async function startWebhook(): Promise<void> {
  webhook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const validationToken = url.searchParams.get('validationToken');
      if (validationToken === null) posted.push(Buffer.concat(chunks).toString('utf8'));
      void handleGraphWebhook(world.notify)({
        rawPath: url.pathname,
        body: Buffer.concat(chunks).toString('utf8'),
        isBase64Encoded: false,
        queryStringParameters: validationToken === null ? {} : { validationToken },
      }).then(
        (result) => res.writeHead(result.statusCode ?? 500, result.headers as Record<string, string> | undefined).end(result.body ?? ''),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  storage = await startLocalStorage('graph');
  queues = await startLocalQueues({ queues: [] });
  identity = new FakeIdentity();
  await identity.start();
  identity.registerApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tenants: [AZURE_TENANT] });
  // The Graph SDK uses global fetch, which takes no CA option; msal gets its own network module.
  trustCaInProcess(identity.caCertPem);
  await startWebhook();
});
afterAll(async () => {
  await new Promise<void>((resolve) => webhook.close(() => resolve()));
  await identity.stop();
  await queues.stop();
  await storage.stop();
});

function silentMetrics() {
  return { publishStoredMetrics: () => undefined, addMetric: () => undefined } as unknown as Parameters<typeof makeGraphSyncHandler>[1];
}

beforeEach(async () => {
  graph = new FakeGraph({ identity, tenantId: AZURE_TENANT });
  await graph.start();
  graph.addMailbox(ADDRESS, { displayName: 'Contoso Support' });
  identity.grantConsent(AZURE_TENANT, CLIENT_ID);

  const tableName = `graph-${++tableNo}`;
  await ensureTable(storage.client, tableName);
  const repo = new DynamoDbTicketRepository(storage.client, tableName);
  const metrics = new CountingMetrics();
  const clock = new OffsetClock();
  const keys = new LocalKeyService({ keyDir: join(storage.dir, 'keys') });
  // A queue of its own: a stopped poller's long poll stays open at the server for up to a second, and a
  // job the next test enqueued meanwhile would go to it and stay invisible for the visibility timeout.
  const { queueUrl } = await queues.addQueue({ name: `graph-sync-${tableNo}`, visibilityTimeoutSeconds: 2, maxReceiveCount: 6 });
  const queue = new SqsJobQueue(queues.client, queueUrl);
  const settings: GraphSettings = {
    ...DEFAULT_GRAPH_SETTINGS,
    notificationUrl: `${webhookUrl}/webhooks/graph`,
    lifecycleNotificationUrl: `${webhookUrl}/webhooks/graph/lifecycle`,
  };
  const connector = new MicrosoftGraphConnector({
    clientId: CLIENT_ID,
    credential: { clientSecret: CLIENT_SECRET },
    graphBaseUrl: graph.origin,
    authorityHost: identity.url,
    authorityMetadata: (tenant) => identity.authorityMetadata(tenant),
    cloudDiscoveryMetadata: identity.cloudDiscoveryMetadata(AZURE_TENANT),
    networkClient: new CaTrustingNetworkModule(identity.caCertPem),
    pageSize: 5,
  });
  const sync: GraphSyncHandlerDeps = {
    repo,
    blobs: storage.blobs(),
    keys,
    scanner: new EicarScanner(),
    clock,
    ids: new SequentialIds(),
    limits: DEFAULT_LIMITS,
    graph: connector,
    directory: repo,
    metrics,
    settings,
    backoff: { attempts: 3, baseMs: 50, capMs: 500, maxInlineWaitMs: 300 },
    queue,
    deferral: new SqsJobDeferral(queues.client, queueUrl),
    maxReceiveCount: 6,
  };
  const notify: GraphNotifyDeps = { directory: repo, repo, queue, metrics };
  const poller = new SqsPoller({ client: queues.client, queueUrl, handler: makeGraphSyncHandler(sync, silentMetrics()), waitTimeSeconds: 1 });
  world = { repo, metrics, clock, sync, notify, reply: { ...sync, audit: new DynamoDbAuditLog(storage.client, tableName), intents: repo }, poller, mailboxId: `m365-${tableNo}` };
  await connectGraphMailbox({ ...sync }, { tenantId: TENANT, mailboxId: world.mailboxId }, { azureTenantId: AZURE_TENANT, address: ADDRESS });
  await poller.start();
});

afterEach(async () => {
  await world.poller.stop();
  await graph.stop();
  expect(graph.errors).toEqual([]);
});

function mail(id: string, options: { subject?: string; inReplyTo?: string } = {}): Buffer {
  return Buffer.from(
    [
      'From: Dana Customer <dana@customer.example>',
      `To: ${ADDRESS}`,
      `Subject: ${options.subject ?? `question ${id}`}`,
      `Message-ID: <${id}@customer.example>`,
      ...(options.inReplyTo ? [`In-Reply-To: <${options.inReplyTo}>`] : []),
      'Date: Tue, 01 Dec 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `body of ${id}`,
      '',
    ].join('\r\n'),
  );
}

const tickets = () => world.repo.listTickets(TENANT, world.mailboxId);
const drain = async () => {
  await graph.idle();
  await world.poller.drain({ timeoutMs: 30_000 });
};
const subscription = () => graph.subscriptions(ADDRESS)[0]!;
/** The mailbox's Graph API as the worker opens it (to remove a subscription as Graph would). */
const graphApi = () => world.sync.graph.open({ azureTenantId: AZURE_TENANT, userId: ADDRESS });

async function post(path: string, body: unknown, query = ''): Promise<{ status: number; text: string; type: string | null }> {
  const response = await fetch(`${webhookUrl}${path}${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

async function queueDepth(): Promise<number> {
  const { Attributes } = await queues.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queues.urls[`graph-sync-${tableNo}`]!.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

describe('webhook', () => {
  it('answers the validation handshake on both routes with the decoded token as text/plain', async () => {
    const token = 'Validation: Token with spaces & symbols +/=?';
    for (const path of ['/webhooks/graph', '/webhooks/graph/lifecycle']) {
      const answer = await post(path, {}, `?validationToken=${encodeURIComponent(token)}`);
      expect(answer).toMatchObject({ status: 200, text: token });
      expect(answer.type).toMatch(/^text\/plain/);
    }
    // Graph itself validated both URLs before creating the subscription on connect.
    expect(graph.validations.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses (401) and enqueues nothing for an unknown subscription or a wrong clientState, and rejects malformed bodies', async () => {
    await world.poller.stop();
    const sub = subscription();
    const item = { subscriptionId: sub.id, changeType: 'created', resource: 'x', resourceData: { id: 'AAMk1' }, tenantId: AZURE_TENANT };
    expect((await post('/webhooks/graph', { value: [{ ...item, clientState: 'guessed' }] })).status).toBe(401);
    expect((await post('/webhooks/graph', { value: [{ ...item, subscriptionId: randomUUID(), clientState: 'x' }] })).status).toBe(401);
    expect((await post('/webhooks/graph/lifecycle', { value: [{ subscriptionId: sub.id, clientState: 'guessed', lifecycleEvent: 'subscriptionRemoved' }] })).status).toBe(401);
    expect((await post('/webhooks/graph', 'not a collection')).status).toBe(400);
    expect(await queueDepth()).toBe(0);
    expect(world.metrics.get('graph.notification_rejected')).toBe(3);
  });

  it("checks a notification with its subscription's directory entry alone; an entry without the digest falls back to the mailbox", async () => {
    await world.poller.stop();
    const sub = subscription();
    const clientState = sub.clientState ?? '';
    expect(clientState.length).toBeGreaterThan(20);
    const reads = { entries: 0, mailboxes: 0 };
    const counted: GraphNotifyDeps = {
      ...world.notify,
      directory: { findAddress: (provider, index) => (reads.entries++, world.repo.findAddress(provider, index)) },
      repo: { getMailbox: (tenantId, mailboxId) => (reads.mailboxes++, world.repo.getMailbox(tenantId, mailboxId)) },
    };
    const notify = (clientState: string, id: string) =>
      acceptGraphNotification(counted, { route: 'notifications', body: JSON.stringify({ value: [{ subscriptionId: sub.id, clientState, changeType: 'created', resourceData: { id } }] }) });

    expect(await notify(clientState, 'AAMk-entry')).toEqual({ status: 202, accepted: 1, rejected: 0 });
    expect(reads).toEqual({ entries: 1, mailboxes: 0 });

    // The entry as a version before the digest moved onto it wrote it: the mailbox has the digest.
    const owner = { tenantId: TENANT, mailboxId: world.mailboxId };
    const entry = await world.repo.findAddress('graph', subscriptionKey(sub.id));
    await world.repo.claimAddress('graph', subscriptionKey(sub.id), owner);
    expect(await notify(clientState, 'AAMk-legacy')).toEqual({ status: 202, accepted: 1, rejected: 0 });
    expect(await notify('guessed', 'AAMk-forged')).toEqual({ status: 401, rejected: 1 });
    expect(reads).toEqual({ entries: 3, mailboxes: 2 });
    expect(await queueDepth()).toBe(2);

    await world.repo.claimAddress('graph', subscriptionKey(sub.id), owner, { clientStateIndex: entry?.clientStateIndex });
    expect((await world.repo.findAddress('graph', subscriptionKey(sub.id)))?.clientStateIndex).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('sync', () => {
  it('turns a notified message into a ticket, and the same notification 100 times into one ticket', async () => {
    posted.length = 0;
    graph.deliver(ADDRESS, mail('first'));
    await drain();
    expect(await tickets()).toHaveLength(1);
    const notification = posted.find((body) => body.includes('"created"'));
    expect(notification).toBeDefined();
    const answers = await Promise.all(Array.from({ length: 100 }, () => post('/webhooks/graph', JSON.parse(notification!))));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    await drain();
    expect(await tickets()).toHaveLength(1);
    expect(graph.count('GET', '/$value')).toBe(1);
  });

  it('catches a lost notification with the safety sync (delta)', async () => {
    graph.dropNotifications(ADDRESS, true);
    graph.deliver(ADDRESS, mail('lost'));
    await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: { now: () => new Date() } }, 'graph', 15);
    await drain();
    expect(await tickets()).toHaveLength(1);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.cursor).toMatch(/delta/i);
    // Connected moments ago: no notification was due yet.
    expect(world.metrics.get('graph.notification_stalled')).toBe(0);
  });

  it('a delta round whose time budget is spent stops between pages at the saved link, and the next sync goes on from it', async () => {
    graph.dropNotifications(ADDRESS, true);
    for (let i = 1; i <= 12; i++) graph.deliver(ADDRESS, mail(`backlog-${i}`));
    const job = { tenantId: TENANT, mailboxId: world.mailboxId, reason: 'safety' as const };
    // Spent from the start: a run still does one page (five messages here) before it may stop.
    const first = await syncGraphMailbox(world.sync, job, { budget: { spent: () => true } });
    expect(first).toMatchObject({ outcome: 'paused', ingested: 5 });
    expect(world.metrics.get('graph.sync_paused')).toBe(1);
    expect(await tickets()).toHaveLength(5);
    const link = (await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.cursor;
    expect(link).toMatch(/skiptoken/i);

    const second = await syncGraphMailbox(world.sync, job);
    expect(second).toMatchObject({ outcome: 'synced', ingested: 7, added: 7 });
    expect(await tickets()).toHaveLength(12);
    expect(graph.count('GET', '/$value')).toBe(12);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.cursor).toMatch(/deltatoken/i);
  });

  /** A notified message, then one Graph never announces, found by a safety sync `minutesLater`. */
  async function safetySyncAfterSilence(minutesLater: number): Promise<{ notifiedAt: string | undefined; afterSafety: string | undefined }> {
    const before = world.clock.now().getTime();
    graph.deliver(ADDRESS, mail('notified'));
    await drain();
    const notifiedAt = (await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.lastNotifiedAt;
    expect(Date.parse(notifiedAt ?? '')).toBeGreaterThanOrEqual(before);
    expect(Date.parse(notifiedAt ?? '')).toBeLessThanOrEqual(world.clock.now().getTime());

    graph.dropNotifications(ADDRESS, true);
    graph.deliver(ADDRESS, mail('unannounced'));
    world.clock.advance(minutesLater * 60_000);
    expect(await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: world.clock }, 'graph', 15)).toBe(1);
    await drain();
    expect(await tickets()).toHaveLength(2);
    return { notifiedAt, afterSafety: (await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.lastNotifiedAt };
  }

  it('records when a notification last came, and reports a stalled subscription when a safety sync finds mail none announced for over an hour', async () => {
    const { notifiedAt, afterSafety } = await safetySyncAfterSilence(61);
    expect(world.metrics.get('graph.notification_stalled')).toBe(1);
    // The safety sync is not a notification.
    expect(afterSafety).toBe(notifiedAt);
  });

  it('reports nothing when the safety sync finds mail within the hour of the last notification', async () => {
    await safetySyncAfterSilence(30);
    expect(world.metrics.get('graph.notification_stalled')).toBe(0);
  });

  it('reports a subscription that never delivered once the mailbox has been connected for over an hour', async () => {
    const safetySync = async () => {
      await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: world.clock }, 'graph', 15);
      await drain();
    };
    // A quiet safety sync in between: the silence still counts from the connection, not from it.
    world.clock.advance(40 * 60_000);
    await safetySync();
    graph.dropNotifications(ADDRESS, true);
    graph.deliver(ADDRESS, mail('never-announced'));
    world.clock.advance(21 * 60_000);
    await safetySync();
    expect(await tickets()).toHaveLength(1);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.lastNotifiedAt).toBeUndefined();
    expect(world.metrics.get('graph.notification_stalled')).toBe(1);
  });

  it('keeps a moved message as one ticket: immutable ids survive the move', async () => {
    const delivered = graph.deliver(ADDRESS, mail('moving'));
    await drain();
    graph.move(ADDRESS, delivered.id, 'archive');
    graph.move(ADDRESS, delivered.id, 'inbox');
    await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: { now: () => new Date(Date.now() + 3_600_000) } }, 'graph', 15);
    await drain();
    expect(await tickets()).toHaveLength(1);
    const [ticket] = await tickets();
    expect(await world.repo.listMessages(TENANT, ticket!.ticketId)).toHaveLength(1);
  });

  it('restarts a bounded round when Graph forgot the delta state, without duplicates', async () => {
    graph.deliver(ADDRESS, mail('before'));
    await drain();
    graph.expireDeltaTokens(ADDRESS);
    graph.deliver(ADDRESS, mail('after'));
    await drain();
    expect(await tickets()).toHaveLength(2);
    expect(world.metrics.get('graph.delta_expired')).toBe(1);
  });

  it('handles lifecycle events: renews on reauthorizationRequired, resubscribes when removed, catches up when missed', async () => {
    const first = subscription();
    await graph.sendLifecycle(first.id, 'reauthorizationRequired');
    await drain();
    expect(graph.count('PATCH', '/subscriptions/')).toBe(1);

    await graph.sendLifecycle(first.id, 'subscriptionRemoved');
    await drain();
    const second = subscription();
    expect(second.id).not.toBe(first.id);
    // The new subscription delivers: its clientState is the one our webhook now expects.
    graph.deliver(ADDRESS, mail('after-resubscribe'));
    await drain();
    expect(await tickets()).toHaveLength(1);

    graph.dropNotifications(ADDRESS, true);
    graph.deliver(ADDRESS, mail('missed-one'));
    graph.dropNotifications(ADDRESS, false);
    await graph.sendLifecycle(second.id, 'missed');
    await drain();
    expect(await tickets()).toHaveLength(2);
  });

  // Regression: a renewal that Graph answered 404 (the subscription lapsed, or Graph removed it) only
  // counted a failure, every run, and the mailbox never got a subscription again.
  it('recreates in the scheduled renewal a subscription Graph no longer has, and its notifications arrive', async () => {
    const lapsed = subscription();
    await graphApi().deleteSubscription(lapsed.id);
    const lifecycle = { ...world.sync, settings: { ...world.sync.settings, renewBeforeMinutes: 20_000 } };
    expect(await renewGraphSubscriptions(lifecycle)).toEqual({ renewed: 0, resubscribed: 1, reauthorizationRequired: 0, failed: 0 });
    const fresh = subscription();
    expect(fresh.id).not.toBe(lapsed.id);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.subscriptionId).toBe(fresh.id);
    expect(world.metrics.get('graph.resubscribed')).toBe(1);
    graph.deliver(ADDRESS, mail('after-resubscribe'));
    await drain();
    expect(await tickets()).toHaveLength(1);
  });

  // Regression: a `renew` job on a subscription Graph had deleted failed with 404 on every attempt,
  // holding the mailbox's FIFO group until it reached the dead-letter queue.
  it('recreates a lapsed subscription in a renew job, which then catches up on the mail', async () => {
    const lapsed = subscription();
    await graphApi().deleteSubscription(lapsed.id);
    graph.deliver(ADDRESS, mail('while-lapsed'));
    await world.sync.queue.enqueue(queuedSyncJob({ tenantId: TENANT, mailboxId: world.mailboxId, reason: 'renew' }, 'renew-lapsed'));
    await drain();
    expect(graph.subscriptions(ADDRESS)).toHaveLength(1);
    expect(subscription().id).not.toBe(lapsed.id);
    expect(await tickets()).toHaveLength(1);
    expect(await queueDepth()).toBe(0);
    expect(world.metrics.get('graph.resubscribed')).toBe(1);
  });

  // Regression: resubscribing released the old subscription's directory entry but left it live at Graph.
  it('a resubscribe job deletes the previous subscription at Graph', async () => {
    const previous = subscription();
    await world.sync.queue.enqueue(queuedSyncJob({ tenantId: TENANT, mailboxId: world.mailboxId, reason: 'resubscribe' }, 'resubscribe-live'));
    await drain();
    expect(graph.subscriptions(ADDRESS).map((s) => s.id)).toEqual([(await world.repo.getMailbox(TENANT, world.mailboxId))?.connection?.subscriptionId]);
    expect(subscription().id).not.toBe(previous.id);
    expect(world.metrics.get('graph.release_incomplete')).toBe(0);
  });

  it('keeps at most 4 requests in flight for the mailbox through a 429 storm with a reply, and every message arrives', async () => {
    graph.deliver(ADDRESS, mail('before-storm', { subject: 'Order late' }));
    await drain();
    const [ticket] = await tickets();
    graph.latencyMs = 20;
    graph.dropNotifications(ADDRESS, true);
    for (let i = 0; i < 20; i++) graph.deliver(ADDRESS, mail(`storm-${i}`));
    graph.dropNotifications(ADDRESS, false);
    graph.injectFaults({ method: 'GET', pathIncludes: '/$value' }, Array.from({ length: 5 }, () => ({ status: 429, retryAfterSeconds: 1 })));
    await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: { now: () => new Date() } }, 'graph', 15);
    // An agent answers while the worker catches up: the reply shares the mailbox's four slots.
    const reply = sendGraphReply(world.reply, { tenantId: TENANT, ticketId: ticket!.ticketId, text: 'It ships today.', accessor: { actor: 'agent:1', reason: 'answering' } });
    await drain();
    expect((await reply).status).toBe('sent');
    expect(await tickets()).toHaveLength(21);
    expect(graph.sent(ADDRESS)).toHaveLength(1);
    expect(graph.maxInFlight(ADDRESS)).toBeLessThanOrEqual(4);
    expect(graph.maxInFlight(ADDRESS)).toBeGreaterThan(1);
  }, 60_000);

  it('marks the mailbox reauthorization_required when the admin consent is revoked, without a retry storm', async () => {
    identity.revokeConsent(AZURE_TENANT, CLIENT_ID);
    graph.deliver(ADDRESS, mail('no-consent'));
    await enqueueSafetySyncs({ directory: world.repo, queue: world.sync.queue, clock: { now: () => new Date() } }, 'graph', 15);
    await drain();
    const mailbox = await world.repo.getMailbox(TENANT, world.mailboxId);
    expect(mailbox?.status).toBe('reauthorization_required');
    expect(world.metrics.get('graph.reauthorization_required')).toBe(1);
    expect(identity.countTokenRequests({ tenant: AZURE_TENANT, outcome: 'error' })).toBeLessThanOrEqual(2);
  });

  /** A connector as the worker builds it, with a different secret or a token endpoint that fails first. */
  function connectorWith(options: { clientSecret?: string; tokenOutage?: () => boolean } = {}): MicrosoftGraphConnector {
    const inner = new CaTrustingNetworkModule(identity.caCertPem);
    const networkClient: INetworkModule = {
      sendGetRequestAsync: (url, request) => inner.sendGetRequestAsync(url, request),
      // Entra's answer during a sign-in outage, as documented for AADSTS90033.
      sendPostRequestAsync: async <T>(url: string, request?: NetworkRequestOptions) =>
        url.includes('/token') && options.tokenOutage?.()
          ? ({ status: 503, headers: {}, body: { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred. Please try again.', error_codes: [90033] } } as unknown as NetworkResponse<T>)
          : inner.sendPostRequestAsync<T>(url, request),
    };
    return new MicrosoftGraphConnector({
      clientId: CLIENT_ID,
      credential: { clientSecret: options.clientSecret ?? CLIENT_SECRET },
      graphBaseUrl: graph.origin,
      authorityHost: identity.url,
      authorityMetadata: (tenant) => identity.authorityMetadata(tenant),
      cloudDiscoveryMetadata: identity.cloudDiscoveryMetadata(AZURE_TENANT),
      networkClient,
    });
  }
  const syncRecord = (attempt = 1) =>
    ({ messageId: `m${attempt}`, receiptHandle: `rh-${attempt}`, body: JSON.stringify({ tenantId: TENANT, mailboxId: world.mailboxId, reason: 'safety' }), attributes: { ApproximateReceiveCount: String(attempt) } }) as unknown as SQSRecord;

  // Regression: msal reports every token-endpoint failure as a ServerError, and all but network errors
  // read as reauthorization required: one 503 from Microsoft sign-in disconnected the mailbox.
  it('a sign-in outage (503 temporarily_unavailable) defers the job and leaves the mailbox connected', async () => {
    await world.poller.stop();
    graph.deliver(ADDRESS, mail('during-outage'));
    const deferred: number[] = [];
    const handler = handleGraphSyncRecord({ ...world.sync, graph: connectorWith({ tokenOutage: () => true }), deferral: { defer: async (_handle, seconds) => void deferred.push(seconds) } });
    await expect(handler(syncRecord())).rejects.toBeInstanceOf(ProviderThrottled);
    expect(deferred).toHaveLength(1);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.status).toBe('connected');
    expect(world.metrics.get('graph.reauthorization_required')).toBe(0);
    // Sign-in is back: once the remembered wait has passed, the next attempt brings the mail in.
    world.clock.advance(5 * 60_000);
    await handleGraphSyncRecord({ ...world.sync, graph: connectorWith() })(syncRecord(2));
    expect(await tickets()).toHaveLength(1);
  });

  // Regression: our app's own credential refused (invalid_client AADSTS7000215, a wrong or rotated
  // secret) marked every Graph mailbox reauthorization_required.
  it('a wrong app secret fails the job for a retry, counted, and leaves the mailbox connected', async () => {
    await world.poller.stop();
    graph.deliver(ADDRESS, mail('wrong-secret'));
    const handler = handleGraphSyncRecord({ ...world.sync, graph: connectorWith({ clientSecret: 'rotated-by-mistake' }) });
    await expect(handler(syncRecord())).rejects.toBeInstanceOf(ProviderMisconfigured);
    expect((await world.repo.getMailbox(TENANT, world.mailboxId))?.status).toBe('connected');
    expect(world.metrics.get('graph.client_misconfigured')).toBe(1);
    expect(world.metrics.get('graph.reauthorization_required')).toBe(0);
    await handleGraphSyncRecord({ ...world.sync, graph: connectorWith() })(syncRecord(2));
    expect(await tickets()).toHaveLength(1);
  });
});

describe('replies and lifecycle', () => {
  const agent = { actor: 'agent:9', reason: 'answering' };

  it('replies in the thread, records the sent Message-ID, threads the answer, and a retry sends once', async () => {
    graph.deliver(ADDRESS, mail('ask', { subject: 'Invoice missing' }));
    await drain();
    const [ticket] = await tickets();
    const request = { tenantId: TENANT, ticketId: ticket!.ticketId, text: 'Attached is your invoice.', accessor: agent };
    const result = await sendGraphReply(world.reply, request);
    expect(result.status).toBe('sent');
    const sent = graph.sent(ADDRESS);
    expect(sent).toHaveLength(1);
    const parsed = await simpleParser(sent[0]!.raw);
    expect(parsed.inReplyTo).toBe('<ask@customer.example>');
    expect(parsed.headers.get('x-mail2ticket-loop')).toBe('reply');
    expect(`<${result.internetMessageId}>`).toBe(parsed.messageId);

    const again = await sendGraphReply(world.reply, request);
    expect(again.status).toBe('already_sent');
    expect(graph.sent(ADDRESS)).toHaveLength(1);

    graph.deliver(ADDRESS, mail('answer', { subject: 'RE: Invoice missing', inReplyTo: result.internetMessageId }), { conversationId: randomUUID() });
    await drain();
    expect(await tickets()).toHaveLength(1);
    expect((await world.repo.listMessages(TENANT, ticket!.ticketId)).map((m) => m.direction).sort()).toEqual(['inbound', 'inbound', 'outbound']);
  });

  it('replies ignored restriction: no draft and no mail for a restricted requester, nothing recorded, the refusal audited', async () => {
    graph.deliver(ADDRESS, mail('ask-restricted', { subject: 'Delete my data' }));
    await drain();
    const [ticket] = await tickets();
    await restrictRequester(world.reply, TENANT, 'Dana@customer.example', true, 'DSR-G1', agent);
    const request = { tenantId: TENANT, ticketId: ticket!.ticketId, text: 'Noted.', accessor: agent };
    await expect(sendGraphReply(world.reply, request)).rejects.toBeInstanceOf(RequesterRestricted);
    expect(graph.count('POST', '/createReply')).toBe(0);
    expect(graph.sent(ADDRESS)).toHaveLength(0);
    expect(await world.repo.listMessages(TENANT, ticket!.ticketId)).toHaveLength(1);
    const replies = (await world.reply.audit.list(TENANT)).filter((r) => r.action === 'ticket.reply');
    expect(replies).toEqual([expect.objectContaining({ outcome: 'refused', subjectIds: [ticket!.ticketId] })]);

    await restrictRequester(world.reply, TENANT, 'dana@customer.example', false, 'DSR-G2', agent);
    await expect(sendGraphReply(world.reply, request)).resolves.toMatchObject({ status: 'sent' });
    expect(graph.sent(ADDRESS)).toHaveLength(1);
  });

  it('renews subscriptions that lapse soon, and on disconnect deletes the subscription and forgets the address', async () => {
    const lifecycle = { ...world.sync, settings: { ...world.sync.settings, renewBeforeMinutes: 20_000 } };
    expect(await renewGraphSubscriptions(lifecycle)).toEqual({ renewed: 1, resubscribed: 0, reauthorizationRequired: 0, failed: 0 });
    await disconnectMailbox(
      { repo: world.repo, retention: world.repo, blobs: world.sync.blobs, clock: world.sync.clock, releaseProvider: (m) => releaseGraphMailbox(world.sync, m) },
      TENANT,
      world.mailboxId,
    );
    expect(graph.subscriptions(ADDRESS)).toHaveLength(0);
    await world.poller.stop();
    graph.deliver(ADDRESS, mail('after-disconnect'));
    await graph.idle();
    expect(await queueDepth()).toBe(0);
    await expect(connectGraphMailbox({ ...world.sync }, { tenantId: 'other', mailboxId: 'x' }, { azureTenantId: AZURE_TENANT, address: ADDRESS })).resolves.toMatchObject({ status: 'connected' });
  });
});
