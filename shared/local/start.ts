// `npm start`: the pipeline on this machine, on embedded defaults. It starts the local stack
// (dynalite, s3rver, clamd, local keyring) in MAIL2TICKET_DATA_DIR, turns every .eml dropped into
// <data dir>/inbox/<mailbox>/ into a ticket (the dropped file is deleted once the message is stored
// encrypted), and serves /healthz on PORT (127.0.0.1 only). The CLI attaches to this running stack.
//
// With the sandbox on (MAIL2TICKET_SANDBOX=1, set here when unset; 0 turns it off) it also runs both
// connectors as AWS does — the webhooks through the Lambdas' own handlers, the FIFO sync queues on
// fauxqs, the sync workers' handlers on Lambda-style pollers storing attachments `pending` for the
// scanner handler (fed by a local stand-in for the table's stream, scan-runtime.ts), the scheduled
// safety syncs and watch/subscription renewals on timers — against fake providers with a demo mailbox each:
//   Gmail:         a fake Gmail; support@sandbox-gmail.example is mailbox gmail-demo of tenant default;
//                  it pushes to POST /webhooks/gmail, signed as Pub/Sub does;
//   Microsoft 365: a fake Graph and identity platform (TLS, test CA); support@sandbox-m365.example is
//                  mailbox m365-demo of tenant default; it posts change notifications to
//                  POST /webhooks/graph (lifecycle events to /webhooks/graph/lifecycle), as Graph does.
// `mail2ticket sandbox send FILE --mailbox ADDRESS` delivers into either, and the fake notifies the
// webhook. The safety syncs run every MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS (else
// GMAIL_SAFETY_SYNC_MINUTES, else one minute). Every server binds 127.0.0.1 only.
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PubSubPushVerifier, pushSigningKeys } from '../adapters/gmail/pubsub-push-verifier.js';
import {
  loadGmailSettings,
  loadLocalConfig,
  loadSandboxConfig,
  loadSandboxGraphSettings,
  type GmailWorkerSettings,
  type GraphWorkerSettings,
  type LocalConfig,
  type SandboxConfig,
} from '../config.js';
import { DomainError } from '../domain/errors.js';
import { ingestMessage } from '../domain/ingest.js';
import type { MailboxRecord } from '../domain/model.js';
import { startLocalGmailRuntime, GMAIL_SYNC_QUEUE, type LocalGmailRuntime } from './gmail-runtime.js';
import { startLocalGraphRuntime, GRAPH_RENEWAL_PERIOD_MS, GRAPH_SYNC_QUEUE, type LocalGraphRuntime } from './graph-runtime.js';
import { readBody, toHttpApiEvent, toQueryStringParameters, writeJson, writeResult } from './http.js';
import { startLocalQueues, type LocalQueues } from './queues.js';
import { consoleReporter } from './reporter.js';
import { sandboxControl, type SandboxControl } from './sandbox/control.js';
import type { SandboxMailbox } from './sandbox/endpoints.js';
import { DEMO_GMAIL_MAILBOX, GmailSandbox, SANDBOX_PUSH_SERVICE_ACCOUNT } from './sandbox/gmail-sandbox.js';
import { DEMO_GRAPH_MAILBOX, GraphSandbox } from './sandbox/graph-sandbox.js';
import { openLocalStack, type LocalStack } from './stack.js';
import { ensureDemoTenant, localConsentSite, serveConsent } from './consent-site.js';
import { createTicketViewer, type TicketViewer } from './ticket-viewer.js';
import { startRetentionTimers, TTL_EMULATOR_SECONDS } from './retention-runtime.js';
import { startLocalScanStream, type LocalScanStream } from './scan-runtime.js';
import type { Repeater } from './connector-runtime.js';
import type { RetentionDeps } from '../domain/retention.js';
import { createInvite } from '../domain/consent/invites.js';
import { releaseGmailMailbox } from '../domain/gmail/lifecycle.js';
import { releaseGraphMailbox } from '../domain/graph/lifecycle.js';
import type { ConsentSite } from '../web/consent-router.js';
import { normalizeProviderAddress } from '../domain/connectors/credentials.js';
import { openCredentials } from '../domain/connectors/credentials.js';

const POLL_MS = 500;
const SETTLE_MS = 1000;
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TENANT = 'default';
/** What npm start buffers of a webhook body (413 beyond); the handlers have their own limits: 64 KiB for Gmail's pushes, 1 MiB for Graph's notifications. */
const WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;
const GRAPH_WEBHOOKS = new Set(['/webhooks/graph', '/webhooks/graph/lifecycle']);

interface Running {
  config: LocalConfig;
  sandboxEnabled: boolean;
  server?: Server;
  stack?: LocalStack;
  queues?: LocalQueues;
  gmail?: LocalGmailRuntime;
  sandbox?: GmailSandbox;
  graph?: LocalGraphRuntime;
  graphSandbox?: GraphSandbox;
  control?: SandboxControl;
  consent?: ConsentSite;
  /** The demo tenant's ticket viewer (/tickets…); the banner prints its one-time sign-in link. */
  viewer?: TicketViewer;
  /** The local stream from the sync workers' pending attachments to the production scanner handler. */
  scans?: LocalScanStream;
  /** The TTL emulator and the backstop sweep on their timers. */
  retention?: Repeater;
  /** The link the banner prints: a fresh invite for the demo tenant's admin. */
  inviteUrl?: string;
  ready: boolean;
}

async function main(): Promise<void> {
  // `npm start` is the sandbox of the product unless told otherwise.
  if (!process.env.MAIL2TICKET_SANDBOX?.trim()) process.env.MAIL2TICKET_SANDBOX = '1';
  let config: LocalConfig;
  let sandboxConfig: SandboxConfig;
  let settings: SandboxSettings | undefined;
  try {
    config = loadLocalConfig();
    sandboxConfig = loadSandboxConfig();
    settings = sandboxConfig.enabled ? { gmail: loadGmailSettings(), graph: loadSandboxGraphSettings(process.env, config.port) } : undefined;
  } catch (error) {
    process.stderr.write(`mail2ticket: ${(error as Error).message}\n`);
    process.exit(2);
  }

  const running: Running = { config, sandboxEnabled: sandboxConfig.enabled, ready: false };
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    running.ready = false;
    if (code === 0) process.stdout.write('\nmail2ticket: stopping…\n');
    await stopAll(running);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    running.server = await listen(running, config.port);
    running.stack = await openLocalStack(config, { publish: true });
    running.viewer = createTicketViewer(running.stack, { tenantId: TENANT, port: config.port });
    await running.stack.publish({ server: `http://127.0.0.1:${config.port}` });
    // Before the connectors, whose sync workers store attachments `pending` for it to scan.
    running.scans = startLocalScanStream({ stack: running.stack, report: consoleReporter });
    if (settings) await startSandbox(running, running.stack, running.scans, sandboxConfig, settings);
    running.retention = startRetentionTimers(running.stack, retentionDepsOf(running, running.stack), consoleReporter);
  } catch (error) {
    process.stderr.write(`mail2ticket: could not start: ${startFailure(error, config.port)}\n`);
    if (process.env.MAIL2TICKET_DEBUG === '1') process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    await shutdown(1);
    return;
  }
  const stack = running.stack;
  const inbox = join(config.dataDir, 'inbox');
  await mkdir(join(inbox, 'default'), { recursive: true, mode: 0o700 });

  running.ready = true;
  printBanner(running, inbox, sandboxConfig);
  for (;;) {
    if (stopping) return;
    await drainInbox(stack, inbox).catch((error: unknown) => process.stderr.write(`mail2ticket: inbox scan failed: ${(error as Error).message}\n`));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

interface SandboxSettings {
  gmail: GmailWorkerSettings;
  graph: GraphWorkerSettings;
}

/**
 * The sandbox: the fake providers and their demo mailboxes, wired to the real webhooks, queues,
 * workers and schedules. Each runtime is in `running` before its mailboxes connect: connecting makes
 * the fake Graph validate the webhook, which must answer by then.
 */
async function startSandbox(running: Running, stack: LocalStack, scans: LocalScanStream, config: SandboxConfig, settings: SandboxSettings): Promise<void> {
  const { port } = running.config;
  running.queues = await startLocalQueues({ queues: [GMAIL_SYNC_QUEUE, GRAPH_SYNC_QUEUE] });
  const queues = running.queues;

  const webhookUrl = `http://127.0.0.1:${port}/webhooks/gmail`;
  const sandbox = await GmailSandbox.start({ webhookUrl, mailboxes: demoMailboxes(DEMO_GMAIL_MAILBOX, config.mailboxesPerProvider), report: consoleReporter });
  running.sandbox = sandbox;
  running.gmail = await startLocalGmailRuntime({
    stack,
    queues,
    google: sandbox.google,
    // The webhook's own verifier: the sandbox's signing key is trusted only because MAIL2TICKET_SANDBOX=1
    // outside Lambda (pushSigningKeys); the audience is this webhook, as on the push subscription.
    verifier: new PubSubPushVerifier({ audience: webhookUrl, serviceAccountEmail: SANDBOX_PUSH_SERVICE_ACCOUNT, keys: pushSigningKeys(process.env, sandbox.jwks()) }),
    settings: settings.gmail,
    safetySyncSeconds: config.safetySyncSeconds,
    owns: (owner) => sandbox.isSandboxMailbox(owner),
    scans,
    report: consoleReporter,
  });
  await sandbox.connectMailboxes(running.gmail.lifecycle);

  const consentBase = `http://127.0.0.1:${port}`;
  const graphSandbox = await GraphSandbox.start({
    notificationUrl: settings.graph.notificationUrl,
    lifecycleNotificationUrl: settings.graph.lifecycleNotificationUrl,
    consentRedirectUri: `${consentBase}/connect/microsoft/callback`,
    mailboxes: demoMailboxes(DEMO_GRAPH_MAILBOX, config.mailboxesPerProvider),
    report: consoleReporter,
  });
  running.graphSandbox = graphSandbox;
  running.graph = await startLocalGraphRuntime({
    stack,
    queues,
    graph: graphSandbox.connector,
    settings: settings.graph,
    safetySyncSeconds: config.safetySyncSeconds,
    owns: (owner) => graphSandbox.isSandboxMailbox(owner),
    scans,
    report: consoleReporter,
  });
  await graphSandbox.connectMailboxes(running.graph.lifecycle);

  const gmail = running.gmail;
  const graph = running.graph;
  running.control = sandboxControl({ port, gmail: sandbox, graph: graphSandbox, connectorStats: () => ({ connector: gmail.stats(), graphConnector: graph.stats() }) });
  // What the CLI reads of the sandbox; published again when the consent page adds a mailbox.
  const sandboxEndpoints = () => ({ controlUrl: `http://127.0.0.1:${port}/sandbox`, gmail: sandbox.endpoints(), graph: graphSandbox.endpoints() });
  await stack.publish({
    queues: { endpoint: queues.endpoint, gmailSyncQueueUrl: gmail.queue.queueUrl, graphSyncQueueUrl: graph.queue.queueUrl },
    sandbox: sandboxEndpoints(),
  });
  gmail.startSchedules();
  graph.startSchedules();

  // The consent page: an admin of the demo tenant connects more sandbox mailboxes through the fakes' screens.
  await ensureDemoTenant(stack, TENANT);
  running.consent = localConsentSite(stack, {
    baseUrl: consentBase,
    retention: retentionDepsOf(running, stack),
    providers: {
      google: { ...sandbox.consentAuthorization(`${consentBase}/connect/google/callback`), lifecycle: gmail.lifecycle },
      microsoft: { ...graphSandbox.consentAuthorization(), lifecycle: graph.lifecycle },
    },
    onConnected: (mailbox) => {
      void (async () => {
        const credentials = await openCredentials(stack.deps.keys, mailbox, mailbox.connection?.sealedCredentials);
        const adopted = { tenantId: mailbox.tenantId, mailboxId: mailbox.mailboxId, address: normalizeProviderAddress(credentials.address) };
        if (mailbox.provider === 'gmail') sandbox.adopt(adopted);
        if (mailbox.provider === 'graph') graphSandbox.adopt(adopted);
        await stack.publish({ sandbox: sandboxEndpoints() });
      })().catch((error: unknown) => consoleReporter.warn(`consent: could not adopt mailbox ${mailbox.mailboxId} (${(error as Error).name})`));
    },
    report: (line) => consoleReporter.warn(line),
  });
  running.inviteUrl = (await createInvite({ ...running.consent.deps }, TENANT)).url;
}

/** What disconnects and the purge run on: the stack, and the running connectors to release a provider mailbox. */
function retentionDepsOf(running: Running, stack: LocalStack): RetentionDeps {
  return {
    repo: stack.deps.repo,
    retention: stack.retention,
    blobs: stack.deps.blobs,
    clock: stack.deps.clock,
    releaseProvider: async (mailbox) => {
      if (mailbox.provider === 'gmail' && running.gmail) await releaseGmailMailbox(running.gmail.lifecycle, mailbox);
      if (mailbox.provider === 'graph' && running.graph) await releaseGraphMailbox(running.graph.lifecycle, mailbox);
    },
  };
}

/** The demo mailbox, then support2@…, support3@… as mailboxes gmail-demo-2… (MAIL2TICKET_SANDBOX_MAILBOXES). */
function demoMailboxes(demo: SandboxMailbox, count: number): SandboxMailbox[] {
  const [local, domain] = demo.address.split('@') as [string, string];
  return [demo, ...Array.from({ length: count - 1 }, (_, i) => ({ tenantId: demo.tenantId, mailboxId: `${demo.mailboxId}-${i + 2}`, address: `${local}${i + 2}@${domain}` }))];
}

/** Stops what runs, the webhook first and the stack last; a part that fails to stop does not keep the others running. */
async function stopAll(running: Running): Promise<void> {
  const steps: Array<[string, (() => Promise<void>) | undefined]> = [
    ['server', running.server && closeServer(running.server)],
    ['gmail connector', running.gmail && (() => (running.gmail as LocalGmailRuntime).stop())],
    ['graph connector', running.graph && (() => (running.graph as LocalGraphRuntime).stop())],
    ['gmail sandbox', running.sandbox && (() => (running.sandbox as GmailSandbox).stop())],
    ['microsoft 365 sandbox', running.graphSandbox && (() => (running.graphSandbox as GraphSandbox).stop())],
    // After the sync workers, its only writers: a batch under way ends; what is still queued stays pending for the next start's backstop.
    ['scanner stream', running.scans && (() => (running.scans as LocalScanStream).stop())],
    ['retention timers', running.retention && (() => (running.retention as Repeater).stop())],
    ['local SQS', running.queues && (() => (running.queues as LocalQueues).stop())],
    ['stack', running.stack && (() => (running.stack as LocalStack).stop())],
  ];
  for (const [name, stop] of steps) {
    await stop?.().catch((error: unknown) => process.stderr.write(`mail2ticket: stopping the ${name} failed: ${(error as Error).message}\n`));
  }
}

function closeServer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive sockets (the push emitter's, the CLI's) would hold close() open.
      server.closeAllConnections();
    });
}

function startFailure(error: unknown, port: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') return `port ${port} on 127.0.0.1 is in use (set PORT to a free one)`;
  if (code === 'EACCES') return `port ${port} on 127.0.0.1 is not allowed (set PORT to one above 1023)`;
  if (error instanceof DomainError && !error.exposeMessage) return `${error.name} (set MAIL2TICKET_DEBUG=1 for details)`;
  return error instanceof Error ? error.message : String(error);
}

async function listen(running: Running, port: number): Promise<Server> {
  // Timeouts are checked every second (Node's default is 30 s), so a trickling client is cut off near its deadline.
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    route(running, req, res).catch((error: unknown) => {
      process.stderr.write(`mail2ticket: ${req.method} ${req.url?.split('?')[0]} failed: ${(error as Error).name}\n`);
      if (!res.headersSent) writeJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  // A webhook body trickled byte by byte must not hold a socket (and a handler) open: the whole request
  // arrives within the timeout or is answered 408.
  server.requestTimeout = running.config.requestTimeoutMs;
  server.headersTimeout = Math.min(running.config.requestTimeoutMs, 10_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

async function route(running: Running, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/healthz') {
    const { ready, stack } = running;
    return writeJson(res, ready ? 200 : 503, {
      status: ready ? 'ok' : 'starting',
      scanner: stack ? (stack.scannerAvailable ? 'clamd' : 'unavailable') : 'starting',
      sandbox: running.sandboxEnabled ? 'on' : 'off',
    });
  }
  if (url.pathname === '/webhooks/gmail') {
    if (req.method !== 'POST') return writeJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    if (!running.sandboxEnabled) return writeJson(res, 404, { error: 'no Gmail connector runs here (MAIL2TICKET_SANDBOX=0)' });
    // Until the connector runs, Pub/Sub is told to come back later.
    if (!running.gmail) return writeJson(res, 503, { error: 'starting' }, { 'retry-after': '1' });
    const body = await readBody(req, WEBHOOK_MAX_BODY_BYTES);
    if (!body) return writeJson(res, 413, { error: 'body too large' }, { connection: 'close' });
    return writeResult(res, await running.gmail.webhook(toHttpApiEvent(req, body)));
  }
  if (GRAPH_WEBHOOKS.has(url.pathname)) {
    if (req.method !== 'POST') return writeJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    if (!running.sandboxEnabled) return writeJson(res, 404, { error: 'no Microsoft 365 connector runs here (MAIL2TICKET_SANDBOX=0)' });
    // Until the connector runs, Graph is told to come back later.
    if (!running.graph) return writeJson(res, 503, { error: 'starting' }, { 'retry-after': '1' });
    const body = await readBody(req, WEBHOOK_MAX_BODY_BYTES);
    if (!body) return writeJson(res, 413, { error: 'body too large' }, { connection: 'close' });
    const query = toQueryStringParameters(url);
    return writeResult(res, await running.graph.webhook({ rawPath: url.pathname, body: body.toString('utf8'), isBase64Encoded: false, ...(query ? { queryStringParameters: query } : {}) }));
  }
  if (url.pathname === '/tickets' || url.pathname.startsWith('/tickets/')) {
    if (!running.viewer) return writeJson(res, 503, { error: 'starting' }, { 'retry-after': '1' });
    return running.viewer.serve(req, res, url);
  }
  if (url.pathname === '/connect' || url.pathname.startsWith('/connect/')) {
    if (!running.consent) return writeJson(res, running.sandboxEnabled ? 503 : 404, { error: running.sandboxEnabled ? 'starting' : 'the consent page runs with the sandbox (MAIL2TICKET_SANDBOX=1)' });
    return serveConsent(running.consent, req, res, url);
  }
  if (url.pathname.startsWith('/sandbox/') && running.control && running.ready) return running.control(req, res, url);
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

function printBanner(running: Running, inbox: string, sandboxConfig: SandboxConfig): void {
  const { config, stack, sandbox, gmail, graphSandbox, graph } = running;
  const lines = [
    'mail2ticket is running on embedded parts (no cloud, no Docker).',
    `  data:     ${config.dataDir}`,
    `  health:   http://127.0.0.1:${config.port}/healthz`,
    ...(running.viewer ? [`  tickets:  ${running.viewer.loginUrl}`, '            (ticket viewer, read-only: signs one browser in, once, for 8 hours; new link each start)'] : []),
    `  scanner:  ${stack?.scannerAvailable ? 'clamd (local test signatures)' : 'ClamAV not installed: attachments are held unscanned'}`,
    '            (connector mail as in AWS: attachments stored `pending`, scanned after the write; dropped .eml files and `cli ingest` are scanned at once)',
    `  purge:    TTL emulator every ${TTL_EMULATOR_SECONDS} s, backstop sweep hourly (disconnected mailboxes' data goes by its deadline)`,
    `  inbox:    drop .eml files into ${join(inbox, '<mailbox>')}/ (e.g. ${join(inbox, 'default')}/)`,
    '',
  ];
  const [gmailDemo] = sandbox?.endpoints().mailboxes ?? [];
  const [graphDemo] = graphSandbox?.endpoints().mailboxes ?? [];
  const mailboxLine = (demo: SandboxMailbox | undefined) => `  mailbox:  ${demo ? `${demo.address} → mailbox ${demo.mailboxId} of tenant ${demo.tenantId}` : 'none connected (see above)'}`;
  const every = sandboxConfig.safetySyncSeconds % 60 === 0 ? `${sandboxConfig.safetySyncSeconds / 60} min` : `${sandboxConfig.safetySyncSeconds} s`;
  if (sandbox && gmail) {
    const endpoints = sandbox.endpoints();
    lines.push(
      'Sandbox (MAIL2TICKET_SANDBOX=1; set it to 0 to run without): both connectors against fake providers.',
      'Gmail, against a fake Gmail:',
      mailboxLine(gmailDemo),
      `  gmail:    fake Gmail API ${endpoints.apiUrl}, OAuth token endpoint ${endpoints.tokenUrl}`,
      `  webhook:  ${endpoints.webhookUrl} (the fake's Pub/Sub pushes, signed with the sandbox's key)`,
      `  queue:    ${GMAIL_SYNC_QUEUE.name}.fifo on local SQS ${gmail.queue.endpoint}, worked by the gmail-sync handler`,
      `  schedule: safety sync every ${every} (MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS), watch renewal daily`,
    );
  }
  if (graphSandbox && graph) {
    const endpoints = graphSandbox.endpoints();
    lines.push(
      'Microsoft 365, against a fake Graph and identity platform (HTTPS with a test CA):',
      mailboxLine(graphDemo),
      `  graph:    fake Graph API ${endpoints.graphUrl}/v1.0, identity platform ${endpoints.identityUrl}, CA ${endpoints.caCertPath}`,
      `  webhooks: ${endpoints.notificationUrl} and ${endpoints.lifecycleNotificationUrl} (the fake's change and lifecycle notifications, checked by clientState)`,
      `  queue:    ${GRAPH_SYNC_QUEUE.name}.fifo on local SQS ${graph.queue.endpoint}, worked by the graph-sync handler`,
      `  schedule: safety sync every ${every} (MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS), subscription renewal every ${GRAPH_RENEWAL_PERIOD_MS / 3_600_000} h`,
    );
  }
  if (running.inviteUrl) {
    lines.push(
      'Consent page (connect more sandbox mailboxes as the demo tenant\'s admin; single-use link, new each start):',
      `  ${running.inviteUrl}`,
      '  (Google: sales@sandbox-gmail.example; Microsoft 365: sign in as admin@sandbox-m365.example, then name sales@sandbox-m365.example)',
    );
  }
  if (sandbox || graphSandbox) lines.push('');
  lines.push('Try:');
  for (const demo of [gmailDemo, graphDemo]) {
    if (demo) lines.push(`  npm run --silent cli -- sandbox send tests/fixtures/mail/plain-text.eml --mailbox ${demo.address}`);
  }
  const outageDemo = graphDemo ?? gmailDemo;
  if (outageDemo) {
    lines.push(
      '  npm run --silent cli -- tickets list',
      `  npm run --silent cli -- sandbox outage --mailbox ${outageDemo.address} --minutes 5   (then send another: no notification, the safety sync brings it in)`,
      '  npm run --silent cli -- sandbox status',
      `  cp tests/fixtures/mail/plain-text.eml ${join(inbox, 'default')}/   (the drop folder: no provider at all)`,
    );
  } else {
    lines.push(`  cp tests/fixtures/mail/plain-text.eml ${join(inbox, 'default')}/`, '  npm run --silent cli -- tickets list');
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  process.stdout.write(lines.join('\n'));
}

async function drainInbox(stack: LocalStack, inbox: string): Promise<void> {
  for (const mailboxId of await readdir(inbox)) {
    if (!SAFE_ID.test(mailboxId)) continue;
    const dir = join(inbox, mailboxId);
    if (!(await stat(dir)).isDirectory()) continue;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
    if (files.length === 0) continue;
    const mailbox = await ensureMailbox(stack, mailboxId);
    for (const file of files) {
      // A file still being copied in is left for the next round.
      const { mtimeMs } = await stat(join(dir, file));
      if (Date.now() - mtimeMs < SETTLE_MS) continue;
      await ingestDropped(stack, mailbox, join(dir, file), file);
    }
  }
}

async function ingestDropped(stack: LocalStack, mailbox: MailboxRecord, path: string, name: string): Promise<void> {
  // Scanned inline (stack.deps.scanner), unlike the connectors' mail: this line, like the CLI's
  // `ingest --json`, reports each attachment's verdict as the operator drops the file; a `pending`
  // there would only say "look again later". No provider pipeline is being reproduced here.
  const handle = await open(path, 'r');
  try {
    const result = await ingestMessage(stack.deps, handle.createReadStream({ autoClose: false }), {
      tenantId: mailbox.tenantId,
      mailboxId: mailbox.mailboxId,
      mailbox,
      receivedAt: stack.deps.clock.now(),
    });
    const scans = result.attachments.map((a) => a.scan).join(', ');
    process.stdout.write(`${name} → ${result.status}${result.ticketId ? ` ticket ${result.ticketId}` : ''}${result.reason ? ` (${result.reason})` : ''}${scans ? ` [${scans}]` : ''}\n`);
  } catch (error) {
    if (error instanceof DomainError && error.retryable) return; // left in place, tried again next round
    process.stderr.write(`${name} → error: ${error instanceof DomainError && error.exposeMessage ? error.message : 'ingestion failed'}\n`);
  } finally {
    await handle.close();
  }
  // Stored encrypted now (or unusable): the plaintext copy goes.
  await rm(path, { force: true });
}

async function ensureMailbox(stack: LocalStack, mailboxId: string): Promise<MailboxRecord> {
  const existing = await stack.deps.repo.getMailbox(TENANT, mailboxId);
  if (existing) return existing;
  const mailbox: MailboxRecord = { tenantId: TENANT, mailboxId, provider: 'local', status: 'connected', createdAt: stack.deps.clock.now().toISOString() };
  await stack.deps.repo.putMailbox(mailbox);
  return mailbox;
}

await main();
