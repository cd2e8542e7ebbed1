// Crash points for ingestMessage and the Gmail sync loop, injected through the ports (never through
// the domain): decorators count every asynchronous port call, a spying run records the sequence, and
// the matrix crashes a fresh run after (or before) each call in turn, then reruns the same work with
// clean adapters over the same storage and checks the result: every message exactly once, its raw,
// body and attachments stored once and referenced. Then the orphan sweep runs as the daily sweeper
// would a grace period later, and the store is checked again: nothing left under the mailbox prefix
// unreferenced, nothing referenced gone. Shared by tests/reliability/crash-points.test.ts and bench/reliability-crash.ts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { makeHandler as makeGmailSyncHandler, type GmailSyncHandlerDeps } from '../../functions/gmail-sync/make-handler.js';
import { SqsJobDeferral, SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { quietPowertoolsMetrics } from '../../shared/local/connector-runtime.js';
import { queuedSyncJob } from '../../shared/domain/connectors/sync-job.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { ulidIds } from '../../shared/adapters/system/system.js';
import { ensureTable, startDynalite } from '../../shared/local/dynalite.js';
import { S3RVER_CREDENTIALS, startS3rver } from '../../shared/local/s3rver.js';
import { GoogleGmailConnector, type GoogleGmailOptions } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import type { SyncJob } from '../../shared/domain/connectors/sync-job.js';
import { connectGmailMailbox } from '../../shared/domain/gmail/lifecycle.js';
import { DEFAULT_GMAIL_SETTINGS } from '../../shared/domain/gmail/ports.js';
import { syncGmailMailbox, type GmailSyncDeps } from '../../shared/domain/gmail/sync.js';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import type { ProviderCredentials } from '../../shared/domain/model.js';
import { ORPHAN_GRACE_HOURS, sweepOrphanObjects, type OrphanSweepDeps } from '../../shared/domain/orphans.js';
import type { BlobStore, Clock, KeyService, MailboxDirectory, RetentionRepository, TicketRepository } from '../../shared/domain/ports.js';
import { FakeGmail } from '../../shared/sandbox/fake-gmail.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository, SequentialIds } from '../support/memory.js';

/** What the injected fault throws: the worker "dies" here. */
export class InjectedCrash extends Error {
  constructor(readonly point: string) {
    super(`injected crash ${point}`);
  }
}

/**
 * `throw`: the fault point throws and the product's own error paths run (a Lambda error).
 * `kill`: the worker stops dead at the point: every later port call fails without effect, and the
 * run is abandoned (in a child process, `onKill` SIGKILLs it for real).
 */
export type CrashMode = 'throw' | 'kill';

export interface CrashPlan {
  /** Index into the recorded call sequence. */
  index: number;
  when: 'after' | 'before';
  mode: CrashMode;
  /** Called at the point in kill mode instead of emulating the death (the SIGKILL child). */
  onKill?: () => void;
}

/** Counts asynchronous port calls across every decorated port; crashes at the planned one. */
export class FaultInjector {
  readonly calls: string[] = [];
  fired: string | null = null;
  private dead = false;
  private fire!: () => void;
  /** Resolves when the worker "died" (kill mode): the run is abandoned then. */
  readonly died: Promise<void> = new Promise((resolve) => (this.fire = resolve));

  constructor(readonly plan: CrashPlan | null = null) {}

  wrap<T extends object>(port: string, target: T): T {
    return new Proxy(target, {
      get: (obj, prop, receiver) => {
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (typeof value !== 'function' || prop === 'constructor' || typeof prop !== 'string') return value;
        const method = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => this.call(`${port}.${prop}`, () => method.apply(obj, args));
      },
    });
  }

  private call(label: string, invoke: () => unknown): unknown {
    if (this.dead) return SYNC_HELPERS.has(label.slice(label.indexOf('.') + 1)) ? invoke() : handled(Promise.reject(new InjectedCrash(`(dead) ${label}`)));
    const index = this.calls.length;
    const planned = this.plan?.index === index;
    if (planned && this.plan?.when === 'before') {
      this.calls.push(label);
      return handled(Promise.reject(this.crash(`before #${index} ${label}`)));
    }
    const result = invoke();
    if (!(result instanceof Promise)) return result; // sync helpers (encryptStream, open): not a step
    this.calls.push(label);
    if (!planned) return result;
    return handled(
      result.then(() => {
        throw this.crash(`after #${index} ${label}`);
      }),
    );
  }

  private crash(point: string): InjectedCrash {
    this.fired = point;
    if (this.plan?.mode === 'kill') {
      this.plan.onKill?.();
      this.dead = true;
      this.fire();
    }
    return new InjectedCrash(point);
  }
}

/** Port methods that only build a stream or a client: no effect outside the process, not steps. */
const SYNC_HELPERS = new Set(['encryptStream', 'decryptStream', 'open']);

/** Marks a promise handled (a dead worker's rejections are expected); the caller still sees it. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Runs `work` under the injector: resolves when it settles or (kill mode) when the worker died. */
export async function runUntilCrash(injector: { died: Promise<void>; fired: string | null }, work: () => Promise<unknown>): Promise<{ error?: unknown }> {
  const running = work().then(
    () => ({}),
    (error: unknown) => ({ error }),
  );
  return Promise.race([running, injector.died.then(() => ({ error: new InjectedCrash(injector.fired ?? '?') }))]);
}

// ── the invariants, read through the ports only (so they hold on dynalite + s3rver too) ─────────

export interface StoreCheck {
  /** Distinct messages expected but absent. */
  lost: number;
  /** Extra message items for one message, extra tickets, attachment items beyond the message's own. */
  duplicated: number;
  /** Objects under the mailbox prefix that nothing references. */
  orphans: string[];
  /** Referenced objects that are missing. */
  dangling: string[];
  problems: string[];
}

export async function checkStore(
  repo: TicketRepository,
  blobs: BlobStore,
  scope: { tenantId: string; mailboxId: string },
  expected: { messageIdIndexes: string[]; tickets: number; attachments?: Record<string, number>; suppressedRawKeys?: () => Promise<string[]> },
): Promise<StoreCheck> {
  const { tenantId, mailboxId } = scope;
  const problems: string[] = [];
  const referenced = new Set<string>();
  const seen = new Map<string, number>();
  let duplicated = 0;
  let lostAttachments = 0;
  const tickets = await repo.listTickets(tenantId, mailboxId);
  if (tickets.length !== expected.tickets) {
    problems.push(`${tickets.length} ticket(s), expected ${expected.tickets}`);
    duplicated += Math.max(0, tickets.length - expected.tickets);
  }
  for (const ticket of tickets) {
    const messages = await repo.listMessages(tenantId, ticket.ticketId);
    const attachments = await repo.listAttachments(tenantId, ticket.ticketId);
    if (messages.length === 0) problems.push(`ticket ${ticket.ticketId} has no message`);
    for (const message of messages) {
      seen.set(message.messageIdIndex, (seen.get(message.messageIdIndex) ?? 0) + 1);
      if (message.rawKey) referenced.add(message.rawKey);
      if (message.bodyKey) referenced.add(message.bodyKey);
      const wanted = expected.attachments?.[message.messageIdIndex];
      if (wanted !== undefined && message.attachmentIds.length !== wanted) {
        problems.push(`message ${message.messageId} kept ${message.attachmentIds.length} attachment(s) of ${wanted}`);
        lostAttachments++;
      }
      const own = attachments.filter((a) => a.messageId === message.messageId).map((a) => a.attachmentId).sort();
      const listed = [...message.attachmentIds].sort();
      if (JSON.stringify(own) !== JSON.stringify(listed)) {
        problems.push(`message ${message.messageId}: attachment items [${own.join(',')}] but the message lists [${listed.join(',')}]`);
        duplicated += Math.max(0, own.length - listed.length);
      }
    }
    const messageIds = new Set(messages.map((m) => m.messageId));
    for (const a of attachments) {
      if (!messageIds.has(a.messageId)) {
        problems.push(`attachment ${a.attachmentId} belongs to no message`);
        duplicated++;
        continue;
      }
      if (a.blobKey) referenced.add(a.blobKey);
    }
  }
  for (const key of (await expected.suppressedRawKeys?.()) ?? []) referenced.add(key);
  let lost = lostAttachments;
  for (const index of expected.messageIdIndexes) {
    const n = seen.get(index) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated += n - 1;
    if (n !== 1) problems.push(`message ${index.slice(0, 8)}… stored ${n} time(s)`);
  }
  for (const index of seen.keys()) if (!expected.messageIdIndexes.includes(index)) problems.push(`unexpected message ${index.slice(0, 8)}…`);

  const present = new Set<string>();
  for await (const { key } of blobs.list(mailboxPrefix(tenantId, mailboxId))) present.add(key);
  const orphans = [...present].filter((key) => !referenced.has(key));
  const dangling = [...referenced].filter((key) => !present.has(key));
  if (orphans.length) problems.push(`orphan object(s): ${orphans.join(', ')}`);
  if (dangling.length) problems.push(`missing object(s): ${dangling.join(', ')}`);
  return { lost, duplicated, orphans, dangling, problems };
}

// ── the orphan sweep, after the rerun ────────────────────────────────────────────────────────────

/** The sweep's clock: a grace period (plus an hour) after `now`, as the next daily run sees the store. */
export function pastTheGrace(now: Date): Clock {
  return { now: () => new Date(now.getTime() + (ORPHAN_GRACE_HOURS + 1) * 3600 * 1000) };
}

/** The sweep's reads over the in-memory repository: what its claims and its items name. */
export function memoryReferences(repo: MemoryRepository): Pick<RetentionRepository, 'listClaimedIngestions' | 'listObjectReferences'> {
  const inMailbox = (t: string, m: string) => (r: { tenantId: string; mailboxId: string }) => r.tenantId === t && r.mailboxId === m;
  return {
    listClaimedIngestions: async (t, m) => ({ ingestIds: [...repo.claims.values(), ...repo.providerIds.values()].filter(inMailbox(t, m)).map((c) => c.ingestId) }),
    listObjectReferences: async (t, m) => ({
      objectKeys: [
        ...[...repo.messages.values()].filter(inMailbox(t, m)).flatMap((x) => [x.rawKey, x.bodyKey]),
        ...[...repo.attachments.values()].filter(inMailbox(t, m)).map((a) => a.blobKey),
        ...[...repo.suppressed.values()].filter(inMailbox(t, m)).map((x) => x.rawKey),
      ].filter((key): key is string => typeof key === 'string'),
    }),
  };
}

export interface SweptCheck {
  /** Objects still unreferenced after the sweep (must be none). */
  orphansAfterSweep: number;
  /** Referenced objects the sweep deleted (must be none): each is a loss. */
  lostToSweep: number;
  problems: string[];
}

/** Runs the orphan sweep over one mailbox, then checks the store again against the check before it. */
export async function sweepAndRecheck(deps: OrphanSweepDeps, scope: { tenantId: string; mailboxId: string }, before: StoreCheck, recheck: () => Promise<StoreCheck>): Promise<SweptCheck> {
  const problems: string[] = [];
  try {
    await sweepOrphanObjects(deps, { scope });
  } catch (error) {
    problems.push(`the orphan sweep failed: ${String(error)}`);
  }
  const after = await recheck();
  const newlyMissing = after.dangling.filter((key) => !before.dangling.includes(key));
  if (after.orphans.length) problems.push(`after the orphan sweep, orphan object(s) left: ${after.orphans.join(', ')}`);
  if (newlyMissing.length) problems.push(`the orphan sweep deleted referenced object(s): ${newlyMissing.join(', ')}`);
  return { orphansAfterSweep: after.orphans.length, lostToSweep: newlyMissing.length, problems };
}

/** What a rerun must have left: each message once, found by its Message-ID's index, with its attachments. */
export interface ExpectedMail {
  /** Message-IDs without the `@customer.example` every crash scenario's mail uses. */
  messageIds: readonly string[];
  tickets: number;
  /** Attachments per Message-ID (same spelling as `messageIds`). */
  attachments: Readonly<Record<string, number>>;
  suppressedRawKeys?: () => Promise<string[]>;
}

/** A sync of these messages: each its own ticket. */
export function expectedSync(messages: ReadonlyArray<{ id: string; attachments: number }>): ExpectedMail {
  return { messageIds: messages.map((m) => m.id), tickets: messages.length, attachments: Object.fromEntries(messages.map((m) => [m.id, m.attachments])) };
}

export interface CheckedStores {
  repo: TicketRepository;
  blobs: BlobStore;
  keys: Pick<KeyService, 'blindIndex'>;
  retention: OrphanSweepDeps['retention'];
  /** When the sweep runs: a grace period after the clock the objects were stamped with (pastTheGrace). */
  sweepClock: Clock;
}

/**
 * One crash point's outcome: the store checked after the rerun, then again after the orphan sweep (a
 * referenced object the sweep deleted counts as lost). `problems` are the caller's own, listed first.
 */
export async function outcomeAfterRerun(
  label: Pick<PointOutcome, 'scenario' | 'mode' | 'point'>,
  stores: CheckedStores,
  scope: { tenantId: string; mailboxId: string },
  expected: ExpectedMail,
  problems: string[],
): Promise<PointOutcome> {
  const indexOf = (id: string) => stores.keys.blindIndex(scope.tenantId, 'message-id', `${id}@customer.example`);
  const attachments: Record<string, number> = {};
  for (const [id, n] of Object.entries(expected.attachments)) attachments[await indexOf(id)] = n;
  const messageIdIndexes = await Promise.all(expected.messageIds.map(indexOf));
  const recheck = () =>
    checkStore(stores.repo, stores.blobs, scope, {
      messageIdIndexes,
      tickets: expected.tickets,
      attachments,
      ...(expected.suppressedRawKeys ? { suppressedRawKeys: expected.suppressedRawKeys } : {}),
    });
  const check = await recheck();
  const swept = await sweepAndRecheck({ repo: stores.repo, retention: stores.retention, blobs: stores.blobs, clock: stores.sweepClock }, scope, check, recheck);
  return {
    ...label,
    lost: check.lost + swept.lostToSweep,
    duplicated: check.duplicated,
    orphans: check.orphans.length,
    orphansAfterSweep: swept.orphansAfterSweep,
    problems: [...problems, ...check.problems, ...swept.problems],
  };
}

// ── mail ─────────────────────────────────────────────────────────────────────────────────────────

export const TENANT = 'crash-t';
export const MAILBOX = 'crash-mb';

/** A message with a body over the inline limit (stored as an object) and two attachments. */
export function crashMail(id: string, options: { inReplyTo?: string; robot?: boolean; attachments?: number; bigBody?: boolean } = {}): Buffer {
  const headers = [
    'From: Alice <alice@customer.example>',
    'To: support@helpdesk.example',
    `Subject: ${options.inReplyTo ? 'Re: ' : ''}crash ${id}`,
    `Message-ID: <${id}@customer.example>`,
    ...(options.inReplyTo ? [`In-Reply-To: <${options.inReplyTo}@customer.example>`, `References: <${options.inReplyTo}@customer.example>`] : []),
    ...(options.robot ? ['Auto-Submitted: auto-replied'] : []),
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
  ];
  const body = options.bigBody === false ? `body of ${id}` : `body of ${id} `.repeat(1500); // ~20 KB: over the inline limit
  const attachments = options.attachments ?? 2;
  if (attachments === 0) return Buffer.from([...headers, 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n'));
  const parts = ['--b', 'Content-Type: text/plain; charset=utf-8', '', body];
  for (let i = 0; i < attachments; i++) {
    parts.push(
      '--b',
      'Content-Type: application/octet-stream',
      `Content-Disposition: attachment; filename="file-${id}-${i}.bin"`,
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(`attachment ${i} of ${id} `.repeat(40)).toString('base64').replace(/.{76}/g, '$&\r\n'),
    );
  }
  parts.push('--b--', '');
  return Buffer.from([...headers, 'Content-Type: multipart/mixed; boundary="b"', '', ...parts].join('\r\n'));
}

// ── the in-memory ingest matrix ──────────────────────────────────────────────────────────────────

/** The storage that survives a crash, and the adapters that don't. */
export interface MemoryWorld {
  repo: MemoryRepository;
  blobs: MemoryBlobStore;
  keys: MemoryKeyService;
  scanner: EicarScanner;
  clock: ManualClock;
  ids: SequentialIds;
}

export function memoryWorld(): MemoryWorld {
  return { repo: new MemoryRepository(), blobs: new MemoryBlobStore(), keys: new MemoryKeyService(), scanner: new EicarScanner(), clock: new ManualClock(), ids: new SequentialIds() };
}

export function ingestDeps(world: Omit<MemoryWorld, 'repo' | 'blobs'> & { repo: TicketRepository; blobs: BlobStore }, injector?: FaultInjector): IngestDeps {
  const w = <T extends object>(name: string, port: T): T => (injector ? injector.wrap(name, port) : port);
  return {
    repo: w('repo', world.repo),
    blobs: w('blobs', world.blobs),
    keys: w('keys', world.keys),
    scanner: w('scanner', world.scanner),
    clock: world.clock,
    ids: world.ids,
    limits: DEFAULT_LIMITS,
  };
}

export interface IngestScenario {
  name: string;
  /** Messages ingested cleanly before the one under test (e.g. the ticket a reply joins). */
  before: Buffer[];
  /** The message whose ingestion is crashed. */
  message: Buffer;
  providerMessageId?: string;
  /** Ticket and message counts after the rerun. */
  tickets: number;
  /** Message-ID headers that must be stored exactly once (a suppressed robot is not a message). */
  messageIds: string[];
  /** Attachments each stored message keeps, by Message-ID header. */
  attachments: Record<string, number>;
  suppressed?: boolean;
}

export const INGEST_SCENARIOS: IngestScenario[] = [
  { name: 'new ticket with body object and two attachments', before: [], message: crashMail('new-1'), providerMessageId: 'p-new-1', tickets: 1, messageIds: ['new-1'], attachments: { 'new-1': 2 } },
  {
    name: 'reply appended with one attachment',
    before: [crashMail('orig-1', { attachments: 0, bigBody: false })],
    message: crashMail('reply-1', { inReplyTo: 'orig-1', attachments: 1 }),
    tickets: 1,
    messageIds: ['orig-1', 'reply-1'],
    attachments: { 'orig-1': 0, 'reply-1': 1 },
  },
  { name: 'robot auto-reply suppressed', before: [], message: crashMail('robot-1', { robot: true, attachments: 1 }), providerMessageId: 'p-robot-1', tickets: 0, messageIds: [], attachments: {}, suppressed: true },
];

export interface PointOutcome {
  scenario: string;
  mode: CrashMode;
  point: string;
  lost: number;
  duplicated: number;
  /** Objects nothing references after the rerun (the pass the crash cut short left them). */
  orphans: number;
  /** The same after the orphan sweep ran a grace period later (must be 0). */
  orphansAfterSweep: number;
  problems: string[];
}

const SCOPE = { tenantId: TENANT, mailboxId: MAILBOX };

async function ingestOnce(deps: IngestDeps, world: MemoryWorld, raw: Buffer, providerMessageId?: string) {
  return ingestMessage(deps, Readable.from([raw]), { ...SCOPE, receivedAt: world.clock.now(), ...(providerMessageId ? { providerMessageId } : {}) });
}

async function freshWorld(scenario: IngestScenario): Promise<MemoryWorld> {
  const world = memoryWorld();
  await world.repo.putMailbox({ ...SCOPE, provider: 'local', status: 'connected', createdAt: world.clock.now().toISOString() });
  for (const raw of scenario.before) await ingestOnce(ingestDeps(world), world, raw);
  return world;
}

/** The port-call sequence of one clean ingestion of the scenario's message. */
export async function recordIngest(scenario: IngestScenario): Promise<string[]> {
  const world = await freshWorld(scenario);
  const spy = new FaultInjector();
  await ingestOnce(ingestDeps(world, spy), world, scenario.message, scenario.providerMessageId);
  return spy.calls;
}

/** Crash the scenario's ingestion at `index`, rerun it cleanly after the claim lease, check the store. */
export async function crashIngestAt(scenario: IngestScenario, index: number, mode: CrashMode): Promise<PointOutcome> {
  const world = await freshWorld(scenario);
  const injector = new FaultInjector({ index, when: 'after', mode });
  const { error } = await runUntilCrash(injector, () => ingestOnce(ingestDeps(world, injector), world, scenario.message, scenario.providerMessageId));
  const point = injector.fired ?? `after #${index} (not reached)`;
  const problems: string[] = [];
  if (injector.fired && !(error instanceof InjectedCrash) && !(error instanceof Error && error.cause instanceof InjectedCrash)) {
    problems.push(`the crash surfaced as ${String(error)}`);
  }
  world.clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
  try {
    const rerun = await ingestOnce(ingestDeps(world), world, scenario.message, scenario.providerMessageId);
    if (scenario.suppressed && rerun.status !== 'suppressed' && rerun.status !== 'duplicate') problems.push(`rerun status ${rerun.status}`);
  } catch (rerunError) {
    problems.push(`rerun failed: ${String(rerunError)}`);
  }
  let extraLost = 0;
  let extraDuplicated = 0;
  if (scenario.suppressed && world.repo.suppressed.size !== 1) {
    problems.push(`${world.repo.suppressed.size} suppressed record(s), expected 1`);
    if (world.repo.suppressed.size === 0) extraLost = 1;
    else extraDuplicated = world.repo.suppressed.size - 1;
  }
  const outcome = await outcomeAfterRerun(
    { scenario: scenario.name, mode, point },
    { repo: world.repo, blobs: world.blobs, keys: world.keys, retention: memoryReferences(world.repo), sweepClock: pastTheGrace(world.clock.now()) },
    SCOPE,
    { ...scenario, suppressedRawKeys: async () => [...world.repo.suppressed.values()].map((s) => s.rawKey) },
    problems,
  );
  return { ...outcome, lost: outcome.lost + extraLost, duplicated: outcome.duplicated + extraDuplicated };
}

/** Every scenario, every recorded call, both modes. */
export async function runIngestMatrix(modes: readonly CrashMode[] = ['throw', 'kill']): Promise<PointOutcome[]> {
  const outcomes: PointOutcome[] = [];
  for (const scenario of INGEST_SCENARIOS) {
    const calls = await recordIngest(scenario);
    for (const mode of modes) for (let i = 0; i < calls.length; i++) outcomes.push(await crashIngestAt(scenario, i, mode));
  }
  return outcomes;
}

// ── the Gmail sync loop ──────────────────────────────────────────────────────────────────────────

const GMAIL_CLIENT = { clientId: 'crash-client.apps.googleusercontent.com', clientSecret: 'crash-secret' };
const GMAIL_ADDRESS = 'support@crash.example';
const SYNC_MESSAGES = [
  { id: 'sync-1', attachments: 1 },
  { id: 'sync-2', attachments: 0 },
  { id: 'sync-3', attachments: 2 },
];

/** The directory is only needed to connect; one mailbox, one address. */
const directory: MailboxDirectory = {
  claimAddress: async (_provider, _index, owner) => owner,
  findAddress: async () => undefined,
  releaseAddress: async () => undefined,
  listConnected: async () => [],
};

interface SyncWorld extends MemoryWorld {
  fake: FakeGmail;
  gmail: GoogleGmailConnector;
}

async function syncWorld(): Promise<SyncWorld> {
  const fake = new FakeGmail({ ...GMAIL_CLIENT });
  await fake.start();
  fake.addMailbox(GMAIL_ADDRESS, { refreshToken: 'refresh-crash' });
  const gmail = new GoogleGmailConnector({ ...GMAIL_CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, revokeUrl: fake.revokeUrl, timeoutMs: 2_000 });
  const world = { ...memoryWorld(), fake, gmail };
  await connectGmailMailbox(
    { repo: world.repo, directory, keys: world.keys, gmail, clock: world.clock, metrics: new CountingMetrics(), settings: { topicName: 'projects/crash/topics/gmail' } },
    SCOPE,
    'refresh-crash',
  );
  for (const m of SYNC_MESSAGES) fake.deliver(GMAIL_ADDRESS, crashMail(m.id, { attachments: m.attachments, bigBody: false }));
  return world;
}

function syncDeps(world: SyncWorld, injector?: FaultInjector): GmailSyncDeps {
  const gmail = injector ? injector.wrap('gmail', { open: (credentials: ProviderCredentials) => injector.wrap('gmail', world.gmail.open(credentials)) }) : world.gmail;
  return {
    ...ingestDeps(world, injector),
    gmail,
    metrics: new CountingMetrics(),
    settings: { ...DEFAULT_GMAIL_SETTINGS },
    backoff: { attempts: 1, baseMs: 1, capMs: 1, maxInlineWaitMs: 0 },
    sleep: async () => undefined,
  };
}

const SYNC_JOB: SyncJob = { ...SCOPE, reason: 'push' };

/** The port-call sequence of one clean sync of three new messages. */
export async function recordSync(): Promise<string[]> {
  const world = await syncWorld();
  try {
    const spy = new FaultInjector();
    await syncGmailMailbox(syncDeps(world, spy), SYNC_JOB);
    return spy.calls;
  } finally {
    await world.fake.stop();
  }
}

/** Crash one sync at `index` (after the call, or before it for a cursor advance), rerun it, check. */
export async function crashSyncAt(index: number, when: 'after' | 'before', mode: CrashMode): Promise<PointOutcome> {
  const world = await syncWorld();
  try {
    const injector = new FaultInjector({ index, when, mode });
    await runUntilCrash(injector, () => syncGmailMailbox(syncDeps(world, injector), SYNC_JOB));
    const point = injector.fired ?? `${when} #${index} (not reached)`;
    const problems: string[] = [];
    world.clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
    try {
      const report = await syncGmailMailbox(syncDeps(world), SYNC_JOB);
      if (report.outcome !== 'synced') problems.push(`rerun ${report.outcome}`);
    } catch (error) {
      problems.push(`rerun failed: ${String(error)}`);
    }
    const cursor = (await world.repo.getMailbox(TENANT, MAILBOX))?.connection?.cursor;
    if (cursor !== world.fake.historyId(GMAIL_ADDRESS)) problems.push(`cursor ${cursor}, mailbox at ${world.fake.historyId(GMAIL_ADDRESS)}`);
    return await outcomeAfterRerun(
      { scenario: 'gmail sync of three messages', mode, point },
      { repo: world.repo, blobs: world.blobs, keys: world.keys, retention: memoryReferences(world.repo), sweepClock: pastTheGrace(world.clock.now()) },
      SCOPE,
      expectedSync(SYNC_MESSAGES),
      problems,
    );
  } finally {
    await world.fake.stop();
  }
}

/**
 * After every call of the sync, and before every cursor advance (updateConnection). `skipKeys` leaves
 * out the points after a KeyService call (pure computation: the same state as the next point).
 */
export async function runSyncMatrix(modes: readonly CrashMode[] = ['throw', 'kill'], options: { skipKeys?: boolean } = {}): Promise<PointOutcome[]> {
  const calls = await recordSync();
  const outcomes: PointOutcome[] = [];
  for (const mode of modes) {
    for (let i = 0; i < calls.length; i++) {
      if (options.skipKeys && calls[i]?.startsWith('keys.')) continue;
      outcomes.push(await crashSyncAt(i, 'after', mode));
      if (calls[i] === 'repo.updateConnection') outcomes.push(await crashSyncAt(i, 'before', mode));
    }
  }
  return outcomes;
}

// ── dynalite + s3rver: crashes between the DynamoDB writes, and the SIGKILL child ─────────────────

export interface CrashStorage {
  dir: string;
  dynamoEndpoint: string;
  s3Endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

export async function startCrashStorage(): Promise<CrashStorage> {
  const dir = await mkdtemp(join(tmpdir(), 'm2t-crash-'));
  const dynamo = await startDynalite();
  const s3 = await startS3rver({ dir: join(dir, 's3') });
  return {
    dir,
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: s3.endpoint,
    bucket: s3.bucket,
    stop: async () => {
      await s3.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What a SIGKILL child needs to open the same storage: endpoints, table, key directory, scope. */
export interface SharedStore {
  dynamoEndpoint: string;
  s3Endpoint: string;
  bucket: string;
  table: string;
  keyDir: string;
  tenantId: string;
  mailboxId: string;
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'BatchWriteItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/**
 * Crashes right after the Nth DynamoDB write command succeeds (inside writeIngested's batch, its
 * ticket update, its message put): finer than the port calls. Kill mode: later commands fail.
 */
export class SdkWriteFault {
  writes: string[] = [];
  fired: string | null = null;
  private dead = false;
  private fire!: () => void;
  readonly died: Promise<void> = new Promise((resolve) => (this.fire = resolve));
  constructor(readonly plan: { index: number; mode: CrashMode; onKill?: () => void } | null = null) {}

  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName);
        if (!WRITE_COMMANDS.has(command)) {
          if (this.dead) throw new InjectedCrash(`(dead) ${command}`);
          return next(args);
        }
        if (this.dead) throw new InjectedCrash(`(dead) ${command}`);
        const output = await next(args);
        const index = this.writes.push(command) - 1;
        if (this.plan?.index === index) {
          this.fired = `after write #${index} ${command}`;
          if (this.plan.mode === 'kill') {
            this.plan.onKill?.();
            this.dead = true;
            this.fire();
          }
          throw new InjectedCrash(this.fired);
        }
        return output;
      },
      { step: 'initialize', name: 'crashAfterWrite' },
    );
  }
}

/** The real adapters over the shared storage, each with its own SDK clients. */
export function sharedAdapters(store: SharedStore, writeFault?: SdkWriteFault) {
  const dynamo = new DynamoDBClient({ endpoint: store.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  writeFault?.attach(dynamo);
  const s3 = makeS3Client({ endpoint: store.s3Endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
  return {
    repo: new DynamoDbTicketRepository(dynamo, store.table),
    blobs: new S3BlobStore(s3, store.bucket),
    keys: new LocalKeyService({ keyDir: store.keyDir }),
    scanner: new EicarScanner(),
    destroy: () => {
      dynamo.destroy();
      s3.destroy();
    },
  };
}

let storeNo = 0;

/** A fresh table and mailbox (its own blob prefix) on the running storage; the scenario's earlier mail ingested. */
export async function sharedStore(storage: CrashStorage, scenario: IngestScenario): Promise<SharedStore> {
  const n = ++storeNo;
  const store: SharedStore = {
    dynamoEndpoint: storage.dynamoEndpoint,
    s3Endpoint: storage.s3Endpoint,
    bucket: storage.bucket,
    table: `crash-${process.pid}-${n}`,
    keyDir: join(storage.dir, 'keys'),
    tenantId: TENANT,
    mailboxId: `mb${process.pid}x${n}`,
  };
  const adapters = sharedAdapters(store);
  try {
    const client = new DynamoDBClient({ endpoint: store.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ensureTable(client, store.table);
    client.destroy();
    const clock = new ManualClock();
    await adapters.repo.putMailbox({ tenantId: store.tenantId, mailboxId: store.mailboxId, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
    for (const raw of scenario.before) await ingestShared(store, adapters, raw, undefined, clock);
  } finally {
    adapters.destroy();
  }
  return store;
}

export function ingestShared(store: SharedStore, adapters: Omit<ReturnType<typeof sharedAdapters>, 'destroy'>, raw: Buffer, providerMessageId: string | undefined, clock: Clock) {
  const deps: IngestDeps = { ...adapters, clock, ids: ulidIds(), limits: DEFAULT_LIMITS };
  return ingestMessage(deps, Readable.from([raw]), {
    tenantId: store.tenantId,
    mailboxId: store.mailboxId,
    receivedAt: clock.now(),
    ...(providerMessageId ? { providerMessageId } : {}),
  });
}

/** After the crash (in-process or SIGKILLed child): rerun with clean adapters after the lease, then check. */
export async function rerunAndCheck(store: SharedStore, scenario: IngestScenario, point: string, mode: CrashMode): Promise<PointOutcome> {
  const adapters = sharedAdapters(store);
  const problems: string[] = [];
  try {
    const clock = new ManualClock(new Date(Date.now() + (DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000));
    try {
      await ingestShared(store, adapters, scenario.message, scenario.providerMessageId, clock);
    } catch (error) {
      problems.push(`rerun failed: ${String(error)}`);
    }
    // The bucket stamps objects with the wall clock: the sweep runs a grace period after it.
    return await outcomeAfterRerun(
      { scenario: scenario.name, mode: mode, point },
      { repo: adapters.repo, blobs: adapters.blobs, keys: adapters.keys, retention: adapters.repo, sweepClock: pastTheGrace(new Date()) },
      { tenantId: store.tenantId, mailboxId: store.mailboxId },
      scenario,
      problems,
    );
  } finally {
    adapters.destroy();
  }
}

/** Scenarios whose result the port-level checker reads in full on DynamoDB (no suppressed listing there). */
export const SHARED_SCENARIOS = INGEST_SCENARIOS.filter((s) => !s.suppressed);

/** Crash after each DynamoDB write command of the scenario's ingestion, rerun, check. */
export async function runDynamoWriteMatrix(storage: CrashStorage, modes: readonly CrashMode[] = ['throw', 'kill']): Promise<PointOutcome[]> {
  const outcomes: PointOutcome[] = [];
  for (const scenario of SHARED_SCENARIOS) {
    const spy = new SdkWriteFault();
    const recordStore = await sharedStore(storage, scenario);
    const recording = sharedAdapters(recordStore, spy);
    await ingestShared(recordStore, recording, scenario.message, scenario.providerMessageId, new ManualClock(new Date()));
    recording.destroy();
    for (const mode of modes) {
      for (let i = 0; i < spy.writes.length; i++) {
        const store = await sharedStore(storage, scenario);
        const fault = new SdkWriteFault({ index: i, mode });
        const adapters = sharedAdapters(store, fault);
        await runUntilCrash(fault, () => ingestShared(store, adapters, scenario.message, scenario.providerMessageId, new ManualClock(new Date())));
        adapters.destroy();
        outcomes.push(await rerunAndCheck(store, scenario, fault.fired ?? `after write #${i} (not reached)`, mode));
      }
    }
  }
  return outcomes;
}

/** The port-call sequence of the scenario's ingestion on the shared storage (what the child will make). */
export async function recordShared(storage: CrashStorage, scenario: IngestScenario): Promise<string[]> {
  const store = await sharedStore(storage, scenario);
  const adapters = sharedAdapters(store);
  const spy = new FaultInjector();
  try {
    const wrapped = { repo: spy.wrap('repo', adapters.repo), blobs: spy.wrap('blobs', adapters.blobs), keys: spy.wrap('keys', adapters.keys), scanner: spy.wrap('scanner', adapters.scanner) };
    await ingestShared(store, wrapped, scenario.message, scenario.providerMessageId, new ManualClock(new Date()));
    return spy.calls;
  } finally {
    adapters.destroy();
  }
}

/** Where the child kills itself: after port call `port`, or after DynamoDB write command `write`. */
export type ChildCrashPoint = { port: number } | { write: number };

/**
 * Runs tests/reliability/crash-child.ts, which SIGKILLs itself at the point. tsx relays the kill of
 * its node child as exit code 137 (128 + 9). The child names the point on stderr before dying.
 */
export function runKilledChild(store: SharedStore, scenario: IngestScenario, at: ChildCrashPoint): Promise<KilledChild> {
  return spawnCrashChild({ store, scenario: scenario.name, at });
}

export interface KilledChild {
  killed: boolean;
  point: string | null;
  code: number | null;
  stderr: string;
}

/** What crash-child.ts reads from M2T_CRASH: an ingestion scenario, or a run of the Gmail sync worker. */
export type CrashChildJob = { store: SharedStore; scenario: string; at: ChildCrashPoint } | { sync: SharedSync; at: { index: number; when: 'after' | 'before' } };

async function spawnCrashChild(job: CrashChildJob): Promise<KilledChild> {
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
  const script = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
  const child = spawn(tsx, [script], {
    env: { ...process.env, M2T_CRASH: JSON.stringify(job) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { killed: signal === 'SIGKILL' || code === 137, point: /crash point: (.*)/.exec(stderr)?.[1] ?? null, code, stderr };
}

// ── the Gmail sync worker SIGKILLed in a child process ───────────────────────────────────────────

/** The shared servers a sync child works against: storage, the parent's fake Gmail, the local SQS. */
export interface SharedSync {
  store: SharedStore;
  /** How the child's GoogleGmailConnector reaches the parent's FakeGmail. */
  google: GoogleGmailOptions;
  /** fauxqs: the worker's queue (parking, continuing) and deferral (throttles), unused on a clean run. */
  queue: { endpoint: string; queueUrl: string };
}

/** A named point of the sync loop: the `nth` call of `label` (0-based) in the recorded sequence. */
export interface SyncKillPoint {
  name: string;
  label: string;
  nth: number;
  when: 'after' | 'before';
}

export const SYNC_KILL_POINTS: readonly SyncKillPoint[] = [
  { name: 'after the cursor read', label: 'repo.getMailbox', nth: 0, when: 'after' },
  { name: 'after the history listing', label: 'gmail.listHistory', nth: 0, when: 'after' },
  ...SYNC_MESSAGES.flatMap((_, i): SyncKillPoint[] => [
    { name: `after message ${i + 1} fetched`, label: 'gmail.getRawMessage', nth: i, when: 'after' },
    // Between its raw store and its claim: the one gap that leaves objects nothing names, for the sweep.
    ...(i === 0 ? [{ name: 'after message 1 raw stored', label: 'blobs.put', nth: 0, when: 'after' as const }] : []),
    { name: `after message ${i + 1} ingested`, label: 'repo.writeIngested', nth: i, when: 'after' },
  ]),
  { name: 'before the cursor advance', label: 'repo.updateConnection', nth: 0, when: 'before' },
  { name: 'after the cursor advance', label: 'repo.updateConnection', nth: 0, when: 'after' },
];

/** Index of the point's call in a recorded sequence (-1 when it is not there). */
export function syncPointIndex(calls: readonly string[], point: SyncKillPoint): number {
  let seen = -1;
  return calls.findIndex((label) => label === point.label && ++seen === point.nth);
}

const LOCAL_SQS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const LAMBDA_CONTEXT = { functionName: 'gmail-sync', awsRequestId: 'crash-sync', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

/**
 * One invocation of the production Gmail sync worker (functions/gmail-sync/make-handler.ts: middy,
 * the FIFO batch processor, sync-record.ts) for one push job, over the shared servers, its ports
 * wrapped by `injector` when given. Run in the SIGKILL child, and in the parent to record and rerun.
 */
export async function runGmailSyncWorker(shared: SharedSync, clock: Clock, injector?: FaultInjector): Promise<SQSBatchResponse> {
  const adapters = sharedAdapters(shared.store);
  const sqs = new SQSClient({ endpoint: shared.queue.endpoint, ...LOCAL_SQS });
  const connector = new GoogleGmailConnector(shared.google);
  const w = <T extends object>(name: string, port: T): T => (injector ? injector.wrap(name, port) : port);
  const deps: GmailSyncHandlerDeps = {
    repo: w('repo', adapters.repo),
    blobs: w('blobs', adapters.blobs),
    keys: w('keys', adapters.keys),
    scanner: w('scanner', adapters.scanner),
    clock,
    ids: ulidIds(),
    limits: DEFAULT_LIMITS,
    gmail: injector ? injector.wrap('gmail', { open: (credentials: ProviderCredentials) => injector.wrap('gmail', connector.open(credentials)) }) : connector,
    metrics: new CountingMetrics(),
    settings: { ...DEFAULT_GMAIL_SETTINGS },
    queue: new SqsJobQueue(sqs, shared.queue.queueUrl),
    deferral: new SqsJobDeferral(sqs, shared.queue.queueUrl),
    maxReceiveCount: 8,
  };
  const job = queuedSyncJob({ tenantId: shared.store.tenantId, mailboxId: shared.store.mailboxId, reason: 'push' }, 'crash-push');
  const record: SQSRecord = {
    messageId: 'crash-sync-1',
    receiptHandle: 'rh-crash-sync-1',
    body: job.body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: job.groupId, MessageDeduplicationId: 'crash-push', SequenceNumber: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:crash-sync.fifo',
    awsRegion: 'us-east-1',
  };
  try {
    return await makeGmailSyncHandler(deps, quietPowertoolsMetrics())({ Records: [record] }, LAMBDA_CONTEXT);
  } finally {
    sqs.destroy();
    adapters.destroy();
  }
}

let syncMailboxNo = 0;

/** A fresh table and a fresh fake mailbox, connected (cursor at the watch), then the three messages delivered. */
export async function sharedSyncStore(storage: CrashStorage, fake: FakeGmail, queue: SharedSync['queue']): Promise<SharedSync & { address: string }> {
  const n = ++storeNo;
  const address = `support-${process.pid}-${++syncMailboxNo}@crash.example`;
  const refreshToken = `refresh-crash-${process.pid}-${syncMailboxNo}`;
  fake.addMailbox(address, { refreshToken });
  const store: SharedStore = {
    dynamoEndpoint: storage.dynamoEndpoint,
    s3Endpoint: storage.s3Endpoint,
    bucket: storage.bucket,
    table: `crash-sync-${process.pid}-${n}`,
    keyDir: join(storage.dir, 'keys'),
    tenantId: TENANT,
    mailboxId: `gm${process.pid}x${n}`,
  };
  const google: GoogleGmailOptions = { ...GMAIL_CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, revokeUrl: fake.revokeUrl, timeoutMs: 5_000 };
  const client = new DynamoDBClient({ endpoint: store.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const adapters = sharedAdapters(store);
  try {
    await ensureTable(client, store.table);
    await connectGmailMailbox(
      { repo: adapters.repo, directory, keys: adapters.keys, gmail: new GoogleGmailConnector(google), clock: new ManualClock(new Date()), metrics: new CountingMetrics(), settings: { topicName: 'projects/crash/topics/gmail' } },
      store,
      refreshToken,
    );
  } finally {
    client.destroy();
    adapters.destroy();
  }
  for (const m of SYNC_MESSAGES) fake.deliver(address, crashMail(m.id, { attachments: m.attachments, bigBody: false }));
  return { store, google, queue, address };
}

/** The port-call sequence of one clean run of the sync worker on the shared servers (what the child makes). */
export async function recordSharedSync(storage: CrashStorage, fake: FakeGmail, queue: SharedSync['queue']): Promise<string[]> {
  const shared = await sharedSyncStore(storage, fake, queue);
  const spy = new FaultInjector();
  const response = await runGmailSyncWorker(shared, new ManualClock(new Date()), spy);
  if (response.batchItemFailures.length > 0) throw new Error('the recording sync failed');
  return spy.calls;
}

/** Runs crash-child.ts on the sync worker, SIGKILLing itself at call `index` (after it, or before it). */
export function runKilledSyncChild(shared: SharedSync, index: number, when: 'after' | 'before') {
  return spawnCrashChild({ sync: shared, at: { index, when } });
}

/** After the SIGKILLed child: rerun the worker in-process after the claim lease, then check the storage. */
export async function rerunSyncAndCheck(shared: SharedSync & { address: string }, fake: FakeGmail, point: string): Promise<PointOutcome> {
  const { store } = shared;
  const problems: string[] = [];
  const adapters = sharedAdapters(store);
  try {
    try {
      const response = await runGmailSyncWorker(shared, new ManualClock(new Date(Date.now() + (DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000)));
      if (response.batchItemFailures.length > 0) problems.push('the rerun failed its record');
    } catch (error) {
      problems.push(`rerun failed: ${String(error)}`);
    }
    const cursor = (await adapters.repo.getMailbox(store.tenantId, store.mailboxId))?.connection?.cursor;
    if (cursor !== fake.historyId(shared.address)) problems.push(`cursor ${cursor}, mailbox at ${fake.historyId(shared.address)}`);
    // The bucket stamps objects with the wall clock: the sweep runs a grace period after it.
    return await outcomeAfterRerun(
      { scenario: 'gmail sync worker of three messages (SIGKILL)', mode: 'kill', point },
      { repo: adapters.repo, blobs: adapters.blobs, keys: adapters.keys, retention: adapters.repo, sweepClock: pastTheGrace(new Date()) },
      { tenantId: store.tenantId, mailboxId: store.mailboxId },
      expectedSync(SYNC_MESSAGES),
      problems,
    );
  } finally {
    adapters.destroy();
  }
}

/** Every named point of the sync loop, each in its own SIGKILLed child over a fresh table and fake mailbox. */
export async function runSyncKillMatrix(storage: CrashStorage, fake: FakeGmail, queue: SharedSync['queue']): Promise<Array<PointOutcome & { killed: boolean; named: string }>> {
  const calls = await recordSharedSync(storage, fake, queue);
  const outcomes: Array<PointOutcome & { killed: boolean; named: string }> = [];
  for (const point of SYNC_KILL_POINTS) {
    const index = syncPointIndex(calls, point);
    if (index < 0) throw new Error(`${point.name}: no call ${point.label} #${point.nth} in [${calls.join(', ')}]`);
    const shared = await sharedSyncStore(storage, fake, queue);
    const child = await runKilledSyncChild(shared, index, point.when);
    const outcome = await rerunSyncAndCheck(shared, fake, `SIGKILL ${point.name}: ${child.point ?? '(not reached)'}`);
    if (!child.killed) outcome.problems.push(`the child was not killed (exit ${child.code}): ${child.stderr.slice(-500)}`);
    outcomes.push({ ...outcome, killed: child.killed, named: point.name });
  }
  return outcomes;
}

/** The fake Gmail the sync children reach over HTTP; it lives in the parent, so it outlives each child. */
export async function startSharedFakeGmail(): Promise<FakeGmail> {
  const fake = new FakeGmail({ ...GMAIL_CLIENT });
  await fake.start();
  return fake;
}
