// Provider faults, end to end: the composition of npm start (bench/reliability-queues.ts — the fake
// Gmail pushing through Pub/Sub-signed posts and the fake Graph with its change notifications, both to
// the real webhooks; the FIFO sync queues with their DLQs on fauxqs; the sync handlers on pollers;
// tickets on dynalite and s3rver), with the real connectors (@googleapis/gmail + google-auth-library,
// @microsoft/microsoft-graph-client + msal-node) unchanged against the fakes, which inject the faults in
// their providers' wire format.
//
// For Gmail and Graph alike, a mailbox receives N messages while the provider answers its message
// downloads with 429 (with and without Retry-After), 500/503 bursts, connections reset before the
// answer, lost right after the headers or in the middle of the body (Content-Length promising more than
// arrives), and answers slower than the client's timeout. Every message becomes exactly one ticket whose
// text is the whole message; no job is dead-lettered; no request reaches the provider before its
// Retry-After has passed (read from the fake's request log). Expired history / delta tokens fall back to
// a bounded full sync. A revoked grant or consent is one token request, then the mailbox is
// `reauthorization_required` with its metric, and nothing retries. A refresh token Google rotates is
// stored, sealed, and used from then on, and never logged.
//
// Already covered per connector in tests/integration (not repeated here): gmail-connector.test.ts —
// 429 with Retry-After on message fetches, expired history, invalid_grant, a 503 deferral through the
// queue; graph-connector.test.ts — a 429 storm under the 4-per-mailbox limit, an expired delta token,
// consent revoked (at most two token errors).
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReliabilityWorld, type ReliabilityMailbox, type ReliabilityWorld } from '../../bench/reliability-queues.js';
import type { Fault as GmailFault } from '../../shared/sandbox/fake-gmail.js';
import type { Fault as GraphFault } from '../../shared/sandbox/fake-graph.js';
import { captureLogs } from './log-capture.js';
import { faultReader, providerRequests, retryAfterViolations, type FaultReader, type SeenRequest } from './provider-faults-support.js';

const N = 8;
/** The connectors' per-request timeout in this world; the slow answers below come later than this. */
const CLIENT_TIMEOUT_MS = 1_500;
const SLOW_MS = 3_000;
const RETRY_AFTER_SECONDS = 2;
const PROVIDERS = ['gmail', 'graph'] as const;
type Provider = (typeof PROVIDERS)[number];
type Fault = GmailFault | GraphFault;

let world: ReliabilityWorld;
let read: FaultReader;

beforeAll(async () => {
  // 10 receives: the faults below never bring a job near the DLQ, so "not dead-lettered" is the
  // product's doing (deferral, inline retry), not luck of the count. Throttled jobs come back when the
  // provider said (a visibility change); the 6 s visibility outlasts a sync that waits out timeouts.
  world = await startReliabilityWorld({ visibilityTimeoutSeconds: 6, maxReceiveCount: 10, providerTimeoutMs: CLIENT_TIMEOUT_MS });
  read = faultReader(world);
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

/** A new conversation whose last line marks the end of the message: a ticket from half of it lacks it. */
function longMail(to: string, id: string): Buffer {
  return Buffer.from(
    [
      `From: Customer <customer-${id}@customer.example>`,
      `To: ${to}`,
      `Subject: question ${id}`,
      `Message-ID: <${id}@customer.example>`,
      'Date: Tue, 01 Dec 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `body of ${id}`,
      ...Array.from({ length: 30 }, (_, i) => `line ${i} of a message long enough to be cut in the middle of its body`),
      `end of ${id}`,
      '',
    ].join('\r\n'),
  );
}

/** The fake's fault rule for this mailbox's message downloads (Gmail: messages.get raw; Graph: $value). */
function injectDownloadFaults(mailbox: ReliabilityMailbox, faults: Fault[]): void {
  if (mailbox.provider === 'gmail') world.gmail.fake.injectFaults({ method: 'GET', pathIncludes: '/messages/' }, faults as GmailFault[]);
  else world.graph.fake.injectFaults({ method: 'GET', pathIncludes: '/$value', user: mailbox.address }, faults as GraphFault[]);
}

const isDownload = (provider: Provider) => (r: SeenRequest) =>
  r.method === 'GET' && (provider === 'gmail' ? /\/messages\/[^/]+$/.test(r.path) && r.query.get('format') === 'raw' : r.path.endsWith('/$value'));

function side(provider: Provider) {
  return provider === 'gmail' ? world.gmail : world.graph;
}

interface ScenarioRun {
  mailbox: ReliabilityMailbox;
  requests: SeenRequest[];
  downloads: SeenRequest[];
  throttledMetric: number;
}

/**
 * A fresh mailbox, the faults armed on its downloads, N messages delivered; once the queues are drained,
 * the end state every recoverable fault must leave: each message exactly one ticket holding the whole
 * message, nothing dead-lettered or left queued, the mailbox connected.
 */
async function recovers(provider: Provider, name: string, faults: Fault[]): Promise<ScenarioRun> {
  const mailbox = await world.addMailbox(provider, name);
  const metric = `${provider}.throttled`;
  const throttledBefore = side(provider).metrics.get(metric);
  const since = Date.now();
  injectDownloadFaults(mailbox, faults);
  const ids = Array.from({ length: N }, (_, i) => `${provider}-${name}-${i}`);
  for (const id of ids) world.deliver(mailbox, longMail(mailbox.address, id));
  await world.drain(45_000);

  const views = await read.tickets(mailbox);
  expect(views.map((v) => v.subject).sort(), `${provider}: one ticket per message`).toEqual(ids.map((id) => `question ${id}`).sort());
  for (const view of views) {
    expect(view.messages, `${provider}: ${view.subject}`).toHaveLength(1);
    const [message] = view.messages;
    const id = view.subject.replace('question ', '');
    // The whole message, not the half a cut connection delivered.
    expect(message!.text, `${provider}: ${view.subject}`).toContain(`end of ${id}`);
    expect(message!.notices.map((n) => n.code), `${provider}: ${view.subject}`).toEqual([]);
  }
  expect(await world.objects(mailbox), `${provider}: raw messages stored once`).toEqual({ raw: N, att: 0 });
  expect(await read.depth(side(provider).dlqUrl), `${provider}: dead-lettered`).toBe(0);
  expect(await read.depth(side(provider).queueUrl), `${provider}: still queued`).toBe(0);
  expect((await read.mailbox(mailbox))?.status).toBe('connected');
  const requests = providerRequests(world, mailbox, since);
  return { mailbox, requests, downloads: requests.filter(isDownload(provider)), throttledMetric: side(provider).metrics.get(metric) - throttledBefore };
}

/** Gmail's scenarios share one request log: they run one at a time, beside Graph's. */
async function bothProviders(run: (provider: Provider) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(PROVIDERS.map(run));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${PROVIDERS[i]}: ${String(r.reason instanceof Error ? r.reason.stack : r.reason)}`] : []));
  if (failed.length > 0) throw new Error(failed.join('\n\n'));
}

describe('recoverable provider faults on message downloads: every message is exactly one whole ticket, nothing dead-lettered', () => {
  it(`finding: Graph's Retry-After on a throttled message download was lost (the SDK drops a failed stream answer's headers) — 429 with Retry-After: no request reaches either provider before Retry-After (${RETRY_AFTER_SECONDS} s) has passed, by the fake's own log`, async () => {
    await bothProviders(async (provider) => {
      const run = await recovers(provider, 'ra429', Array.from({ length: 3 }, () => ({ status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS })));
      expect(run.requests.filter((r) => r.status === 429)).toHaveLength(3);
      expect(retryAfterViolations(run.requests, RETRY_AFTER_SECONDS), provider).toEqual([]);
      // Each 429 reached the sync as a throttle: the job was deferred through the queue (not failed).
      expect(run.throttledMetric).toBeGreaterThanOrEqual(1);
    });
  }, 40_000);

  it('429 without Retry-After: retried with backoff, then deferred', async () => {
    await bothProviders(async (provider) => {
      const run = await recovers(provider, 'bare429', Array.from({ length: 4 }, () => ({ status: 429 })));
      const throttled = run.requests.filter((r) => r.status === 429);
      expect(throttled).toHaveLength(4);
      // Backoff, not a hot loop: a throttled download is tried again no sooner than the policy's
      // shortest delay (half its 50 ms base, for full jitter).
      const again = throttled.map((r) => run.downloads.find((later) => later.path === r.path && later.at > r.at));
      expect(again.every((r) => r !== undefined)).toBe(true);
      expect(again.map((r, i) => r!.at - throttled[i]!.at).filter((gap) => gap < 25), provider).toEqual([]);
    });
  }, 40_000);

  it('500 and 503 bursts: every message arrives', async () => {
    await bothProviders(async (provider) => {
      const burst = [500, 503, 503, 500, 503, 500].map((status) => ({ status }));
      const run = await recovers(provider, 'burst5xx', burst);
      expect(run.requests.filter((r) => r.status === 500 || r.status === 503)).toHaveLength(burst.length);
    });
  }, 40_000);

  it('connections reset before the answer', async () => {
    await bothProviders(async (provider) => {
      const run = await recovers(provider, 'reset', [{ resetConnection: true }, { resetConnection: true }]);
      // Two downloads never answered, each fetched again.
      expect(run.downloads.filter((r) => r.status === undefined)).toHaveLength(2);
    });
  }, 40_000);

  it('finding: a connection lost mid-download crashed the worker (uncaught stream errors) and held the mailbox back 60 s — lost right after the headers or mid-body (Content-Length promising more): no ticket from half a message, the download is retried at once to the whole message', async () => {
    await bothProviders(async (provider) => {
      const run = await recovers(provider, 'cut', [{ cutBodyAfterBytes: 0 }, { cutBodyAfterBytes: 700 }, { cutBodyAfterBytes: 1_500 }]);
      // Answered 200 and cut: the three cut downloads, then every message whole.
      expect(run.downloads.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(N + 3);
    });
  }, 40_000);

  it(`finding: Graph requests had no timeout — answers slower than the client timeout (${CLIENT_TIMEOUT_MS} ms): abandoned at the timeout and fetched again`, async () => {
    await bothProviders(async (provider) => {
      const run = await recovers(provider, 'slow', [{ delayMs: SLOW_MS }, { delayMs: SLOW_MS }]);
      const downloads = run.downloads;
      // The faults went to the first two downloads after they were armed.
      for (const slow of downloads.slice(0, 2)) {
        const again = downloads.find((later) => later.path === slow.path && later.at > slow.at)!;
        // Not before the client's timeout, and without waiting for the late answer.
        expect(again.at - slow.at).toBeGreaterThanOrEqual(CLIENT_TIMEOUT_MS - 50);
        expect(again.at - slow.at).toBeLessThan(SLOW_MS);
      }
    });
  }, 40_000);
});

describe('expired cursors', () => {
  it('Gmail history expired (404 on history.list) and Graph delta token expired (410 syncStateNotFound): one bounded full sync, every message one ticket', async () => {
    await bothProviders(async (provider) => {
      const mailbox = await world.addMailbox(provider, 'expired');
      // A first message and its sync: the cursor that is about to expire is stored.
      world.deliver(mailbox, longMail(mailbox.address, `${provider}-expired-first`));
      await world.drain(20_000);
      expect((await read.mailbox(mailbox))?.connection?.cursor).toEqual(expect.any(String));
      const { metrics } = side(provider);
      const metric = provider === 'gmail' ? 'gmail.full_sync' : 'graph.delta_expired';
      const before = metrics.get(metric);
      const since = Date.now();
      const ids = Array.from({ length: N }, (_, i) => `${provider}-expired-${i}`);
      // Delivered and expired in one go: no sync runs in between (the notifications are still on their way).
      for (const id of ids) world.deliver(mailbox, longMail(mailbox.address, id));
      if (provider === 'gmail') world.gmail.fake.expireHistory(mailbox.address);
      else world.graph.fake.expireDeltaTokens(mailbox.address);
      ids.unshift(`${provider}-expired-first`);
      await world.drain(45_000);

      expect((await read.tickets(mailbox)).map((v) => v.subject).sort()).toEqual(ids.map((id) => `question ${id}`).sort());
      expect(metrics.get(metric) - before).toBe(1);
      const record = await read.mailbox(mailbox);
      expect(record?.status).toBe('connected');
      expect(record?.connection?.lastIssue?.code).toBe(provider === 'gmail' ? 'history_expired' : 'delta_expired');
      const requests = providerRequests(world, mailbox, since);
      if (provider === 'gmail') {
        expect(requests.some((r) => r.path.endsWith('/history') && r.status === 404)).toBe(true);
        // Bounded: the full sync lists the last fullSyncDays only.
        expect(requests.filter((r) => r.path.endsWith('/messages')).map((r) => r.query.get('q'))).toEqual([expect.stringContaining('newer_than:7d')]);
      } else {
        expect(requests.some((r) => r.path.endsWith('/delta') && r.status === 410)).toBe(true);
        expect(requests.some((r) => r.path.endsWith('/delta') && (r.query.get('$filter') ?? '').startsWith('receivedDateTime ge '))).toBe(true);
      }
      expect(await read.depth(side(provider).dlqUrl)).toBe(0);
    });
  }, 40_000);
});

describe('unrecoverable: the grant is gone', () => {
  it('finding: a Graph consent revoked at the token endpoint read as a throttle, retried for ever — Gmail refresh token revoked (invalid_grant) and Graph consent revoked (invalid_client): exactly one token request, the mailbox reauthorization_required with its metric, no retry storm, nothing dead-lettered', async () => {
    await bothProviders(async (provider) => {
      let mailbox: ReliabilityMailbox;
      let tokenRequests: () => Array<{ outcome: string }>;
      if (provider === 'gmail') {
        mailbox = await world.addMailbox('gmail', 'revoked');
        const from = world.gmail.fake.refreshUses.length;
        tokenRequests = () => world.gmail.fake.refreshUses.slice(from).filter((u) => u.email === mailbox.address.toLowerCase());
        world.gmail.fake.revokeRefreshToken(mailbox.address);
      } else {
        // A customer tenant of its own whose tokens msal may not reuse: the sync's first request asks
        // the token endpoint, which is where a revoked consent shows (AADSTS7000229 invalid_client).
        const tenant = randomUUID();
        world.graph.identity.grantConsent(tenant);
        world.graph.identity.setTokenLifetime(tenant, 120);
        mailbox = await world.addMailbox('graph', 'revoked', { azureTenantId: tenant });
        const from = world.graph.identity.tokenRequests.length;
        tokenRequests = () => world.graph.identity.tokenRequests.slice(from).filter((r) => r.tenant === tenant);
        world.graph.identity.revokeConsent(tenant);
      }
      const { metrics } = side(provider);
      const metric = `${provider}.reauthorization_required`;
      const before = metrics.get(metric);
      const since = Date.now();
      for (let i = 0; i < N; i++) world.deliver(mailbox, longMail(mailbox.address, `${provider}-revoked-${i}`));
      await world.drain(45_000);

      expect(tokenRequests().map((r) => r.outcome), provider).toEqual([provider === 'gmail' ? 'invalid_grant' : 'invalid_client']);
      const record = await read.mailbox(mailbox);
      expect(record?.status).toBe('reauthorization_required');
      expect(record?.connection?.lastIssue?.code).toBe(provider === 'gmail' ? 'invalid_grant' : 'auth_failed');
      expect(metrics.get(metric) - before).toBe(1);
      // No retry storm: at most the one API call whose 401 led to the refresh (Gmail), none for Graph.
      expect(providerRequests(world, mailbox, since).length, provider).toBeLessThanOrEqual(provider === 'gmail' ? 1 : 0);
      expect(await read.tickets(mailbox)).toEqual([]);
      expect(await read.depth(side(provider).dlqUrl)).toBe(0);
      expect(await read.depth(side(provider).queueUrl)).toBe(0);
    });
  }, 40_000);
});

describe('OAuth: rotated refresh tokens', () => {
  it('finding: a refresh token Google rotates is stored, sealed, on the mailbox and used from then on (the old one never again), and never logged', async () => {
    const fake = world.gmail.fake;
    const mailbox = await world.addMailbox('gmail', 'rotation');
    const original = (await read.credentials(mailbox)).refreshToken!;
    const digest = (token: string) => createHash('sha256').update(token).digest('hex');
    const from = fake.refreshUses.length;
    const uses = () => fake.refreshUses.slice(from).filter((u) => u.email === mailbox.address.toLowerCase());
    const logs = captureLogs();
    let stored: string[];
    try {
      // Every refresh answers a new refresh token and retires the one presented (RFC 6749 §6). The
      // access token the connector holds stops working, so the next sync refreshes.
      fake.rotateRefreshTokens(mailbox.address);
      fake.expireAccessTokens(mailbox.address);
      world.deliver(mailbox, longMail(mailbox.address, 'rotation-0'));
      await world.drain(30_000);
      const first = (await read.credentials(mailbox)).refreshToken!;
      // A second sync, from what is stored (the connector keeps no client for a retired token).
      world.deliver(mailbox, longMail(mailbox.address, 'rotation-1'));
      await world.drain(30_000);
      const second = (await read.credentials(mailbox)).refreshToken!;
      stored = [original, first, second];
    } finally {
      fake.rotateRefreshTokens(mailbox.address, false);
      logs.stop();
    }

    expect(stored[1]).not.toBe(stored[0]);
    expect(stored[2]).not.toBe(stored[1]);
    // Each refresh presented the token stored last, each token once; none was refused.
    const presented = uses().map((u) => u.refreshTokenSha256);
    expect(uses().map((u) => u.outcome)).toEqual(presented.map(() => 'rotated'));
    expect(presented.slice(0, 2)).toEqual([digest(stored[0]!), digest(stored[1]!)]);
    expect(new Set(presented).size).toBe(presented.length);
    expect((await read.mailbox(mailbox))?.status).toBe('connected');
    expect((await read.tickets(mailbox)).map((v) => v.subject).sort()).toEqual(['question rotation-0', 'question rotation-1']);
    // Never logged, in any form: neither these tokens nor anything shaped like a Google refresh token.
    for (const token of stored) expect(logs.leaksOf(token)).toEqual([]);
    expect(logs.lines.filter((line) => line.includes('1//0'))).toEqual([]);
    expect(logs.lines.length).toBeGreaterThan(0);
  }, 40_000);
});
