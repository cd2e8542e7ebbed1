// Log hygiene: the main paths run with every log sink captured (tests/reliability/log-capture.ts:
// process.stdout/stderr, console.*, the Powertools logger opened to DEBUG), then no captured line may
// hold a known secret — the fixture mails' subjects, addresses, body snippets and attachment names,
// the OAuth tokens the fake Google issued, the push's bearer token, invite tokens, session cookies
// and CSRF tokens, and the key material of the local keyring and the consent signing key.
//
// Paths driven in process on the local stack (dynalite, s3rver, the local keyring): the ingest
// Lambda's handler over fixture mails; the Gmail push webhook and sync worker against the fake Gmail
// (the real @googleapis client); the consent Lambda's landing and start; npm start's reporter; the
// data-subject commands of the CLI (export, rectify, restrict, erase).
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, Context, SQSRecord } from 'aws-lambda';
import { createLocalJWKSet } from 'jose';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleConsent } from '../../functions/consent/make-handler.js';
import { makeHandler as makeIngestHandler } from '../../functions/ingest/make-handler.js';
import { makeHandler as makePushHandler } from '../../functions/gmail-push/make-handler.js';
import { makeHandler as makeSyncHandler, type GmailSyncHandlerDeps } from '../../functions/gmail-sync/make-handler.js';
import { handleGraphWebhook } from '../../functions/graph-notify/make-handler.js';
import { makeHandler as makeGraphSyncHandler, type GraphSyncHandlerDeps } from '../../functions/graph-sync/make-handler.js';
import { MicrosoftGraphConnector } from '../../shared/adapters/graph/microsoft-graph-connector.js';
import { connectGraphMailbox } from '../../shared/domain/graph/lifecycle.js';
import { DEFAULT_GRAPH_SETTINGS } from '../../shared/domain/graph/ports.js';
import { FakeGraph } from '../../shared/sandbox/fake-graph.js';
import { CaTrustingNetworkModule, FakeIdentity, trustCaInProcess } from '../../shared/sandbox/fake-identity.js';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { PubSubPushVerifier } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { GoogleOAuthAuthorization } from '../../shared/adapters/oauth/google-authorization.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { logger } from '../../shared/adapters/system/observability.js';
import { requestersCommand } from '../../shared/cli/requester-commands.js';
import { loadLocalConfig } from '../../shared/config.js';
import { createInvite, createTenant } from '../../shared/domain/consent/invites.js';
import { connectGmailMailbox } from '../../shared/domain/gmail/lifecycle.js';
import type { GmailPushDeps } from '../../shared/domain/gmail/push.js';
import { DEFAULT_GMAIL_SETTINGS } from '../../shared/domain/gmail/ports.js';
import type { GraphNotifyDeps } from '../../shared/domain/graph/notify.js';
import type { QueuedJob } from '../../shared/domain/ports.js';
import { localConsentSite } from '../../shared/local/consent-site.js';
import { consoleReporter } from '../../shared/local/reporter.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { FakeGmail } from '../../shared/sandbox/fake-gmail.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';
import { consentEvent } from '../support/consent-event.js';
import { EicarScanner } from '../support/memory.js';
import { captureLogs, Secrets, type LogCapture } from './log-capture.js';

const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = ['attach-clean.eml', 'plain-text.eml', 'gmail-html-alternative.eml', 'html-hostile.eml', 'attach-eicar-plain.eml', 'rfc2231-filename.eml'];
const TENANT = 'hygiene';
const AUDIENCE = 'https://mail2ticket.test/webhooks/gmail';
const PUSH_ACCOUNT = 'gmail-push@mail2ticket-test.iam.gserviceaccount.com';
const CLIENT = { clientId: 'client-1.apps.googleusercontent.com', clientSecret: 'client-secret-hygiene-1' };
const GMAIL_ADDRESS = 'helpdesk-hygiene@acme.example';
const REFRESH_TOKEN = 'refresh-hygiene-7f3a9c';
const BASE = 'https://consent.example';
const context = { functionName: 'hygiene', awsRequestId: 'req-hygiene', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

let dataDir: string;
let stack: LocalStack;
let capture: LogCapture;
/** Every secret the paths handled, with where it came from (for the failure message). */
// Short values ("hi", "Re:") would match ordinary words of a log line; the fixtures' are longer.
const secrets = new Secrets(6);

function secret(value: string | undefined | null, what: string): void {
  secrets.add(value?.trim(), what);
}

async function rememberMail(raw: Buffer, what: string): Promise<void> {
  const parsed = await simpleParser(raw);
  secret(parsed.subject, `${what}: subject`);
  for (const list of [parsed.from, parsed.to, parsed.cc, parsed.replyTo].flat()) for (const a of list?.value ?? []) secret(a.address, `${what}: address`);
  const words = (parsed.text ?? '').replace(/\s+/g, ' ').trim();
  if (words.length >= 24) secret(words.slice(0, 24), `${what}: body`);
  for (const a of parsed.attachments) secret(a.filename, `${what}: attachment filename`);
}

function sqsRecord(id: string, body: string, groupId: string): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: groupId, MessageDeduplicationId: id, SequenceNumber: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:queue.fifo',
    awsRegion: 'eu-west-1',
  };
}

/** Powertools metrics outside Lambda would print EMF to stdout: counts, but not what is checked here. */
const silentMetrics = { publishStoredMetrics: () => undefined, addMetric: () => undefined, captureColdStartMetric: () => undefined, setThrowOnEmptyMetrics: () => undefined } as unknown as Parameters<typeof makeSyncHandler>[1];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-log-hygiene-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new EicarScanner() });
  await stack.deps.repo.putMailbox({ tenantId: TENANT, mailboxId: 'support', provider: 'local', status: 'connected', createdAt: stack.deps.clock.now().toISOString() });
  capture = captureLogs();
});
afterAll(async () => {
  capture?.stop();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('log hygiene', () => {
  it('the capture sees the Powertools logger, console and the reporter (a marker logged through each)', () => {
    logger.info('log-capture marker powertools', { marker: 'MARKER-PT-1' });
    console.warn('MARKER-CONSOLE-1');
    consoleReporter.info('MARKER-REPORTER-1');
    consoleReporter.warn('MARKER-REPORTER-2');
    for (const marker of ['MARKER-PT-1', 'MARKER-CONSOLE-1', 'MARKER-REPORTER-1', 'MARKER-REPORTER-2']) expect(capture.leaksOf(marker), marker).toHaveLength(1);
    expect(JSON.parse(capture.leaksOf('MARKER-PT-1')[0] as string)).toMatchObject({ level: 'INFO', message: 'log-capture marker powertools' });
    // A secret logged at DEBUG inside a structured attribute, JSON-escaped: the check finds it.
    logger.debug('canary', { subject: 'Canary "subject" from canary@leak.example' });
    expect(capture.leaksOf('Canary "subject" from canary@leak.example')).toHaveLength(1);
    expect(capture.leaksOf('canary@leak.example')).toHaveLength(1);
  });

  it('the ingest Lambda over fixture mails', async () => {
    const handler = makeIngestHandler(stack.deps);
    for (const [i, file] of FIXTURES.entries()) {
      const raw = await readFile(join(ROOT, 'tests/fixtures/mail', file));
      await rememberMail(raw, file);
      const intakeKey = `intake/${TENANT}/support/${i}.eml`;
      await stack.deps.blobs.put(intakeKey, raw);
      const job = { tenantId: TENANT, mailboxId: 'support', intakeKey, receivedAt: new Date().toISOString() };
      const response = await handler({ Records: [sqsRecord(`ingest-${i}`, JSON.stringify(job), 'support')] }, context);
      expect(response.batchItemFailures, file).toEqual([]);
    }
    expect(capture.lines.filter((l) => l.includes('"ingested"'))).toHaveLength(FIXTURES.length);
    expect(await stack.deps.repo.listTickets(TENANT)).not.toHaveLength(0);
  });

  it('the Gmail push webhook and sync worker against the fake Gmail', async () => {
    const fake = new FakeGmail({ clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret });
    await fake.start();
    try {
      fake.addMailbox(GMAIL_ADDRESS, { refreshToken: REFRESH_TOKEN });
      const emitter = await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT });
      const jobs: QueuedJob[] = [];
      const queue = { enqueue: async (job: QueuedJob) => void jobs.push(job) };
      const metrics = new CountingMetrics();
      const sync: GmailSyncHandlerDeps = {
        ...stack.deps,
        gmail: new GoogleGmailConnector({ ...CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, revokeUrl: fake.revokeUrl, timeoutMs: 5_000 }),
        metrics,
        settings: { ...DEFAULT_GMAIL_SETTINGS },
        backoff: { attempts: 2, baseMs: 20, capMs: 100, maxInlineWaitMs: 100 },
        queue,
        deferral: { defer: async () => undefined },
        maxReceiveCount: 4,
      };
      const push: GmailPushDeps = {
        verifier: new PubSubPushVerifier({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT, keys: createLocalJWKSet(emitter.jwks()) }),
        directory: stack.directory,
        keys: stack.deps.keys,
        queue,
        metrics,
      };
      await connectGmailMailbox({ ...sync, directory: stack.directory, settings: { topicName: 'projects/p/topics/gmail' } }, { tenantId: TENANT, mailboxId: 'gmail1' }, REFRESH_TOKEN);
      secret(REFRESH_TOKEN, 'gmail refresh token');
      secret(CLIENT.clientSecret, 'google client secret');
      secret(GMAIL_ADDRESS, 'gmail mailbox address');

      for (const file of ['attach-clean.eml', 'encoded-words.eml']) {
        const raw = await readFile(join(ROOT, 'tests/fixtures/mail', file));
        await rememberMail(raw, `gmail ${file}`);
        fake.deliver(GMAIL_ADDRESS, raw);
      }
      const pushHandler = makePushHandler(push, silentMetrics);
      const token = await emitter.token();
      secret(token, 'pub/sub push bearer token');
      const body = JSON.stringify(emitter.body({ emailAddress: GMAIL_ADDRESS, historyId: fake.historyId(GMAIL_ADDRESS) }));
      const pushed = await pushHandler({ headers: { authorization: `Bearer ${token}` }, body, isBase64Encoded: false } as unknown as APIGatewayProxyEventV2, context);
      expect(pushed).toMatchObject({ statusCode: 204 });
      // A forged push is refused, and its token is not logged either.
      const forged = await (await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: PUSH_ACCOUNT })).token();
      secret(forged, 'forged push token');
      expect(await pushHandler({ headers: { authorization: `Bearer ${forged}` }, body, isBase64Encoded: false } as unknown as APIGatewayProxyEventV2, context)).toMatchObject({ statusCode: 401 });

      expect(jobs.length).toBeGreaterThan(0);
      const syncHandler = makeSyncHandler(sync, silentMetrics);
      for (const [i, job] of jobs.splice(0).entries()) {
        const response = await syncHandler({ Records: [sqsRecord(`sync-${i}`, job.body, job.groupId)] }, context);
        expect(response.batchItemFailures).toEqual([]);
      }
      expect(await stack.deps.repo.listTickets(TENANT, 'gmail1')).toHaveLength(2);
      // The access tokens the fake's token endpoint issued to the connector (revoking drops them).
      const issued = [...(fake as unknown as { oauth: { accessTokens: Map<string, unknown> } }).oauth.accessTokens.keys()];
      expect(issued.length).toBeGreaterThan(0);
      for (const t of issued) secret(t, 'gmail access token');

      // The failure paths: a revoked grant (reauthorization required) and a push for an unknown mailbox.
      fake.revokeRefreshToken(GMAIL_ADDRESS);
      fake.expireAccessTokens(GMAIL_ADDRESS);
      fake.deliver(GMAIL_ADDRESS, await readFile(join(ROOT, 'tests/fixtures/mail', 'reply-to-plain.eml')));
      await rememberMail(await readFile(join(ROOT, 'tests/fixtures/mail', 'reply-to-plain.eml')), 'gmail reply-to-plain.eml');
      const again = JSON.stringify(emitter.body({ emailAddress: GMAIL_ADDRESS, historyId: fake.historyId(GMAIL_ADDRESS) }));
      expect(await pushHandler({ headers: { authorization: `Bearer ${token}` }, body: again, isBase64Encoded: false } as unknown as APIGatewayProxyEventV2, context)).toMatchObject({ statusCode: 204 });
      const stranger = JSON.stringify(emitter.body({ emailAddress: 'stranger-hygiene@elsewhere.example', historyId: '5' }));
      secret('stranger-hygiene@elsewhere.example', 'unknown push address');
      expect(await pushHandler({ headers: { authorization: `Bearer ${token}` }, body: stranger, isBase64Encoded: false } as unknown as APIGatewayProxyEventV2, context)).toMatchObject({ statusCode: 204 });
      for (const [i, job] of jobs.splice(0).entries()) await syncHandler({ Records: [sqsRecord(`sync-revoked-${i}`, job.body, job.groupId)] }, context);
      expect((await stack.deps.repo.getMailbox(TENANT, 'gmail1'))?.status).not.toBe('connected');
      expect(capture.lines.some((l) => l.includes('"gmail sync"'))).toBe(true);
      expect(capture.lines.some((l) => l.includes('"gmail push"'))).toBe(true);
    } finally {
      await fake.stop();
    }
  });

  it('the Graph notification webhook and sync worker against the fake Graph and identity platform', async () => {
    const address = 'support-hygiene@contoso.example';
    const azureTenant = randomUUID();
    const clientId = randomUUID();
    const clientSecret = randomBytes(24).toString('base64url');
    secret(address, 'graph mailbox address');
    secret(clientSecret, 'graph client secret');
    const identity = new FakeIdentity();
    await identity.start();
    identity.registerApp({ clientId, clientSecret, tenants: [azureTenant] });
    trustCaInProcess(identity.caCertPem);
    const graph = new FakeGraph({ identity, tenantId: azureTenant });
    await graph.start();
    graph.addMailbox(address, { displayName: 'Contoso Support' });
    identity.grantConsent(azureTenant, clientId);
    // The bearer tokens the Graph client sends (it uses global fetch): read off the wire.
    const originalFetch = globalThis.fetch;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      const bearer = headers.get('authorization')?.replace(/^Bearer /i, '');
      if (bearer) secret(bearer, 'graph access token');
      return originalFetch(input, init);
    }) as typeof fetch;
    const jobs: QueuedJob[] = [];
    const metrics = new CountingMetrics();
    const notify: GraphNotifyDeps = { directory: stack.directory, repo: stack.deps.repo, queue: { enqueue: async (job) => void jobs.push(job) }, metrics };
    const webhookHandler = handleGraphWebhook(notify);
    const webhook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const validationToken = url.searchParams.get('validationToken');
        void webhookHandler({ rawPath: url.pathname, body: Buffer.concat(chunks).toString('utf8'), isBase64Encoded: false, queryStringParameters: validationToken === null ? {} : { validationToken } }).then(
          (result) => res.writeHead(result.statusCode ?? 500, result.headers as Record<string, string> | undefined).end(result.body ?? ''),
          () => res.writeHead(500).end(),
        );
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
    try {
      const sync: GraphSyncHandlerDeps = {
        ...stack.deps,
        graph: new MicrosoftGraphConnector({
          clientId,
          credential: { clientSecret },
          graphBaseUrl: graph.origin,
          authorityHost: identity.url,
          authorityMetadata: (tenant) => identity.authorityMetadata(tenant),
          cloudDiscoveryMetadata: identity.cloudDiscoveryMetadata(azureTenant),
          networkClient: new CaTrustingNetworkModule(identity.caCertPem),
          pageSize: 5,
        }),
        directory: stack.directory,
        metrics,
        settings: { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: `${webhookUrl}/webhooks/graph`, lifecycleNotificationUrl: `${webhookUrl}/webhooks/graph/lifecycle` },
        backoff: { attempts: 2, baseMs: 20, capMs: 100, maxInlineWaitMs: 100 },
        queue: notify.queue,
        deferral: { defer: async () => undefined },
        maxReceiveCount: 6,
      };
      await connectGraphMailbox({ ...sync }, { tenantId: TENANT, mailboxId: 'm365a' }, { azureTenantId: azureTenant, address });
      for (const subscription of graph.subscriptions(address)) secret(subscription.clientState, 'graph subscription clientState');
      expect(graph.subscriptions(address)).not.toHaveLength(0);
      for (const file of ['outlook-html-only.eml', 'inline-cid-image.eml']) {
        const raw = await readFile(join(ROOT, 'tests/fixtures/mail', file));
        await rememberMail(raw, `graph ${file}`);
        graph.deliver(address, raw);
      }
      await graph.idle();
      // A forged notification (wrong clientState) is rejected; its body is not logged.
      const forged = await originalFetch(`${webhookUrl}/webhooks/graph`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: [{ subscriptionId: graph.subscriptions(address)[0]?.id, clientState: 'forged-client-state-hygiene', changeType: 'created', resource: `Users/${address}/Messages/x`, tenantId: azureTenant }] }),
      });
      expect(forged.status).toBe(401);
      secret('forged-client-state-hygiene', 'forged clientState');
      expect(jobs.length).toBeGreaterThan(0);
      const syncHandler = makeGraphSyncHandler(sync, silentMetrics);
      for (const [i, job] of jobs.splice(0).entries()) {
        const response = await syncHandler({ Records: [sqsRecord(`graph-sync-${i}`, job.body, job.groupId)] }, context);
        expect(response.batchItemFailures).toEqual([]);
      }
      expect(await stack.deps.repo.listTickets(TENANT, 'm365a')).toHaveLength(2);
      expect(capture.lines.some((l) => l.includes('"graph notifications"'))).toBe(true);
      expect(capture.lines.some((l) => l.includes('"graph sync"'))).toBe(true);
      expect([...secrets.named.values()]).toContain('graph access token');
    } finally {
      globalThis.fetch = originalFetch;
      await new Promise<void>((resolve) => webhook.close(() => resolve()));
      await graph.stop();
      await identity.stop();
    }
  });

  it('the consent Lambda: an invite opened and consumed, a session used', async () => {
    const consent = localConsentSite(stack, {
      baseUrl: BASE,
      retention: { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock: stack.deps.clock },
      providers: { google: { authorization: new GoogleOAuthAuthorization({ clientId: 'client-1', clientSecret: CLIENT.clientSecret }), origin: 'https://accounts.google.com', lifecycle: { ...stack.deps, directory: stack.directory, gmail: new GoogleGmailConnector(CLIENT), metrics: new CountingMetrics(), settings: { topicName: 'projects/p/topics/gmail' } } } },
      report: consoleReporter.warn,
    });
    const handle = handleConsent(consent);
    await createTenant({ store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids }, 'Hygiene AB', TENANT);
    const { url } = await createInvite({ store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids, signingKey: stack.consent.signingKey, baseUrl: BASE }, TENANT);
    const invite = new URL(url).searchParams.get('invite') as string;
    secret(invite, 'invite token');
    secret(invite.split('.').at(-1), 'invite signature');
    const landing = await handle(consentEvent('GET', '/connect', { query: { invite } }));
    expect(landing.statusCode).toBe(200);
    const pre = (landing.cookies ?? []).find((c) => c.startsWith('m2t_pre='))?.split(';')[0] as string;
    const csrf = /name="csrf" value="([^"]+)"/.exec(String(landing.body))?.[1] as string;
    secret(pre.slice('m2t_pre='.length), 'pre-session cookie');
    secret(csrf, 'csrf token');
    const started = await handle(consentEvent('POST', '/connect/start', { cookies: [pre], form: { invite, csrf, provider: 'google' } }));
    expect(started.statusCode).toBe(303);
    const session = (started.cookies ?? []).find((c) => c.startsWith('m2t_session='))?.split(';')[0] as string;
    secret(session.slice('m2t_session='.length), 'admin session cookie');
    secret(new URL(String(started.headers?.location)).searchParams.get('state'), 'oauth state');
    const status = await handle(consentEvent('GET', '/connect/status', { cookies: [session] }));
    expect(status.statusCode).toBe(200);
    // A disconnect of the Gmail mailbox: its address is on the page, never in the logs.
    const statusCsrf = /name="csrf" value="([^"]+)"/.exec(String(status.body))?.[1] as string;
    secret(statusCsrf, 'session csrf token');
    const disconnect = await handle(consentEvent('POST', '/connect/disconnect', { cookies: [session], form: { csrf: statusCsrf, mailbox: 'gmail1' } }));
    expect(disconnect.statusCode).toBe(303);
    expect(capture.lines.filter((l) => l.includes('"consent request"')).length).toBeGreaterThanOrEqual(4);
  });

  it('the data-subject commands of the CLI', async () => {
    const requester = 'nora.lind@customer.example';
    const raw = await readFile(join(ROOT, 'tests/fixtures/mail', 'attach-clean.eml'));
    expect(String(raw)).toContain(requester);
    const ref = ['--tenant', TENANT, '--request-ref', 'DSR-HYGIENE'];
    expect(await requestersCommand(stack, ['export', requester, ...ref, '--out', join(dataDir, 'export.zip')])).toBe(0);
    expect(await requestersCommand(stack, ['export', requester, ...ref, '--out', join(dataDir, 'export2.zip'), '--json'])).toBe(0);
    expect(await requestersCommand(stack, ['restrict', requester, ...ref])).toBe(0);
    expect(await requestersCommand(stack, ['unrestrict', requester, ...ref])).toBe(0);
    expect(await requestersCommand(stack, ['rectify', requester, ...ref, '--name', 'Nora Renamed-Hygiene', '--new-email', 'nora.renamed@customer.example'])).toBe(0);
    secret('Nora Renamed-Hygiene', 'rectified name');
    secret('nora.renamed@customer.example', 'rectified address');
    expect(await requestersCommand(stack, ['erase', 'nora.renamed@customer.example', ...ref, '--json'])).toBe(0);
    expect(capture.lines.some((l) => l.startsWith('erased:') || l.includes('"deleted"'))).toBe(true);
  });

  it('no captured line holds a subject, address, body, filename, token, cookie or key', async () => {
    for (const dir of [join(dataDir, 'keys'), join(dataDir, 'consent')]) {
      for (const name of await readdir(dir, { recursive: true })) {
        const bytes = await readFile(join(dir, name)).catch(() => null);
        if (!bytes || bytes.length < 16) continue;
        secret(bytes.toString('base64'), `key file ${name} (base64)`);
        secret(bytes.toString('base64url'), `key file ${name} (base64url)`);
        secret(bytes.toString('hex'), `key file ${name} (hex)`);
        secret(bytes.subarray(0, 12).toString('hex'), `key file ${name} (hex prefix)`);
      }
    }
    expect([...secrets.named.values()].filter((w) => w.startsWith('key file')).length).toBeGreaterThan(0);
    expect([...secrets.named.values()].filter((w) => w.includes('subject')).length).toBeGreaterThanOrEqual(FIXTURES.length - 1);
    expect(capture.lines.length).toBeGreaterThan(10);
    expect(secrets.leaksIn(capture)).toEqual([]);
  });
});
