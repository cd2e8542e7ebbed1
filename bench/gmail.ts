// Gmail connector benchmarks, every part real: the push webhook and the sync worker against dynalite,
// s3rver, fauxqs (SQS FIFO), the wire-level KMS fake and the fake Gmail (Google's REST and OAuth wire
// format, driven through @googleapis/gmail and google-auth-library), pushes signed like Pub/Sub's.
//
// - gmail.webhook_bundle_kb: the push webhook's bundle, built as the stack builds it.
// - gmail.webhook_cold_init_ratio: import + first invoke of that bundle in a fresh process, against a
//   baseline Lambda that only sends one SQS message (see cold-init.ts).
// - gmail.webhook_p99_ms: warm pushes in this process, one at a time as one Lambda instance takes them.
// - gmail.sync_requests_per_message / gmail.sync_messages_per_s: the sync worker behind the poller.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import { createLocalJWKSet } from 'jose';
import { handlePush } from '../functions/gmail-push/make-handler.js';
import { makeHandler as makeSyncHandler, type GmailSyncHandlerDeps } from '../functions/gmail-sync/make-handler.js';
import { KmsKeyService } from '../shared/adapters/crypto/kms-key-service.js';
import { LocalKeyService } from '../shared/adapters/crypto/local-key-service.js';
import { DynamoDbTicketRepository } from '../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { GoogleGmailConnector } from '../shared/adapters/gmail/google-gmail-connector.js';
import { PubSubPushVerifier } from '../shared/adapters/gmail/pubsub-push-verifier.js';
import { makeS3Client, S3BlobStore } from '../shared/adapters/s3/s3-blob-store.js';
import { SqsJobDeferral, SqsJobQueue } from '../shared/adapters/sqs/sqs-job-queue.js';
import { DeferredScanner } from '../shared/adapters/system/draining-scanners.js';
import { CountingMetrics } from '../shared/adapters/system/metrics.js';
import { systemClock, ulidIds } from '../shared/adapters/system/system.js';
import { connectGmailMailbox } from '../shared/domain/gmail/lifecycle.js';
import { DEFAULT_GMAIL_SETTINGS } from '../shared/domain/gmail/ports.js';
import type { GmailPushDeps } from '../shared/domain/gmail/push.js';
import { DEFAULT_LIMITS } from '../shared/domain/limits.js';
import type { KeyService, MailboxOwner } from '../shared/domain/ports.js';
import { ensureTable, startDynalite, type RunningDynalite } from '../shared/local/dynalite.js';
import { startLocalQueues, type LocalQueues } from '../shared/local/queues.js';
import { startS3rver, S3RVER_CREDENTIALS, type RunningS3rver } from '../shared/local/s3rver.js';
import { SqsPoller } from '../shared/local/sqs-poller.js';
import { FakeGmail } from '../shared/sandbox/fake-gmail.js';
import { PubSubPushEmitter } from '../shared/sandbox/pubsub-push.js';
import { FakeKms } from '../tests/fakes/kms.js';
import { measureColdInit } from './cold-init.js';
import { withMessageId, type Metric } from './ingest.js';
import { bundleHandler } from './lambda-bundle.js';
import { countSetting } from './settings.js';

const AUDIENCE = 'https://mail2ticket.bench/webhooks/gmail';
const PUSH_ACCOUNT = 'gmail-push@mail2ticket-bench.iam.gserviceaccount.com';
const TOPIC = 'projects/mail2ticket-bench/topics/gmail';
const CLIENT = { clientId: 'bench-client.apps.googleusercontent.com', clientSecret: 'bench-secret' };
const REGION = 'us-east-1';
// The local servers accept any credentials; these never leave the machine.
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const TABLE = 'mail2ticket-bench';
/** The push compose's default TENANT_KEY_ALIAS_PREFIX. */
const KEY_ALIAS_PREFIX = 'alias/mail2ticket/tenant/';

/** Connected through KmsKeyService, so the bundled webhook (KMS HMAC index key) finds it. */
const COLD_MAILBOX = { address: 'cold@bench.example', owner: { tenantId: 'bench-kms', mailboxId: 'gmail-cold' } };
/** Connected through LocalKeyService, for the in-process pushes and the sync worker. */
const WARM_MAILBOX = { address: 'support@bench.example', owner: { tenantId: 'bench', mailboxId: 'gmail' } };

const WARM_UP_PUSHES = countSetting('BENCH_GMAIL_WARMUP', 200, { min: 0 });
const MEASURED_PUSHES = countSetting('BENCH_GMAIL_PUSHES', 2000);
const SYNC_MESSAGES = countSetting('BENCH_GMAIL_MESSAGES', 50);
const COLD_RUNS = countSetting('BENCH_COLD_RUNS', 31);

interface World {
  dir: string;
  dynamo: RunningDynalite;
  repo: DynamoDbTicketRepository;
  s3: RunningS3rver;
  queues: LocalQueues;
  kms: FakeKms;
  gmail: FakeGmail;
  emitter: PubSubPushEmitter;
  connector: GoogleGmailConnector;
  localKeys: LocalKeyService;
}

async function withWorld<T>(fn: (world: World) => Promise<T>): Promise<T> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const dir = await mkdtemp(join(tmpdir(), 'm2t-bench-gmail-'));
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
      queues: [{ name: 'gmail-sync' }, { name: 'gmail-backlog' }, { name: 'push-warm' }, { name: 'push-cold' }, { name: 'baseline' }],
    });
    stops.push(queues.stop);
    const kms = new FakeKms(REGION);
    await kms.start();
    stops.push(() => kms.stop());
    const gmail = new FakeGmail(CLIENT);
    await gmail.start();
    stops.push(() => gmail.stop());
    const world: World = {
      dir,
      dynamo,
      repo: new DynamoDbTicketRepository(dynamoClient, TABLE),
      s3,
      queues,
      kms,
      gmail,
      emitter: await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT }),
      connector: new GoogleGmailConnector({ ...CLIENT, rootUrl: `${gmail.url}/`, tokenUrl: gmail.tokenUrl, revokeUrl: gmail.revokeUrl }),
      localKeys: new LocalKeyService({ keyDir: join(dir, 'keys') }),
    };
    const result = await fn(world);
    if (gmail.errors.length > 0) throw new Error(`the fake Gmail failed inside: ${String(gmail.errors[0])}`);
    return result;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Connects a mailbox of the fake Gmail the way onboarding does: profile, directory claim, watch. */
async function connect(world: World, mailbox: { address: string; owner: MailboxOwner }, keys: KeyService): Promise<void> {
  const refreshToken = `refresh-${mailbox.owner.mailboxId}`;
  world.gmail.addMailbox(mailbox.address, { refreshToken });
  const deps = { repo: world.repo, directory: world.repo, keys, gmail: world.connector, clock: systemClock, metrics: new CountingMetrics(), settings: { topicName: TOPIC } };
  await connectGmailMailbox(deps, mailbox.owner, refreshToken);
}

export async function runGmailBenchmarks(): Promise<Metric[]> {
  return withWorld(async (world) => {
    const metrics: Metric[] = [];
    const out = join(world.dir, 'lambda');
    progress('bundling the push webhook');
    const push = await bundleHandler('functions/gmail-push/handler.ts', out, 'gmail-push');
    const baseline = await bundleHandler('bench/baseline-sqs-handler.ts', out, 'baseline-sqs');
    metrics.push({ metric: 'gmail.webhook_bundle_kb', value: round(push.ownBytes / 1024), unit: 'KB' });
    metrics.push({ metric: 'gmail.webhook_bundle_shipped_kb', value: round(push.bytes / 1024), unit: 'KB' });

    // The webhook's service index key is KMS's HMAC_256 key; sealing the refresh token needs the
    // tenant's data key.
    world.kms.createKey(`${KEY_ALIAS_PREFIX}_service-index`, 'HMAC_256');
    world.kms.createKey(`${KEY_ALIAS_PREFIX}${COLD_MAILBOX.owner.tenantId}`, 'SYMMETRIC_DEFAULT');
    const kmsClient = new KMSClient({ endpoint: world.kms.endpoint, region: REGION, credentials: CREDENTIALS });
    try {
      await connect(world, COLD_MAILBOX, new KmsKeyService({ kms: kmsClient, aliasPrefix: KEY_ALIAS_PREFIX }));
    } finally {
      kmsClient.destroy();
    }
    await connect(world, WARM_MAILBOX, world.localKeys);

    progress('webhook cold init (fresh processes)');
    metrics.push({ metric: 'gmail.webhook_cold_init_ratio', value: round(await coldInitRatio(world, push.file, baseline.file)), unit: 'ratio' });
    progress(`webhook p99 (${MEASURED_PUSHES} warm pushes)`);
    metrics.push({ metric: 'gmail.webhook_p99_ms', value: round(await warmPushP99(world)), unit: 'ms' });
    progress(`sync (${SYNC_MESSAGES} messages, one push each)`);
    const sync = await syncRequestsPerMessage(world);
    metrics.push({ metric: 'gmail.sync_requests_per_message', value: round(sync), unit: 'requests' });
    progress(`sync backlog (${SYNC_MESSAGES} messages)`);
    metrics.push({ metric: 'gmail.sync_messages_per_s', value: round(await syncBacklogRate(world)), unit: 'msg/s' });
    return metrics;
  });
}

async function coldInitRatio(world: World, pushBundle: string, baselineBundle: string): Promise<number> {
  const urls = world.queues.urls;
  const cold = urls['push-cold'];
  const base = urls.baseline;
  if (!cold || !base) throw new Error('the cold-init queues were not created');
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
    GMAIL_PUSH_AUDIENCE: AUDIENCE,
    GMAIL_PUSH_SERVICE_ACCOUNT: PUSH_ACCOUNT,
    // Trusted only outside Lambda (AWS_LAMBDA_FUNCTION_NAME stays unset): the sandbox emitter's keys
    // stand in for Google's certificates, which this machine cannot fetch.
    MAIL2TICKET_SANDBOX: '1',
    MAIL2TICKET_SANDBOX_JWKS: JSON.stringify(world.emitter.jwks()),
    POWERTOOLS_SERVICE_NAME: 'gmail-push',
  };
  const macsBefore = world.kms.count('GenerateMac');
  const token = await world.emitter.token();
  const pushEvent = () => apiGatewayEvent(JSON.stringify(world.emitter.body({ emailAddress: COLD_MAILBOX.address, historyId: world.gmail.historyId(COLD_MAILBOX.address) })), token);
  const result = await measureColdInit({
    subject: { bundle: pushBundle, env: { ...env, SYNC_QUEUE_URL: cold.queueUrl }, event: pushEvent },
    baseline: { bundle: baselineBundle, env: { ...env, SYNC_QUEUE_URL: base.queueUrl }, event: () => apiGatewayEvent('{}', token) },
    runs: COLD_RUNS,
  });
  // A 204 can also mean "unusable" (an unknown mailbox): only jobs on the queue prove the work was done.
  const [pushJobs, baselineJobs] = await Promise.all([queueDepth(world, cold.queueUrl), queueDepth(world, base.queueUrl)]);
  if (pushJobs !== result.invocations || baselineJobs !== result.invocations) {
    throw new Error(`cold init: ${result.invocations} invocations each, but ${pushJobs} push jobs and ${baselineJobs} baseline messages were enqueued`);
  }
  // Each fresh webhook process derives the service index key from KMS once.
  const macs = world.kms.count('GenerateMac') - macsBefore;
  if (macs !== result.invocations) throw new Error(`cold init: ${macs} GenerateMac calls for ${result.invocations} cold starts`);
  detail(
    `push ${result.subject.importMs.toFixed(0)} ms import + ${result.subject.invokeMs.toFixed(0)} ms invoke; ` +
      `baseline ${result.baseline.importMs.toFixed(0)} + ${result.baseline.invokeMs.toFixed(0)} ms (medians of ${result.runs})`,
  );
  return result.ratio;
}

/** An API Gateway HTTP API (payload 2.0) request as it reaches the webhook. */
function apiGatewayEvent(body: string, token: string): Record<string, unknown> {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/gmail',
    rawPath: '/webhooks/gmail',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, from: 'noreply@google.com', 'user-agent': 'APIs-Google' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'mail2ticket.bench',
      domainPrefix: 'mail2ticket',
      http: { method: 'POST', path: '/webhooks/gmail', protocol: 'HTTP/1.1', sourceIp: '66.249.84.1', userAgent: 'APIs-Google' },
      requestId: `bench-${now.getTime()}`,
      routeKey: 'POST /webhooks/gmail',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
}

async function queueDepth(world: World, queueUrl: string): Promise<number> {
  const { Attributes } = await world.queues.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

function pushDeps(world: World, queueUrl: string, metrics: CountingMetrics): GmailPushDeps {
  return {
    verifier: new PubSubPushVerifier({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT, keys: createLocalJWKSet(world.emitter.jwks()) }),
    directory: world.repo,
    keys: world.localKeys,
    queue: new SqsJobQueue(world.queues.client, queueUrl),
    metrics,
  };
}

/** Pub/Sub pushes, one at a time as one Lambda instance takes them; every one must enqueue a job. */
async function warmPushP99(world: World): Promise<number> {
  const queueUrl = world.queues.urls['push-warm']?.queueUrl;
  if (!queueUrl) throw new Error('the push-warm queue was not created');
  const counts = new CountingMetrics();
  const handle = handlePush(pushDeps(world, queueUrl, counts));
  const token = await world.emitter.token();
  const latencies: number[] = [];
  for (let i = 0; i < WARM_UP_PUSHES + MEASURED_PUSHES; i++) {
    // Distinct Pub/Sub message ids: each is a job of its own, never a deduplicated resend.
    const body = JSON.stringify(world.emitter.body({ emailAddress: WARM_MAILBOX.address, historyId: world.gmail.historyId(WARM_MAILBOX.address) }));
    const start = performance.now();
    const { statusCode } = await handle({ headers: { authorization: `Bearer ${token}` }, body, isBase64Encoded: false });
    const elapsed = performance.now() - start;
    if (statusCode !== 204) throw new Error(`push ${i} answered ${statusCode}`);
    if (i >= WARM_UP_PUSHES) latencies.push(elapsed);
  }
  const total = WARM_UP_PUSHES + MEASURED_PUSHES;
  if (counts.get('gmail.push_accepted') !== total) throw new Error(`${counts.get('gmail.push_accepted')} of ${total} pushes enqueued a job`);
  if ((await queueDepth(world, queueUrl)) !== total) throw new Error('the push queue does not hold one job per push');
  detail(`p50 ${percentile(latencies, 0.5).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`);
  return percentile(latencies, 0.99);
}

interface SyncRig {
  poller: SqsPoller;
  push: (address: string) => Promise<void>;
  ingested: () => Promise<number>;
  dlqUrl: string;
}

/** The sync worker as the stack runs it (the Lambda handler behind an SQS poller), fed by the webhook. */
function syncRig(world: World, queueName: 'gmail-sync' | 'gmail-backlog'): SyncRig {
  const urls = world.queues.urls[queueName];
  if (!urls) throw new Error(`the ${queueName} queue was not created`);
  const { queueUrl } = urls;
  const metrics = new CountingMetrics();
  const deps: GmailSyncHandlerDeps = {
    repo: world.repo,
    blobs: new S3BlobStore(makeS3Client({ endpoint: world.s3.endpoint, region: REGION, credentials: S3RVER_CREDENTIALS }), world.s3.bucket),
    keys: world.localKeys,
    // As in AWS: the scanner function gives its verdict after the write.
    scanner: new DeferredScanner(),
    clock: systemClock,
    ids: ulidIds(),
    limits: DEFAULT_LIMITS,
    gmail: world.connector,
    metrics,
    settings: { ...DEFAULT_GMAIL_SETTINGS },
    queue: new SqsJobQueue(world.queues.client, queueUrl),
    deferral: new SqsJobDeferral(world.queues.client, queueUrl),
    maxReceiveCount: 5,
  };
  const handle = handlePush(pushDeps(world, queueUrl, metrics));
  const { tenantId, mailboxId } = WARM_MAILBOX.owner;
  return {
    poller: new SqsPoller({ client: world.queues.client, queueUrl, handler: makeSyncHandler(deps, quietPowertoolsMetrics()) }),
    push: async (address) => {
      const body = JSON.stringify(world.emitter.body({ emailAddress: address, historyId: world.gmail.historyId(address) }));
      const { statusCode } = await handle({ headers: { authorization: `Bearer ${await world.emitter.token()}` }, body, isBase64Encoded: false });
      if (statusCode !== 204) throw new Error(`push answered ${statusCode}`);
    },
    ingested: async () => {
      let messages = 0;
      for (const ticket of await world.repo.listTickets(tenantId, mailboxId)) messages += (await world.repo.listMessages(tenantId, ticket.ticketId)).length;
      return messages;
    },
    dlqUrl: urls.dlqUrl,
  };
}

/** The worker's failures would otherwise pass for a fast run. */
async function assertClean(world: World, rig: SyncRig): Promise<void> {
  if (rig.poller.stats.failed > 0 || (await queueDepth(world, rig.dlqUrl)) > 0) {
    throw new Error(`the sync worker failed ${rig.poller.stats.failed} records: ${String(rig.poller.lastHandlerError)}`);
  }
}

let mailNo = 0;
let plainCorpus: Promise<Buffer[]> | undefined;

/** The next of the checked-in plain messages, under a Message-ID of its own. */
async function nextMail(): Promise<Buffer> {
  plainCorpus ??= Promise.all([1, 2, 3].map((n) => readFile(join(import.meta.dirname, 'corpus', `plain-${n}.eml`))));
  const corpus = await plainCorpus;
  return withMessageId(corpus[mailNo % corpus.length] as Buffer, `gmail-${process.pid}-${++mailNo}`);
}

/**
 * Mail arriving the way a helpdesk mailbox gets it: each message delivered, pushed, and synced before
 * the next arrives. Every Gmail request counts, the OAuth token requests included.
 */
async function syncRequestsPerMessage(world: World): Promise<number> {
  const rig = syncRig(world, 'gmail-sync');
  const before = await rig.ingested();
  const requestsBefore = world.gmail.requests.length;
  await rig.poller.start();
  try {
    for (let i = 0; i < SYNC_MESSAGES; i++) {
      world.gmail.deliver(WARM_MAILBOX.address, await nextMail());
      await rig.push(WARM_MAILBOX.address);
      await rig.poller.drain({ timeoutMs: 30_000 });
    }
  } finally {
    await rig.poller.stop();
  }
  await assertClean(world, rig);
  const ingested = (await rig.ingested()) - before;
  if (ingested !== SYNC_MESSAGES) throw new Error(`${SYNC_MESSAGES} messages delivered, ${ingested} ingested`);
  return (world.gmail.requests.length - requestsBefore) / ingested;
}

/** Catching up: the messages and their pushes are waiting when the worker starts; ingested per second. */
async function syncBacklogRate(world: World): Promise<number> {
  const rig = syncRig(world, 'gmail-backlog');
  const before = await rig.ingested();
  const requestsBefore = world.gmail.requests.length;
  for (let i = 0; i < SYNC_MESSAGES; i++) {
    world.gmail.deliver(WARM_MAILBOX.address, await nextMail());
    await rig.push(WARM_MAILBOX.address);
  }
  const start = performance.now();
  await rig.poller.start();
  try {
    await rig.poller.drain({ timeoutMs: 60_000 });
  } finally {
    await rig.poller.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  await assertClean(world, rig);
  const ingested = (await rig.ingested()) - before;
  if (ingested !== SYNC_MESSAGES) throw new Error(`${SYNC_MESSAGES} messages delivered, ${ingested} ingested`);
  detail(`backlog: ${((world.gmail.requests.length - requestsBefore) / ingested).toFixed(2)} Gmail requests a message, ${rig.poller.stats.records} jobs`);
  return ingested / seconds;
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
    return new PowertoolsMetricsClient({ namespace: 'mail2ticket-bench', serviceName: 'gmail-sync', logger: { debug: silent, info: silent, warn: silent, error: silent } });
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
