// The Graph delta loop's crash points, as crash-points.test.ts has them for the Gmail loop (and with its
// machinery, crash-support.ts): a sync of three new messages through the real MicrosoftGraphConnector
// (msal-node, @microsoft/microsoft-graph-client) against the fake Graph and identity platform, the
// worker made to throw, or to die outright, after every port call it makes (the delta read, each MIME
// download, each ingestion step, the cursor advance) and before the cursor advance; then rerun, and
// every message is exactly one ticket with its attachments, the delta cursor caught up (a further sync
// finds nothing), and after the orphan sweep nothing is left unreferenced.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicrosoftGraphConnector } from '../../shared/adapters/graph/microsoft-graph-connector.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import type { SyncJob } from '../../shared/domain/connectors/sync-job.js';
import { connectGraphMailbox } from '../../shared/domain/graph/lifecycle.js';
import { DEFAULT_GRAPH_SETTINGS, type GraphMailbox, type GraphSettings } from '../../shared/domain/graph/ports.js';
import { syncGraphMailbox, type GraphSyncDeps } from '../../shared/domain/graph/sync.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import type { MailboxDirectory } from '../../shared/domain/ports.js';
import { FakeGraph } from '../../shared/sandbox/fake-graph.js';
import { CaTrustingNetworkModule, FakeIdentity, trustCaInProcess } from '../../shared/sandbox/fake-identity.js';
import {
  crashMail,
  expectedSync,
  FaultInjector,
  ingestDeps,
  memoryReferences,
  memoryWorld,
  outcomeAfterRerun,
  pastTheGrace,
  runUntilCrash,
  type CrashMode,
  type MemoryWorld,
  type PointOutcome,
} from './crash-support.js';

const TENANT = 'crash';
const MESSAGES = [
  { id: 'graph-sync-1', attachments: 1 },
  { id: 'graph-sync-2', attachments: 0 },
  { id: 'graph-sync-3', attachments: 2 },
];
const AZURE_TENANT = randomUUID();
const CLIENT = { clientId: randomUUID(), clientSecret: randomBytes(24).toString('base64url') };

let identity: FakeIdentity;
let graph: FakeGraph;
let webhook: Server;
let connector: MicrosoftGraphConnector;
let settings: GraphSettings;
let mailboxes = 0;

/** One mailbox, one address: the directory is only needed to connect. */
const directory: MailboxDirectory = {
  claimAddress: async (_provider, _index, owner) => owner,
  findAddress: async () => undefined,
  releaseAddress: async () => undefined,
  listConnected: async () => [],
};

beforeAll(async () => {
  identity = new FakeIdentity();
  await identity.start();
  identity.registerApp({ ...CLIENT, tenants: [AZURE_TENANT] });
  identity.grantConsent(AZURE_TENANT, CLIENT.clientId);
  trustCaInProcess(identity.caCertPem);
  graph = new FakeGraph({ identity, tenantId: AZURE_TENANT });
  await graph.start();
  // Graph validates the webhook URLs when subscribing and posts notifications to them: echo and accept.
  webhook = createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    req.resume();
    req.on('end', () => (token === null ? res.writeHead(202).end() : res.writeHead(200, { 'content-type': 'text/plain' }).end(token)));
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
  settings = { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: `${base}/webhooks/graph`, lifecycleNotificationUrl: `${base}/webhooks/graph/lifecycle` };
  connector = new MicrosoftGraphConnector({
    clientId: CLIENT.clientId,
    credential: { clientSecret: CLIENT.clientSecret },
    graphBaseUrl: graph.origin,
    authorityHost: identity.url,
    authorityMetadata: (tenant) => identity.authorityMetadata(tenant),
    cloudDiscoveryMetadata: identity.cloudDiscoveryMetadata(AZURE_TENANT),
    networkClient: new CaTrustingNetworkModule(identity.caCertPem),
    timeoutMs: 5_000,
  });
}, 60_000);

afterAll(async () => {
  await graph?.stop();
  await identity?.stop();
  if (webhook) await new Promise<void>((resolve) => webhook.close(() => resolve()));
  expect(graph.errors).toEqual([]);
});

interface GraphCrashWorld extends MemoryWorld {
  scope: { tenantId: string; mailboxId: string };
}

/** A fresh store and a fresh fake mailbox holding the three messages, connected (subscribed, delta primed). */
async function graphWorld(): Promise<GraphCrashWorld> {
  const n = ++mailboxes;
  const address = `support-${n}@crash.example`;
  graph.addMailbox(address, { displayName: `crash ${n}`, tenantId: AZURE_TENANT });
  const world = { ...memoryWorld(), scope: { tenantId: TENANT, mailboxId: `m365-${n}` } };
  await connectGraphMailbox(
    // Subscriptions are dated by the real clock: the fake Graph checks their expiry against it.
    { repo: world.repo, directory, keys: world.keys, graph: connector, clock: { now: () => new Date() }, ids: world.ids, metrics: new CountingMetrics(), settings },
    world.scope,
    { azureTenantId: AZURE_TENANT, address },
  );
  for (const m of MESSAGES) graph.deliver(address, crashMail(m.id, { attachments: m.attachments, bigBody: false }));
  await graph.idle();
  return world;
}

function syncDeps(world: GraphCrashWorld, injector?: FaultInjector): GraphSyncDeps {
  const api = injector ? injector.wrap('graph', { open: (mailbox: GraphMailbox) => injector.wrap('graph', connector.open(mailbox)) }) : connector;
  return {
    ...ingestDeps(world, injector),
    graph: api,
    directory,
    metrics: new CountingMetrics(),
    settings,
    backoff: { attempts: 1, baseMs: 1, capMs: 1, maxInlineWaitMs: 0 },
    sleep: async () => undefined,
  };
}

const job = (world: GraphCrashWorld): SyncJob => ({ ...world.scope, reason: 'push' });

async function recordGraphSync(): Promise<string[]> {
  const world = await graphWorld();
  const spy = new FaultInjector();
  const report = await syncGraphMailbox(syncDeps(world, spy), job(world));
  expect(report).toMatchObject({ outcome: 'synced', ingested: MESSAGES.length });
  return spy.calls;
}

async function crashGraphSyncAt(index: number, when: 'after' | 'before', mode: CrashMode): Promise<PointOutcome> {
  const world = await graphWorld();
  const injector = new FaultInjector({ index, when, mode });
  await runUntilCrash(injector, () => syncGraphMailbox(syncDeps(world, injector), job(world)));
  const point = injector.fired ?? `${when} #${index} (not reached)`;
  const problems: string[] = [];
  world.clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
  try {
    const rerun = await syncGraphMailbox(syncDeps(world), job(world));
    if (rerun.outcome !== 'synced') problems.push(`rerun ${rerun.outcome}`);
    // The cursor caught up: one more round finds nothing to ingest.
    const again = await syncGraphMailbox(syncDeps(world), job(world));
    if (again.ingested !== 0) problems.push(`a further sync ingested ${again.ingested}: the delta cursor was left behind`);
  } catch (error) {
    problems.push(`rerun failed: ${String(error)}`);
  }
  return outcomeAfterRerun(
    { scenario: 'graph sync of three messages', mode, point },
    { repo: world.repo, blobs: world.blobs, keys: world.keys, retention: memoryReferences(world.repo), sweepClock: pastTheGrace(world.clock.now()) },
    world.scope,
    expectedSync(MESSAGES),
    problems,
  );
}

describe('Graph sync loop crash points (fake Graph through msal-node and the Graph client)', () => {
  it('after the delta read, each download, each ingestion step, and before/after the cursor advance, thrown or killed: every message exactly once, cursor caught up, nothing unreferenced after the sweep', async () => {
    const calls = await recordGraphSync();
    // The points the issue names are among them.
    expect(calls).toEqual(expect.arrayContaining(['graph.delta', 'graph.getMime', 'blobs.put', 'scanner.scan', 'repo.claim', 'repo.writeIngested', 'repo.updateConnection']));
    expect(calls.filter((c) => c === 'repo.updateConnection').length).toBeGreaterThan(0);
    const outcomes: PointOutcome[] = [];
    for (const mode of ['throw', 'kill'] as const) {
      for (let i = 0; i < calls.length; i++) {
        if (calls[i]?.startsWith('keys.')) continue; // pure computation: the same state as the next point
        outcomes.push(await crashGraphSyncAt(i, 'after', mode));
        if (calls[i] === 'repo.updateConnection') outcomes.push(await crashGraphSyncAt(i, 'before', mode));
      }
    }
    console.info(`graph sync crash points: ${outcomes.length} runs over ${calls.length} port calls`);
    expect(outcomes.filter((o) => o.point.endsWith('(not reached)')).map((o) => o.point)).toEqual([]);
    expect(outcomes.filter((o) => o.lost > 0 || o.duplicated > 0).map((o) => `${o.mode} ${o.point}: ${o.problems.join('; ')}`)).toEqual([]);
    expect(outcomes.flatMap((o) => o.problems.filter((p) => !p.startsWith('orphan object')).map((p) => `${o.mode} ${o.point}: ${p}`))).toEqual([]);
    // Orphans only from a kill (between a message's raw store and its claim), and none after the sweep.
    for (const o of outcomes.filter((x) => x.orphans > 0)) expect(o.mode, o.point).toBe('kill');
    expect(outcomes.reduce((n, o) => n + o.orphans, 0)).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.orphansAfterSweep > 0).map((o) => `${o.mode} ${o.point}`)).toEqual([]);
  }, 240_000);
});
