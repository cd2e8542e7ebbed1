// Reliability of the connectors' queue path, measured on the same composition the reliability tests
// (tests/reliability/) use: both connectors in one process as npm start runs them — the fake Gmail
// with Pub/Sub-signed pushes and the fake Graph with its change notifications, posted over HTTP to
// the real webhook handlers; the FIFO sync queues with their dead-letter queues on fauxqs; SqsPoller
// running each sync Lambda's handler with npm start's concurrency; tickets on dynalite and s3rver.
// Scanning is the in-memory EICAR scanner: clamd is not what is measured here.
//
// - reliability.duplicate_storm_tickets: one Gmail push delivered 100 times at once → tickets (must be 1).
// - reliability.burst_messages_per_s: 10 mailboxes (5 Gmail, 5 Microsoft 365) × 50 messages delivered
//   at once → messages per second until every one is a ticket or an append.
// - reliability.burst_peak_queue_depth: the most sync jobs waiting or in flight at once during the burst.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createLocalJWKSet } from 'jose';
import { handlePush } from '../functions/gmail-push/make-handler.js';
import { makeHandler as makeGmailSyncHandler, type GmailSyncHandlerDeps } from '../functions/gmail-sync/make-handler.js';
import { handleGraphWebhook } from '../functions/graph-notify/make-handler.js';
import { makeHandler as makeGraphSyncHandler, type GraphSyncHandlerDeps } from '../functions/graph-sync/make-handler.js';
import { LocalKeyService } from '../shared/adapters/crypto/local-key-service.js';
import { DynamoDbTicketRepository } from '../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { GoogleGmailConnector } from '../shared/adapters/gmail/google-gmail-connector.js';
import { PubSubPushVerifier } from '../shared/adapters/gmail/pubsub-push-verifier.js';
import { MicrosoftGraphConnector } from '../shared/adapters/graph/microsoft-graph-connector.js';
import { SqsJobDeferral, SqsJobQueue } from '../shared/adapters/sqs/sqs-job-queue.js';
import { CountingMetrics } from '../shared/adapters/system/metrics.js';
import { connectGmailMailbox } from '../shared/domain/gmail/lifecycle.js';
import { DEFAULT_GMAIL_SETTINGS } from '../shared/domain/gmail/ports.js';
import { connectGraphMailbox } from '../shared/domain/graph/lifecycle.js';
import { DEFAULT_GRAPH_SETTINGS } from '../shared/domain/graph/ports.js';
import { DEFAULT_LIMITS } from '../shared/domain/limits.js';
import { mailboxPrefix } from '../shared/domain/object-keys.js';
import type { MailboxOwner } from '../shared/domain/ports.js';
import { quietPowertoolsMetrics, SYNC_POLLERS } from '../shared/local/connector-runtime.js';
import { ensureTable } from '../shared/local/dynalite.js';
import { startLocalQueues, type LocalQueues } from '../shared/local/queues.js';
import { SqsPoller } from '../shared/local/sqs-poller.js';
import { FakeGmail } from '../shared/sandbox/fake-gmail.js';
import { FakeGraph } from '../shared/sandbox/fake-graph.js';
import { CaTrustingNetworkModule, FakeIdentity, trustCaInProcess } from '../shared/sandbox/fake-identity.js';
import { PubSubPushEmitter } from '../shared/sandbox/pubsub-push.js';
import { startLocalStorage, type LocalStorage } from '../tests/support/local-storage.js';
import { EicarScanner, SequentialIds } from '../tests/support/memory.js';
import type { Metric } from './ingest.js';

const PUSH_AUDIENCE = 'https://mail2ticket.test/webhooks/gmail';
const PUSH_ACCOUNT = 'gmail-push@mail2ticket-test.iam.gserviceaccount.com';
const TOPIC = 'projects/mail2ticket-test/topics/gmail';
const GOOGLE_CLIENT = { clientId: 'reliability.apps.googleusercontent.com', clientSecret: 'reliability-secret' };
const TENANT = 'reliability';
/**
 * What the fake answers each fetch of a poisoned message: a server error, with a Retry-After of one
 * second so the connectors' deferral (Retry-After, else 60 s) fits a test's patience.
 */
const POISON_FAULT = [{ status: 500, retryAfterSeconds: 1 }];

export interface ReliabilityQueueOptions {
  /** Seconds a received job stays invisible; a failed job comes back after it. */
  visibilityTimeoutSeconds: number;
  /** Receives before a job moves to its dead-letter queue (the handlers are told the same number). */
  maxReceiveCount: number;
  /** Both connectors' per-request timeout, message downloads' included (default 5 s). */
  providerTimeoutMs?: number;
}

export interface ReliabilityMailbox extends MailboxOwner {
  provider: 'gmail' | 'graph';
  address: string;
}

export interface ReliabilityWorld {
  queues: LocalQueues;
  storage: LocalStorage;
  repo: DynamoDbTicketRepository;
  gmail: { fake: FakeGmail; emitter: PubSubPushEmitter; queueUrl: string; dlqUrl: string; poller: SqsPoller; metrics: CountingMetrics; webhookUrl: string };
  graph: { fake: FakeGraph; identity: FakeIdentity; azureTenant: string; queueUrl: string; dlqUrl: string; poller: SqsPoller; metrics: CountingMetrics; webhookUrl: string };
  /** Every Graph notification body posted to the webhook, in arrival order (for replaying one). */
  graphPosts: string[];
  /** Connects a mailbox at the fake provider and in the product (watch or subscription included). */
  addMailbox(provider: 'gmail' | 'graph', name: string, options?: { azureTenantId?: string }): Promise<ReliabilityMailbox>;
  /** Delivers into the fake provider; its push or change notification reaches the webhook by HTTP. */
  deliver(mailbox: ReliabilityMailbox, raw: Buffer): string;
  /** One Gmail push body as Pub/Sub posts it, with a fresh token; post it as often as you like. */
  gmailPush(mailbox: ReliabilityMailbox, messageId?: string): Promise<{ body: string; token: string }>;
  postGmailPush(push: { body: string; token: string }): Promise<number>;
  postGraph(body: string): Promise<number>;
  /** Provider message ids whose fetch fails (a 500 from the fake) until removed. */
  poisoned: Set<string>;
  /** Sync jobs waiting or in flight on both sync queues. */
  queueDepth(): Promise<number>;
  /** Waits for notifications under way, then for both queues to be empty and the pollers idle. */
  drain(timeoutMs: number): Promise<void>;
  /** Stored objects of a mailbox by kind: raw, body, att. */
  objects(mailbox: ReliabilityMailbox): Promise<{ raw: number; att: number }>;
  stop(): Promise<void>;
}

export async function startReliabilityWorld(options: ReliabilityQueueOptions): Promise<ReliabilityWorld> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    const storage = await startLocalStorage('reliability');
    stops.push(() => storage.stop());
    const queues = await startLocalQueues({
      queues: [
        { name: 'gmail-sync', ...queueSpec(options) },
        { name: 'graph-sync', ...queueSpec(options) },
      ],
    });
    stops.push(() => queues.stop());
    await ensureTable(storage.client, 'reliability');
    const repo = new DynamoDbTicketRepository(storage.client, 'reliability');
    const poisoned = new Set<string>();
    const keys = new LocalKeyService({ keyDir: join(storage.dir, 'keys') });
    const blobs = storage.blobs();
    const ingest = { repo, blobs, keys, scanner: new EicarScanner(), clock: { now: () => new Date() }, ids: new SequentialIds(), limits: DEFAULT_LIMITS };
    const backoff = { attempts: 3, baseMs: 50, capMs: 500, maxInlineWaitMs: 300 };

    // One webhook server, as API Gateway routes both connectors' webhooks to their Lambdas.
    const graphPosts: string[] = [];
    let routes: { gmail: ReturnType<typeof handlePush>; graph: ReturnType<typeof handleGraphWebhook> } | undefined;
    const server = await listen((path, query, headers, body) => {
      if (!routes) return Promise.resolve({ statusCode: 503 });
      if (path === '/webhooks/gmail') return routes.gmail({ headers, body, isBase64Encoded: false });
      const validationToken = query.get('validationToken');
      if (validationToken === null && path === '/webhooks/graph') graphPosts.push(body);
      return routes.graph({ rawPath: path, body, isBase64Encoded: false, queryStringParameters: validationToken === null ? {} : { validationToken } });
    });
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const webhookBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Gmail.
    const gmailFake = new FakeGmail(GOOGLE_CLIENT);
    await gmailFake.start();
    stops.push(() => gmailFake.stop());
    const emitter = await PubSubPushEmitter.create({ audience: PUSH_AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT });
    const gmailUrls = queues.urls['gmail-sync']!;
    const gmailQueue = new SqsJobQueue(queues.client, gmailUrls.queueUrl);
    const gmailMetrics = new CountingMetrics();
    const gmailSync: GmailSyncHandlerDeps = {
      ...ingest,
      gmail: poisonable(new GoogleGmailConnector({ ...GOOGLE_CLIENT, rootUrl: `${gmailFake.url}/`, tokenUrl: gmailFake.tokenUrl, revokeUrl: gmailFake.revokeUrl, timeoutMs: options.providerTimeoutMs ?? 5_000, downloadTimeoutMs: options.providerTimeoutMs ?? 5_000 }), 'getRawMessage', poisoned, (id) =>
        gmailFake.injectFaults({ method: 'GET', pathIncludes: `/messages/${id}` }, POISON_FAULT),
      ),
      metrics: gmailMetrics,
      settings: { ...DEFAULT_GMAIL_SETTINGS },
      backoff,
      queue: gmailQueue,
      deferral: new SqsJobDeferral(queues.client, gmailUrls.queueUrl),
      maxReceiveCount: options.maxReceiveCount,
      transientRetrySeconds: options.visibilityTimeoutSeconds,
    };
    const gmailWebhookUrl = `${webhookBase}/webhooks/gmail`;
    const gmailPushDeps = {
      verifier: new PubSubPushVerifier({ audience: PUSH_AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT, keys: createLocalJWKSet(emitter.jwks()) }),
      directory: repo,
      keys,
      queue: gmailQueue,
      metrics: gmailMetrics,
    };
    const pendingPushes = new Set<Promise<unknown>>();
    gmailFake.onChange = (email, historyId) => {
      // Pub/Sub pushing Gmail's notification to the subscription's endpoint.
      const push = emitter.push(gmailWebhookUrl, { emailAddress: email, historyId }).finally(() => pendingPushes.delete(push));
      pendingPushes.add(push);
    };
    stops.push(async () => {
      gmailFake.onChange = undefined;
      await Promise.allSettled([...pendingPushes]);
    });

    // Microsoft 365.
    const identity = new FakeIdentity();
    await identity.start();
    stops.push(() => identity.stop());
    const azureTenant = randomUUID();
    const clientId = randomUUID();
    const clientSecret = randomBytes(24).toString('base64url');
    identity.registerApp({ clientId, clientSecret, tenants: [azureTenant] });
    identity.grantConsent(azureTenant, clientId);
    trustCaInProcess(identity.caCertPem);
    const graphFake = new FakeGraph({ identity, tenantId: azureTenant });
    await graphFake.start();
    stops.push(() => graphFake.stop());
    const graphUrls = queues.urls['graph-sync']!;
    const graphQueue = new SqsJobQueue(queues.client, graphUrls.queueUrl);
    const graphMetrics = new CountingMetrics();
    const graphSync: GraphSyncHandlerDeps = {
      ...ingest,
      graph: poisonable(
        new MicrosoftGraphConnector({
          clientId,
          credential: { clientSecret },
          graphBaseUrl: graphFake.origin,
          authorityHost: identity.url,
          authorityMetadata: (tenant) => identity.authorityMetadata(tenant),
          cloudDiscoveryMetadata: identity.cloudDiscoveryMetadata(azureTenant),
          networkClient: new CaTrustingNetworkModule(identity.caCertPem),
          timeoutMs: options.providerTimeoutMs ?? 5_000,
          // Test messages are small: the fault suite's slow answers must hit the deadline on downloads too.
          downloadTimeoutMs: options.providerTimeoutMs ?? 5_000,
        }),
        'getMime',
        poisoned,
        (id) => graphFake.injectFaults({ method: 'GET', pathIncludes: `/messages/${id}` }, POISON_FAULT),
      ),
      directory: repo,
      metrics: graphMetrics,
      settings: { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: `${webhookBase}/webhooks/graph`, lifecycleNotificationUrl: `${webhookBase}/webhooks/graph/lifecycle` },
      backoff,
      queue: graphQueue,
      deferral: new SqsJobDeferral(queues.client, graphUrls.queueUrl),
      maxReceiveCount: options.maxReceiveCount,
      transientRetrySeconds: options.visibilityTimeoutSeconds,
    };
    routes = { gmail: handlePush(gmailPushDeps), graph: handleGraphWebhook({ directory: repo, repo, queue: graphQueue, metrics: graphMetrics }) };

    // The sync workers, with npm start's concurrency per connector.
    const gmailPoller = new SqsPoller({ client: queues.client, queueUrl: gmailUrls.queueUrl, handler: makeGmailSyncHandler(gmailSync, quietPowertoolsMetrics()), concurrency: SYNC_POLLERS, waitTimeSeconds: 1, functionName: 'gmail-sync' });
    const graphPoller = new SqsPoller({ client: queues.client, queueUrl: graphUrls.queueUrl, handler: makeGraphSyncHandler(graphSync, quietPowertoolsMetrics()), concurrency: SYNC_POLLERS, waitTimeSeconds: 1, functionName: 'graph-sync' });
    await gmailPoller.start();
    stops.push(() => gmailPoller.stop());
    await graphPoller.start();
    stops.push(() => graphPoller.stop());

    const depthOf = async (queueUrl: string) => {
      const { Attributes } = await queues.client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
      );
      return ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'].reduce((sum, name) => sum + Number(Attributes?.[name as 'ApproximateNumberOfMessages'] ?? 0), 0);
    };
    let mailboxes = 0;

    return {
      queues,
      storage,
      repo,
      gmail: { fake: gmailFake, emitter, queueUrl: gmailUrls.queueUrl, dlqUrl: gmailUrls.dlqUrl, poller: gmailPoller, metrics: gmailMetrics, webhookUrl: gmailWebhookUrl },
      graph: { fake: graphFake, identity, azureTenant, queueUrl: graphUrls.queueUrl, dlqUrl: graphUrls.dlqUrl, poller: graphPoller, metrics: graphMetrics, webhookUrl: `${webhookBase}/webhooks/graph` },
      graphPosts,
      poisoned,
      async addMailbox(provider, name, options = {}) {
        const n = ++mailboxes;
        const owner = { tenantId: TENANT, mailboxId: `${provider}-${name}-${n}` };
        if (provider === 'gmail') {
          const address = `${name}-${n}@gmail-reliability.example`;
          gmailFake.addMailbox(address, { refreshToken: `refresh-${n}` });
          await connectGmailMailbox({ ...gmailSync, directory: repo, settings: { topicName: TOPIC } }, owner, `refresh-${n}`);
          return { ...owner, provider, address };
        }
        const address = `${name}-${n}@graph-reliability.example`;
        // Another Entra tenant (consented by the test) gets a token of its own: a cold msal cache.
        const tenant = options.azureTenantId ?? azureTenant;
        graphFake.addMailbox(address, { displayName: name, tenantId: tenant });
        await connectGraphMailbox({ ...graphSync }, owner, { azureTenantId: tenant, address });
        return { ...owner, provider, address };
      },
      deliver(mailbox, raw) {
        if (mailbox.provider === 'gmail') return gmailFake.deliver(mailbox.address, raw).id;
        return graphFake.deliver(mailbox.address, raw).id;
      },
      async gmailPush(mailbox, messageId) {
        const body = emitter.body({ emailAddress: mailbox.address, historyId: gmailFake.historyId(mailbox.address) }, messageId ? { messageId } : {});
        return { body: JSON.stringify(body), token: await emitter.token() };
      },
      postGmailPush: (push) => post(gmailWebhookUrl, push.body, { authorization: `Bearer ${push.token}` }),
      postGraph: (body) => post(`${webhookBase}/webhooks/graph`, body),
      queueDepth: async () => (await depthOf(gmailUrls.queueUrl)) + (await depthOf(graphUrls.queueUrl)),
      async drain(timeoutMs) {
        // The notifications under way first (they enqueue), then the queues.
        const deadline = Date.now() + timeoutMs;
        while (pendingPushes.size > 0) await Promise.allSettled([...pendingPushes]);
        await graphFake.idle();
        // A job enqueued by the other queue's drain window is caught by the second round.
        for (let round = 0; round < 2; round++) {
          await gmailPoller.drain({ timeoutMs: Math.max(1, deadline - Date.now()) });
          await graphPoller.drain({ timeoutMs: Math.max(1, deadline - Date.now()) });
        }
      },
      async objects(mailbox) {
        const counts = { raw: 0, att: 0 };
        for await (const { key } of blobs.list(mailboxPrefix(mailbox.tenantId, mailbox.mailboxId))) {
          const kind = key.slice(mailboxPrefix(mailbox.tenantId, mailbox.mailboxId).length).split('/')[0];
          if (kind === 'raw' || kind === 'att') counts[kind]++;
        }
        return counts;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The connector, except that every fetch of a message id in `poisoned` is answered POISON_FAULT by the fake
 * (a fault injected at the fake just before the request): a poison message, until removed from the set.
 */
function poisonable<C extends { open(...args: never[]): object }>(connector: C, fetch: string, poisoned: ReadonlySet<string>, fault: (id: string) => void): C {
  const open = connector.open.bind(connector);
  connector.open = ((...args: Parameters<C['open']>) => {
    const api = open(...args) as Record<string, unknown>;
    const real = (api[fetch] as (id: string) => Promise<unknown>).bind(api);
    api[fetch] = (id: string) => {
      if (poisoned.has(id)) fault(id);
      return real(id);
    };
    return api;
  }) as C['open'];
  return connector;
}

function queueSpec(options: ReliabilityQueueOptions) {
  return { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds, maxReceiveCount: options.maxReceiveCount };
}

type Route = (path: string, query: URLSearchParams, headers: Record<string, string>, body: string) => Promise<{ statusCode?: number; headers?: unknown; body?: string }>;

async function listen(route: Route): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      // A handler that throws is answered 500, as API Gateway answers for a failed Lambda.
      route(url.pathname, url.searchParams, headers, Buffer.concat(chunks).toString('utf8')).then(
        (result) => res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string> | undefined).end(result.body ?? ''),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await response.arrayBuffer();
  return response.status;
}

/** A new conversation (unique subject and Message-ID), optionally with one attachment. */
export function customerMail(to: string, id: string, options: { attachment?: Buffer; inReplyTo?: string } = {}): Buffer {
  const head = [
    `From: Customer <customer-${id}@customer.example>`,
    `To: ${to}`,
    `Subject: ${options.inReplyTo ? 'Re: ' : ''}question ${options.inReplyTo ?? id}`,
    `Message-ID: <${id}@customer.example>`,
    ...(options.inReplyTo ? [`In-Reply-To: <${options.inReplyTo}@customer.example>`, `References: <${options.inReplyTo}@customer.example>`] : []),
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
  ];
  if (!options.attachment) return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', `body of ${id}`, ''].join('\r\n'));
  return Buffer.from(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      `body of ${id}`,
      '--b',
      'Content-Type: application/pdf',
      'Content-Disposition: attachment; filename="invoice.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      options.attachment.toString('base64').replace(/.{76}/g, '$&\r\n'),
      '--b--',
      '',
    ].join('\r\n'),
  );
}

export interface BurstResult {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  peakQueueDepth: number;
}

/**
 * `mailboxes` mailboxes (half Gmail, half Microsoft 365) receive `perMailbox` messages each, all
 * delivered at once; every fifth message answers the one before it (an append, not a ticket).
 * Resolves when every message is stored, timing from the first delivery.
 */
export async function burst(world: ReliabilityWorld, mailboxes: ReliabilityMailbox[], perMailbox: number, timeoutMs: number): Promise<BurstResult> {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await world.queueDepth());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const started = performance.now();
  try {
    for (let i = 0; i < perMailbox; i++) {
      for (const mailbox of mailboxes) {
        const id = `${mailbox.mailboxId}-m${i}`;
        world.deliver(mailbox, customerMail(mailbox.address, id, i % 5 === 4 ? { inReplyTo: `${mailbox.mailboxId}-m${i - 1}` } : {}));
      }
    }
    await world.drain(timeoutMs);
  } finally {
    sampling = false;
    await sampler;
  }
  const seconds = (performance.now() - started) / 1000;
  const messages = mailboxes.length * perMailbox;
  return { messages, seconds, messagesPerSecond: messages / seconds, peakQueueDepth: peak };
}

/** Messages stored for a mailbox, over all its tickets. */
export async function storedMessages(world: ReliabilityWorld, mailbox: MailboxOwner): Promise<{ tickets: number; messages: number }> {
  const tickets = await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId);
  let messages = 0;
  for (const ticket of tickets) messages += (await world.repo.listMessages(mailbox.tenantId, ticket.ticketId)).length;
  return { tickets: tickets.length, messages };
}

export async function runQueueReliabilityBenchmarks(): Promise<Metric[]> {
  const world = await startReliabilityWorld({ visibilityTimeoutSeconds: 5, maxReceiveCount: 4 });
  try {
    // Duplicate storm: one Pub/Sub push, for a message with an attachment, delivered 100 times at once.
    const stormBox = await world.addMailbox('gmail', 'storm');
    const onChange = world.gmail.fake.onChange;
    world.gmail.fake.onChange = undefined;
    world.deliver(stormBox, customerMail(stormBox.address, 'storm-1', { attachment: randomBytes(2048) }));
    world.gmail.fake.onChange = onChange;
    const push = await world.gmailPush(stormBox, 'storm-push-1');
    await Promise.all(Array.from({ length: 100 }, () => world.postGmailPush(push)));
    await world.drain(30_000);
    const stormTickets = (await world.repo.listTickets(stormBox.tenantId, stormBox.mailboxId)).length;

    // Burst: 10 mailboxes × 50 messages at once; every message must be stored once for the figure to count.
    const mailboxes: ReliabilityMailbox[] = [];
    for (let i = 0; i < 5; i++) mailboxes.push(await world.addMailbox('gmail', `burst${i}`), await world.addMailbox('graph', `burst${i}`));
    const result = await burst(world, mailboxes, 50, 60_000);
    for (const mailbox of mailboxes) {
      const stored = await storedMessages(world, mailbox);
      if (stored.messages !== 50) throw new Error(`burst: ${mailbox.mailboxId} stored ${stored.messages} of 50 messages`);
    }
    return [
      { metric: 'reliability.duplicate_storm_tickets', value: stormTickets, unit: 'tickets' },
      { metric: 'reliability.burst_messages_per_s', value: Math.round(result.messagesPerSecond * 10) / 10, unit: 'msg/s' },
      { metric: 'reliability.burst_peak_queue_depth', value: result.peakQueueDepth, unit: 'jobs' },
    ];
  } finally {
    await world.stop();
  }
}
