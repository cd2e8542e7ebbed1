// Microsoft 365 (Graph) connector benchmarks, every part real: the webhook and the sync worker against
// dynalite, s3rver, fauxqs (SQS FIFO), the wire-level KMS fake and the fake Graph and identity
// platform (Microsoft's wire format over HTTPS with a test CA, driven through the real
// @microsoft/microsoft-graph-client and @azure/msal-node). Every notification is one the fake Graph
// posted to a webhook in this process, after validating it, for a mailbox connected by the real
// connectGraphMailbox.
//
// - graph.webhook_bundle_kb: the webhook's bundle, built as the stack builds it.
// - graph.webhook_cold_init_ratio: import + first invoke of that bundle in a fresh process, against a
//   baseline Lambda that only sends one SQS message (see cold-init.ts).
// - graph.webhook_p99_ms: warm notifications in this process, one at a time as one Lambda instance takes them.
// - graph.sync_requests_per_message / graph.sync_messages_per_s: the sync worker behind the poller.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleGraphWebhook, type GraphWebhookEvent } from '../functions/graph-notify/make-handler.js';
import { makeHandler as makeSyncHandler, type GraphSyncHandlerDeps } from '../functions/graph-sync/make-handler.js';
import { KmsKeyService } from '../shared/adapters/crypto/kms-key-service.js';
import { LocalKeyService } from '../shared/adapters/crypto/local-key-service.js';
import { DynamoDbTicketRepository } from '../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { MicrosoftGraphConnector } from '../shared/adapters/graph/microsoft-graph-connector.js';
import { makeS3Client, S3BlobStore } from '../shared/adapters/s3/s3-blob-store.js';
import { SqsJobDeferral, SqsJobQueue } from '../shared/adapters/sqs/sqs-job-queue.js';
import { DeferredScanner } from '../shared/adapters/system/draining-scanners.js';
import { CountingMetrics } from '../shared/adapters/system/metrics.js';
import { systemClock, ulidIds } from '../shared/adapters/system/system.js';
import { connectGraphMailbox } from '../shared/domain/graph/lifecycle.js';
import type { GraphNotifyDeps } from '../shared/domain/graph/notify.js';
import { DEFAULT_GRAPH_SETTINGS, type GraphSettings } from '../shared/domain/graph/ports.js';
import { DEFAULT_LIMITS } from '../shared/domain/limits.js';
import type { KeyService, MailboxOwner } from '../shared/domain/ports.js';
import { ensureTable, startDynalite, type RunningDynalite } from '../shared/local/dynalite.js';
import { startLocalQueues, type LocalQueues } from '../shared/local/queues.js';
import { startS3rver, S3RVER_CREDENTIALS, type RunningS3rver } from '../shared/local/s3rver.js';
import { SqsPoller } from '../shared/local/sqs-poller.js';
import { FakeGraph } from '../shared/sandbox/fake-graph.js';
import { CaTrustingNetworkModule, FakeIdentity, trustCaInProcess } from '../shared/sandbox/fake-identity.js';
import { FakeKms } from '../tests/fakes/kms.js';
import { coldStart, measureColdInit } from './cold-init.js';
import { withMessageId, type Metric } from './ingest.js';
import { bundleHandler } from './lambda-bundle.js';
import { countSetting } from './settings.js';

const REGION = 'us-east-1';
// The local servers accept any credentials; these never leave the machine.
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const TABLE = 'mail2ticket-bench';
/** The webhook compose's default TENANT_KEY_ALIAS_PREFIX. */
const KEY_ALIAS_PREFIX = 'alias/mail2ticket/tenant/';
const AZURE_TENANT = randomUUID();
const APP = { clientId: randomUUID(), clientSecret: randomBytes(24).toString('base64url') };
const NOTIFY_PATH = '/webhooks/graph';

/** Connected through KmsKeyService, so the bundled webhook (the tenant's KMS HMAC index key) finds its clientState. */
const COLD_MAILBOX = { address: 'cold@bench.example', owner: { tenantId: 'bench-kms', mailboxId: 'm365-cold' } };
/** Connected through LocalKeyService, for the in-process notifications and the sync worker. */
const WARM_MAILBOX = { address: 'support@bench.example', owner: { tenantId: 'bench', mailboxId: 'm365' } };

const WARM_UP_NOTIFICATIONS = countSetting('BENCH_GRAPH_WARMUP', 200, { min: 0 });
const MEASURED_NOTIFICATIONS = countSetting('BENCH_GRAPH_NOTIFICATIONS', 2000);
const SYNC_MESSAGES = countSetting('BENCH_GRAPH_MESSAGES', 50);
const COLD_RUNS = countSetting('BENCH_COLD_RUNS', 31);

type WebhookHandler = (event: GraphWebhookEvent) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The notification URLs Graph posts to: each request goes to `handler` (the same code the Lambda
 * runs, on whichever queue the scenario reads) and each notification body is kept, as posted.
 */
interface Webhook {
  url: string;
  posted: string[];
  handler: WebhookHandler;
}

interface World {
  dir: string;
  dynamo: RunningDynalite;
  repo: DynamoDbTicketRepository;
  s3: RunningS3rver;
  queues: LocalQueues;
  kms: FakeKms;
  kmsClient: KMSClient;
  identity: FakeIdentity;
  graph: FakeGraph;
  webhook: Webhook;
  settings: GraphSettings;
  localKeys: LocalKeyService;
  /** The blind index each mailbox was connected with: KMS's for the cold tenant, the key files' for the rest. */
}

async function withWorld<T>(fn: (world: World) => Promise<T>): Promise<T> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const dir = await mkdtemp(join(tmpdir(), 'm2t-bench-graph-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    const dynamo = await startDynalite();
    stops.push(dynamo.stop);
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS });
    stops.push(async () => dynamoClient.destroy());
    await ensureTable(dynamoClient, TABLE);
    const s3 = await startS3rver({ dir: join(dir, 's3'), bucket: 'mail2ticket-bench' });
    stops.push(s3.stop);
    // Sync queues as the stack has them (30 s visibility, 5 receives), one per scenario: a long poll
    // the poller abandoned at its stop would take the next scenario's first job for 30 s. The others
    // only count what was sent.
    const queues = await startLocalQueues({
      queues: [
        { name: 'graph-sync' },
        { name: 'graph-backlog' },
        { name: 'graph-capture' },
        { name: 'notify-warm' },
        { name: 'notify-cold' },
        { name: 'baseline' },
      ],
    });
    stops.push(queues.stop);
    const kms = new FakeKms(REGION);
    await kms.start();
    stops.push(() => kms.stop());
    const kmsClient = new KMSClient({ endpoint: kms.endpoint, region: REGION, credentials: CREDENTIALS });
    stops.push(async () => kmsClient.destroy());
    const identity = new FakeIdentity();
    await identity.start();
    stops.push(() => identity.stop());
    identity.registerApp({ ...APP, tenants: [AZURE_TENANT] });
    // The Graph SDK uses global fetch, which takes no CA option; msal gets its own network module.
    trustCaInProcess(identity.caCertPem);
    const graph = new FakeGraph({ identity, tenantId: AZURE_TENANT });
    await graph.start();
    stops.push(() => graph.stop());
    const localKeys = new LocalKeyService({ keyDir: join(dir, 'keys') });
    const repo = new DynamoDbTicketRepository(dynamoClient, TABLE);
    const captureUrl = requiredQueue(queues, 'graph-capture').queueUrl;
    const { webhook, server } = await startWebhook(handleGraphWebhook(notifyDeps({ repo, queues }, captureUrl, new CountingMetrics())));
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const world: World = {
      dir,
      dynamo,
      repo,
      s3,
      queues,
      kms,
      kmsClient,
      identity,
      graph,
      webhook,
      settings: { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: `${webhook.url}${NOTIFY_PATH}`, lifecycleNotificationUrl: `${webhook.url}${NOTIFY_PATH}/lifecycle` },
      localKeys,
    };
    const result = await fn(world);
    await graph.idle();
    if (graph.errors.length > 0) throw new Error(`the fake Graph failed inside: ${String(graph.errors[0])}`);
    if (identity.errors.length > 0) throw new Error(`the fake identity platform failed inside: ${String(identity.errors[0])}`);
    return result;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Answers Graph's posts as API Gateway would, with whatever handler the scenario put in place. */
async function startWebhook(handler: WebhookHandler): Promise<{ webhook: Webhook; server: Server }> {
  const webhook: Webhook = { url: '', posted: [], handler };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const validationToken = url.searchParams.get('validationToken');
      const body = Buffer.concat(chunks).toString('utf8');
      if (validationToken === null) webhook.posted.push(body);
      webhook
        .handler({ rawPath: url.pathname, body, isBase64Encoded: false, ...(validationToken === null ? {} : { queryStringParameters: { validationToken } }) })
        .then(
          (result) => res.writeHead(result.statusCode ?? 500, result.headers as Record<string, string> | undefined).end(result.body ?? ''),
          () => res.writeHead(500).end(),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { webhook, server };
}

function notifyDeps(world: Pick<World, 'repo' | 'queues'>, queueUrl: string, metrics: CountingMetrics): GraphNotifyDeps {
  return { directory: world.repo, repo: world.repo, queue: new SqsJobQueue(world.queues.client, queueUrl), metrics };
}

/** The app's connector as a worker builds it: a fresh one has no token cached, like a fresh Lambda instance. */
function graphConnector(world: World): MicrosoftGraphConnector {
  return new MicrosoftGraphConnector({
    ...APP,
    credential: { clientSecret: APP.clientSecret },
    graphBaseUrl: world.graph.origin,
    authorityHost: world.identity.url,
    authorityMetadata: (tenant) => world.identity.authorityMetadata(tenant),
    cloudDiscoveryMetadata: world.identity.cloudDiscoveryMetadata(AZURE_TENANT),
    networkClient: new CaTrustingNetworkModule(world.identity.caCertPem),
  });
}

/** Connects a mailbox of the fake Graph the way onboarding does: directory claim, subscription (validated by Graph), mailbox item. */
async function connect(world: World, mailbox: { address: string; owner: MailboxOwner }, keys: KeyService): Promise<string> {
  world.graph.addMailbox(mailbox.address);
  const deps = { repo: world.repo, directory: world.repo, keys, graph: graphConnector(world), clock: systemClock, ids: ulidIds(), metrics: new CountingMetrics(), settings: world.settings };
  const record = await connectGraphMailbox(deps, mailbox.owner, { azureTenantId: AZURE_TENANT, address: mailbox.address });
  const subscriptionId = record.connection?.subscriptionId;
  if (!subscriptionId) throw new Error(`${mailbox.address} was connected without a subscription`);
  return subscriptionId;
}

export async function runGraphBenchmarks(): Promise<Metric[]> {
  return withWorld(async (world) => {
    const out = join(world.dir, 'lambda');
    progress('bundling the Graph webhook');
    const notify = await bundleHandler('functions/graph-notify/handler.ts', out, 'graph-notify');
    const baseline = await bundleHandler('bench/baseline-sqs-handler.ts', out, 'baseline-sqs');

    // Connecting needs the service index key (the address claim), the tenant's data key (the sealed
    // credentials) and the tenant's HMAC index key (the clientState's index, what the webhook checks).
    world.kms.createKey(`${KEY_ALIAS_PREFIX}_service-index`, 'HMAC_256');
    world.kms.createKey(`${KEY_ALIAS_PREFIX}${COLD_MAILBOX.owner.tenantId}`, 'SYMMETRIC_DEFAULT');
    world.kms.createKey(`${KEY_ALIAS_PREFIX}${COLD_MAILBOX.owner.tenantId}-index`, 'HMAC_256');
    const coldSubscription = await connect(world, COLD_MAILBOX, new KmsKeyService({ kms: world.kmsClient, aliasPrefix: KEY_ALIAS_PREFIX }));
    const warmSubscription = await connect(world, WARM_MAILBOX, world.localKeys);
    const validations = world.graph.validations.filter((v) => v.ok).length;
    if (validations < 4) throw new Error(`Graph validated ${validations} notification URLs for two subscriptions; 4 expected`);

    progress('webhook cold init (fresh processes)');
    const coldRatio = await coldInitRatio(world, coldSubscription, notify.file, baseline.file);
    progress(`sync (${SYNC_MESSAGES} messages, one notification each)`);
    const sync = await syncRequestsPerMessage(world, warmSubscription);
    progress(`webhook p99 (${MEASURED_NOTIFICATIONS} warm notifications)`);
    const p99 = await warmNotificationP99(world, sync.notification);
    progress(`sync backlog (${SYNC_MESSAGES} messages)`);
    const rate = await syncBacklogRate(world);
    return [
      { metric: 'graph.webhook_bundle_kb', value: round(notify.ownBytes / 1024), unit: 'KB' },
      { metric: 'graph.webhook_bundle_shipped_kb', value: round(notify.bytes / 1024), unit: 'KB' },
      { metric: 'graph.webhook_cold_init_ratio', value: round(coldRatio), unit: 'ratio' },
      { metric: 'graph.webhook_p99_ms', value: round(p99), unit: 'ms' },
      { metric: 'graph.sync_requests_per_message', value: round(sync.requestsPerMessage), unit: 'requests' },
      { metric: 'graph.sync_messages_per_s', value: round(rate), unit: 'msg/s' },
    ];
  });
}

/**
 * Graph's own notifications for the cold mailbox, one message each (distinct resource ids, so distinct
 * FIFO deduplication ids): the webhook here accepts them first, proving them valid, onto a queue no one reads.
 */
async function captureColdNotifications(world: World, subscriptionId: string, count: number): Promise<string[]> {
  const captureUrl = requiredQueue(world.queues, 'graph-capture').queueUrl;
  const before = await queueDepth(world, captureUrl);
  const postedBefore = world.webhook.posted.length;
  for (let i = 0; i < count; i++) world.graph.deliver(COLD_MAILBOX.address, await nextMail('cold'));
  await world.graph.idle();
  const bodies = world.webhook.posted.slice(postedBefore).filter((body) => notificationOf(body).subscriptionId === subscriptionId);
  if (bodies.length !== count) throw new Error(`${count} messages delivered to ${COLD_MAILBOX.address}, ${bodies.length} notifications posted`);
  const accepted = (await queueDepth(world, captureUrl)) - before;
  if (accepted !== count) throw new Error(`the webhook enqueued ${accepted} of the ${count} captured notifications`);
  return bodies;
}

async function coldInitRatio(world: World, subscriptionId: string, notifyBundle: string, baselineBundle: string): Promise<number> {
  const cold = requiredQueue(world.queues, 'notify-cold');
  const base = requiredQueue(world.queues, 'baseline');
  const invocations = COLD_RUNS + 1;
  const notifications = await captureColdNotifications(world, subscriptionId, invocations);
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    // Like Lambda: no shared config or credentials files to read.
    AWS_CONFIG_FILE: join(world.dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(world.dir, 'no-aws-credentials'),
    AWS_ENDPOINT_URL_DYNAMODB: world.dynamo.endpoint,
    // The queues' own origin, as in AWS where queue URLs and the resolved endpoint share a host
    // (cold-init-child.mjs resolves fauxqs's sqs.<region>.localhost names).
    AWS_ENDPOINT_URL_SQS: new URL(cold.queueUrl).origin,
    AWS_ENDPOINT_URL_KMS: world.kms.endpoint,
    TABLE_NAME: TABLE,
    TENANT_KEY_ALIAS_PREFIX: KEY_ALIAS_PREFIX,
    POWERTOOLS_SERVICE_NAME: 'graph-notify',
  };
  const subject = { bundle: notifyBundle, env: { ...env, SYNC_QUEUE_URL: cold.queueUrl } };

  // The validation handshake, cold and unmeasured: answered before any table, key or queue is touched.
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  await coldStart({ ...subject, event: () => apiGatewayEvent('', { validationToken: token }), expectedStatus: 200 });
  if ((await queueDepth(world, cold.queueUrl)) !== 0) throw new Error('the validation handshake enqueued a job');

  const macsBefore = world.kms.count('GenerateMac');
  let next = 0;
  const result = await measureColdInit({
    subject: {
      ...subject,
      event: () => {
        const body = notifications[next++];
        if (body === undefined) throw new Error(`cold init: more invocations than the ${notifications.length} captured notifications`);
        return apiGatewayEvent(body);
      },
      expectedStatus: 202,
    },
    baseline: { bundle: baselineBundle, env: { ...env, SYNC_QUEUE_URL: base.queueUrl }, event: () => apiGatewayEvent('{}') },
    runs: COLD_RUNS,
  });
  // A 202 also answers a rejected notification: only jobs on the queue prove the work was done.
  const [notifyJobs, baselineJobs] = await Promise.all([queueDepth(world, cold.queueUrl), queueDepth(world, base.queueUrl)]);
  if (result.invocations !== invocations || notifyJobs !== invocations || baselineJobs !== invocations) {
    throw new Error(`cold init: ${result.invocations} invocations each, but ${notifyJobs} sync jobs and ${baselineJobs} baseline messages were enqueued`);
  }
  // Each fresh webhook process derives the tenant's index key from KMS once.
  const macs = world.kms.count('GenerateMac') - macsBefore;
  // The clientState check needs no key: a cold webhook never calls KMS.
  if (macs !== 0) throw new Error(`cold init: ${macs} GenerateMac calls for ${invocations} cold starts`);
  detail(
    `webhook ${result.subject.importMs.toFixed(0)} ms import + ${result.subject.invokeMs.toFixed(0)} ms invoke; ` +
      `baseline ${result.baseline.importMs.toFixed(0)} + ${result.baseline.invokeMs.toFixed(0)} ms (medians of ${result.runs})`,
  );
  return result.ratio;
}

/** An API Gateway HTTP API (payload 2.0) request as Graph's POST reaches the webhook. */
function apiGatewayEvent(body: string, query: { validationToken?: string } = {}): Record<string, unknown> {
  const now = new Date();
  const validation = query.validationToken !== undefined;
  return {
    version: '2.0',
    routeKey: `POST ${NOTIFY_PATH}`,
    rawPath: NOTIFY_PATH,
    rawQueryString: validation ? new URLSearchParams(query as Record<string, string>).toString() : '',
    headers: { 'content-type': validation ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8' },
    ...(validation ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'mail2ticket.bench',
      domainPrefix: 'mail2ticket',
      http: { method: 'POST', path: NOTIFY_PATH, protocol: 'HTTP/1.1', sourceIp: '52.96.0.1', userAgent: '' },
      requestId: `bench-${now.getTime()}`,
      routeKey: `POST ${NOTIFY_PATH}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
}

/** Notifications for `template`'s subscription, one at a time as one Lambda instance takes them; every one must enqueue a job. */
async function warmNotificationP99(world: World, template: string): Promise<number> {
  const queueUrl = requiredQueue(world.queues, 'notify-warm').queueUrl;
  const counts = new CountingMetrics();
  const handle = handleGraphWebhook(notifyDeps(world, queueUrl, counts));

  const token = 'Validation: Token with spaces & symbols +/=?';
  const answer = await handle({ rawPath: NOTIFY_PATH, body: '', isBase64Encoded: false, queryStringParameters: { validationToken: token } });
  if (answer.statusCode !== 200 || answer.body !== token || answer.headers?.['content-type'] !== 'text/plain') {
    throw new Error(`the validation handshake answered ${answer.statusCode} ${JSON.stringify(answer.body)}`);
  }

  const latencies: number[] = [];
  const total = WARM_UP_NOTIFICATIONS + MEASURED_NOTIFICATIONS;
  for (let i = 0; i < total; i++) {
    // Distinct resource ids: each is a job of its own, never a deduplicated resend.
    const body = withResourceId(template, `bench-${i}`);
    const start = performance.now();
    const { statusCode } = await handle({ rawPath: NOTIFY_PATH, body, isBase64Encoded: false });
    const elapsed = performance.now() - start;
    if (statusCode !== 202) throw new Error(`notification ${i} answered ${statusCode}`);
    if (i >= WARM_UP_NOTIFICATIONS) latencies.push(elapsed);
  }
  if (counts.get('graph.notification_accepted') !== total) throw new Error(`${counts.get('graph.notification_accepted')} of ${total} notifications enqueued a job`);
  if ((await queueDepth(world, queueUrl)) !== total) throw new Error('the notification queue does not hold one job per notification');
  detail(`p50 ${percentile(latencies, 0.5).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`);
  return percentile(latencies, 0.99);
}

interface NotificationItem {
  subscriptionId?: string;
  resource?: string;
  resourceData?: Record<string, unknown> & { id?: string };
}

function notificationOf(body: string): NotificationItem {
  const { value } = JSON.parse(body) as { value?: NotificationItem[] };
  if (!Array.isArray(value) || value.length !== 1 || !value[0]) throw new Error(`Graph posted ${JSON.stringify(body).slice(0, 200)}, not one notification`);
  return value[0];
}

/** Graph's notification `template` about another message: its id in resourceData and in the resource path. */
function withResourceId(template: string, suffix: string): string {
  const item = notificationOf(template);
  const id = item.resourceData?.id;
  if (!id || !item.resource) throw new Error('the template notification names no message');
  const other = `${id}${suffix}`;
  const resource = item.resource.replace(id, other);
  const resourceData = { ...item.resourceData, id: other, '@odata.id': resource };
  return JSON.stringify({ value: [{ ...item, resource, resourceData }] });
}

interface SyncRig {
  poller: SqsPoller;
  connector: MicrosoftGraphConnector;
  ingested: () => Promise<number>;
  dlqUrl: string;
}

/**
 * The sync worker as the stack runs it (the Lambda handler behind an SQS poller, a connector of its
 * own), fed by the webhook that Graph posts to.
 */
function syncRig(world: World, queueName: 'graph-sync' | 'graph-backlog', metrics: CountingMetrics): SyncRig {
  const { queueUrl, dlqUrl } = requiredQueue(world.queues, queueName);
  const connector = graphConnector(world);
  const deps: GraphSyncHandlerDeps = {
    repo: world.repo,
    blobs: new S3BlobStore(makeS3Client({ endpoint: world.s3.endpoint, region: REGION, credentials: S3RVER_CREDENTIALS }), world.s3.bucket),
    keys: world.localKeys,
    // As in AWS: the scanner function gives its verdict after the write.
    scanner: new DeferredScanner(),
    clock: systemClock,
    ids: ulidIds(),
    limits: DEFAULT_LIMITS,
    graph: connector,
    directory: world.repo,
    metrics,
    settings: world.settings,
    queue: new SqsJobQueue(world.queues.client, queueUrl),
    deferral: new SqsJobDeferral(world.queues.client, queueUrl),
    maxReceiveCount: 5,
  };
  world.webhook.handler = handleGraphWebhook(notifyDeps(world, queueUrl, metrics));
  const { tenantId, mailboxId } = WARM_MAILBOX.owner;
  return {
    poller: new SqsPoller({ client: world.queues.client, queueUrl, handler: makeSyncHandler(deps, quietPowertoolsMetrics()) }),
    connector,
    ingested: async () => {
      let messages = 0;
      for (const ticket of await world.repo.listTickets(tenantId, mailboxId)) messages += (await world.repo.listMessages(tenantId, ticket.ticketId)).length;
      return messages;
    },
    dlqUrl,
  };
}

/** The worker's failures, or notifications the webhook refused, would otherwise pass for a fast run. */
async function assertClean(world: World, rig: SyncRig, metrics: CountingMetrics, notifications: number): Promise<void> {
  if (rig.poller.stats.failed > 0 || (await queueDepth(world, rig.dlqUrl)) > 0) {
    throw new Error(`the sync worker failed ${rig.poller.stats.failed} records: ${String(rig.poller.lastHandlerError)}`);
  }
  const accepted = metrics.get('graph.notification_accepted');
  if (accepted !== notifications || metrics.get('graph.notification_rejected') > 0) {
    throw new Error(`the webhook accepted ${accepted} of ${notifications} notifications Graph posted`);
  }
}

/** Graph requests, the identity platform's token requests included. */
function graphRequests(world: World): number {
  return world.graph.requests.length + world.identity.tokenRequests.length;
}

let mailNo = 0;
let plainCorpus: Promise<Buffer[]> | undefined;

/** The next of the checked-in plain messages, under a Message-ID of its own. */
async function nextMail(label: string): Promise<Buffer> {
  plainCorpus ??= Promise.all([1, 2, 3].map((n) => readFile(join(import.meta.dirname, 'corpus', `plain-${n}.eml`))));
  const corpus = await plainCorpus;
  return withMessageId(corpus[mailNo % corpus.length] as Buffer, `graph-${label}-${process.pid}-${++mailNo}`);
}

/** Delivers a message to the warm mailbox and waits until Graph's notification about it was answered. */
async function deliverNotified(world: World): Promise<void> {
  world.graph.deliver(WARM_MAILBOX.address, await nextMail('warm'));
  await world.graph.idle();
}

/**
 * Mail arriving the way a helpdesk mailbox gets it: each message delivered, notified, and synced
 * before the next arrives. Every Graph request counts, the token requests included. Also returns the
 * first notification Graph posted, as the warm webhook's template.
 */
async function syncRequestsPerMessage(world: World, subscriptionId: string): Promise<{ requestsPerMessage: number; notification: string }> {
  const metrics = new CountingMetrics();
  const rig = syncRig(world, 'graph-sync', metrics);
  const before = await rig.ingested();
  const requestsBefore = graphRequests(world);
  const postedBefore = world.webhook.posted.length;
  await rig.poller.start();
  try {
    for (let i = 0; i < SYNC_MESSAGES; i++) {
      await deliverNotified(world);
      await rig.poller.drain({ timeoutMs: 30_000 });
    }
  } finally {
    await rig.poller.stop();
  }
  await assertClean(world, rig, metrics, SYNC_MESSAGES);
  const ingested = (await rig.ingested()) - before;
  if (ingested !== SYNC_MESSAGES) throw new Error(`${SYNC_MESSAGES} messages delivered, ${ingested} ingested`);
  const notification = world.webhook.posted.slice(postedBefore).find((body) => notificationOf(body).subscriptionId === subscriptionId);
  if (!notification) throw new Error('Graph posted no notification for the warm mailbox');
  return { requestsPerMessage: (graphRequests(world) - requestsBefore) / ingested, notification };
}

/** Catching up: the messages are waiting and their notifications enqueued when the worker starts; ingested per second. */
async function syncBacklogRate(world: World): Promise<number> {
  const metrics = new CountingMetrics();
  const rig = syncRig(world, 'graph-backlog', metrics);
  const before = await rig.ingested();
  for (let i = 0; i < SYNC_MESSAGES; i++) await deliverNotified(world);
  const requestsBefore = graphRequests(world);
  const start = performance.now();
  await rig.poller.start();
  try {
    await rig.poller.drain({ timeoutMs: 60_000 });
  } finally {
    await rig.poller.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  await assertClean(world, rig, metrics, SYNC_MESSAGES);
  const ingested = (await rig.ingested()) - before;
  if (ingested !== SYNC_MESSAGES) throw new Error(`${SYNC_MESSAGES} messages delivered, ${ingested} ingested`);
  detail(`backlog: ${((graphRequests(world) - requestsBefore) / ingested).toFixed(2)} Graph requests a message, ${rig.poller.stats.records} jobs`);
  return ingested / seconds;
}

function requiredQueue(queues: LocalQueues, name: string): { queueUrl: string; dlqUrl: string } {
  const urls = queues.urls[name];
  if (!urls) throw new Error(`the ${name} queue was not created`);
  return urls;
}

async function queueDepth(world: Pick<World, 'queues'>, queueUrl: string): Promise<number> {
  const { Attributes } = await world.queues.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Powertools metrics for the handler's middleware that publish nothing: their EMF lines on stdout
 * would break `--json`. POWERTOOLS_METRICS_DISABLED is read when the instance is built.
 */
function quietPowertoolsMetrics(): PowertoolsMetricsClient {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    const silent = () => undefined;
    return new PowertoolsMetricsClient({ namespace: 'mail2ticket-bench', serviceName: 'graph-sync', logger: { debug: silent, info: silent, warn: silent, error: silent } });
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
}

function progress(step: string): void {
  process.stderr.write(`bench: ${step}…\n`);
}

function detail(text: string): void {
  process.stderr.write(`bench:   ${text}\n`);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
