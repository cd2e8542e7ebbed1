// The Graph sync worker's use-case. One job brings a mailbox up to date with a delta round on its
// inbox from the stored link (a new bounded round when there is none or Graph forgot it), fetching
// MIME with at most four requests in flight; the link advances only past messages durably ingested.
// Lifecycle jobs renew or recreate the subscription first: the webhook never calls Graph itself.
import { DEFAULT_BACKOFF, realSleep, withBackoff, type BackoffPolicy, type Sleep } from '../connectors/backoff.js';
import { SyncPaused, type SyncBudget } from '../connectors/budget.js';
import { openCredentials } from '../connectors/credentials.js';
import { assertNotThrottled, rememberThrottle } from '../connectors/throttle.js';
import { runPooled } from '../connectors/pool.js';
import { parkable, type SyncJob } from '../connectors/sync-job.js';
import { MailboxDisconnected } from '../errors.js';
import { ingestMessage, type IngestDeps, type IngestResult } from '../ingest.js';
import type { MailboxRecord, ProviderConnection } from '../model.js';
import type { MailboxDirectory, Metrics } from '../ports.js';
import { CursorExpired, ProviderMisconfigured, ProviderNotFound, ProviderThrottled, ReauthorizationRequired } from '../provider-errors.js';
import { renewOrResubscribe, subscribe } from './lifecycle.js';
import type { GraphApi, GraphConnector, GraphMessageRef, GraphSettings } from './ports.js';

/** Graph throttles a mailbox beyond four concurrent requests (Outlook's limit per app and mailbox). */
export const MAX_IN_FLIGHT_PER_MAILBOX = 4;

export interface GraphSyncDeps extends IngestDeps {
  graph: GraphConnector;
  directory: MailboxDirectory;
  metrics: Metrics;
  settings: GraphSettings;
  backoff?: BackoffPolicy;
  sleep?: Sleep;
}

export interface GraphSyncReport {
  /** `paused`: the time budget ran out; the delta link is saved and a fresh job goes on from it. */
  outcome: 'synced' | 'skipped' | 'reauthorization_required' | 'paused';
  mode?: 'delta' | 'full';
  ingested: number;
  added: number;
  vanished: number;
}

/**
 * `park`, on a job's last attempts: a message that still cannot be fetched or ingested is handed to a
 * job of its own and the sync goes on past it (see functions/shared/sync-record.ts).
 */
export type ParkMessage = (message: { id: string; threadId?: string }) => Promise<void>;

export async function syncGraphMailbox(deps: GraphSyncDeps, job: SyncJob, options: RoundOptions = {}): Promise<GraphSyncReport> {
  const report: GraphSyncReport = { outcome: 'skipped', ingested: 0, added: 0, vanished: 0 };
  const mailbox = await deps.repo.getMailbox(job.tenantId, job.mailboxId);
  if (!mailbox || mailbox.provider !== 'graph' || mailbox.status !== 'connected' || !mailbox.connection) return report;
  const connection = mailbox.connection;
  const save = async (patch: Partial<ProviderConnection>) => {
    Object.assign(connection, patch);
    if (!(await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, patch))) {
      throw new MailboxDisconnected(`mailbox ${mailbox.mailboxId} was disconnected during its sync`);
    }
  };
  try {
    assertNotThrottled(connection, deps.clock, 'Graph');
    const credentials = await openCredentials(deps.keys, mailbox, connection.sealedCredentials);
    if (!credentials.azureTenantId || !credentials.userId) throw new ReauthorizationRequired('the mailbox has no Microsoft tenant or user');
    const api = deps.graph.open({ azureTenantId: credentials.azureTenantId, userId: credentials.userId });
    const call = <T>(request: () => Promise<T>) => withBackoff(request, deps.backoff ?? DEFAULT_BACKOFF, deps.sleep ?? realSleep);

    if (job.reason === 'renew' && connection.subscriptionId) {
      const expiresAt = new Date(deps.clock.now().getTime() + deps.settings.subscriptionMinutes * 60_000);
      const outcome = await renewOrResubscribe(deps, mailbox, api, connection.subscriptionId, expiresAt, save, call);
      report.outcome = 'synced';
      // A lapsed subscription notified nothing for a while: catch up on what it missed.
      if (outcome === 'renewed') return report;
    }
    if (job.reason === 'message' && job.providerMessageId) {
      // A parked message's job: that message only; the delta link is the mailbox sync's business.
      await ingestOne(deps, mailbox, api, call, { id: job.providerMessageId, ...(job.providerThreadId ? { conversationId: job.providerThreadId } : {}) }, report);
      report.outcome = 'synced';
      return report;
    }
    if (job.reason === 'resubscribe') await subscribe({ ...deps }, mailbox, api, save);

    await deltaSync(deps, mailbox, api, call, save, report, options);
    const now = deps.clock.now();
    const patch: Partial<ProviderConnection> = { lastSyncedAt: now.toISOString() };
    // A change notification carries no time of its own, and its job runs seconds after the webhook took
    // it: the job's run stands for it. (A `missed` lifecycle event's job counts too: Graph still talks to us.)
    if (job.reason === 'push') patch.lastNotifiedAt = job.notifiedAt ?? now.toISOString();
    if (report.added) {
      patch.lastChangeAt = now.toISOString();
      if (job.reason === 'safety' && notificationStalled(deps, mailbox, connection, now)) deps.metrics.count('graph.notification_stalled');
    }
    await save(patch);
    report.outcome = 'synced';
    return report;
  } catch (error) {
    if (error instanceof MailboxDisconnected) return report;
    if (error instanceof SyncPaused) {
      deps.metrics.count('graph.sync_paused');
      return { ...report, outcome: 'paused' };
    }
    if (error instanceof ReauthorizationRequired) {
      deps.metrics.count('graph.reauthorization_required');
      await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { lastIssue: { code: 'auth_failed', at: deps.clock.now().toISOString() } }, 'reauthorization_required');
      return { ...report, outcome: 'reauthorization_required' };
    }
    // Microsoft refused our app's own credential: the mailbox's consent stands; the job fails and retries.
    if (error instanceof ProviderMisconfigured) deps.metrics.count('graph.client_misconfigured');
    // A parked message's own failure says nothing of the mailbox: its other jobs are not held back.
    if (error instanceof ProviderThrottled && job.reason !== 'message') await rememberThrottle(deps, mailbox, error, 'graph.throttled');
    throw error;
  }
}

type Call = <T>(request: () => Promise<T>) => Promise<T>;

/** What the worker lends a mailbox sync: parking on a job's last attempts, and its time budget. */
interface RoundOptions {
  park?: ParkMessage;
  budget?: SyncBudget;
}

/**
 * The safety sync found mail no change notification announced for longer than the configured time.
 * Without any notification yet, the time counts from the mailbox's creation: a subscription that never
 * delivered is the silence this exists to catch (the previous sync's time would hide it for ever).
 */
function notificationStalled(deps: GraphSyncDeps, mailbox: MailboxRecord, connection: ProviderConnection, now: Date): boolean {
  const last = Date.parse(connection.lastNotifiedAt ?? mailbox.createdAt);
  return now.getTime() - last > deps.settings.stalledAfterMinutes * 60_000;
}

async function deltaSync(
  deps: GraphSyncDeps,
  mailbox: MailboxRecord,
  api: GraphApi,
  call: Call,
  save: (patch: Partial<ProviderConnection>) => Promise<void>,
  report: GraphSyncReport,
  options: RoundOptions,
): Promise<void> {
  const since = () => new Date(deps.clock.now().getTime() - deps.settings.fullSyncDays * 24 * 3600 * 1000);
  const stored = mailbox.connection?.cursor;
  report.mode = stored ? 'delta' : 'full';
  try {
    await deltaRound(deps, mailbox, api, call, save, report, stored ? { link: stored } : { since: since() }, options);
  } catch (error) {
    if (!(error instanceof CursorExpired)) throw error;
    // Graph forgot the round's state: start a new bounded round; ingest idempotency absorbs the overlap.
    deps.metrics.count('graph.delta_expired');
    report.mode = 'full';
    await save({ lastIssue: { code: 'delta_expired', at: deps.clock.now().toISOString() } });
    await deltaRound(deps, mailbox, api, call, save, report, { since: since() }, options);
  }
}

async function deltaRound(
  deps: GraphSyncDeps,
  mailbox: MailboxRecord,
  api: GraphApi,
  call: Call,
  save: (patch: Partial<ProviderConnection>) => Promise<void>,
  report: GraphSyncReport,
  start: { link: string } | { since: Date },
  { park, budget }: RoundOptions,
): Promise<void> {
  let from = start;
  for (;;) {
    const page = await call(() => api.delta(from));
    // Concurrent across conversations, in page order within one: a reply fetched beside its original
    // would otherwise find no ticket to thread into and start a second one.
    await runPooled(byConversation(page.messages), MAX_IN_FLIGHT_PER_MAILBOX, async (refs) => {
      for (const ref of refs) {
        try {
          await ingestOne(deps, mailbox, api, call, ref, report);
        } catch (error) {
          if (!park || !parkable(error)) throw error;
          await park({ id: ref.id, ...(ref.conversationId ? { threadId: ref.conversationId } : {}) });
          deps.metrics.count('graph.message_parked');
        }
      }
    });
    const link = page.nextLink ?? page.deltaLink;
    if (!link) return;
    await save({ cursor: link });
    if (!page.nextLink) return;
    // Between pages, after the saved link: a budget spent pauses here, and the next job goes on from it.
    if (budget?.spent()) throw new SyncPaused();
    from = { link: page.nextLink };
  }
}

/** The page's messages grouped by conversation (a message without one is its own), each group in page order. */
export function byConversation(refs: readonly GraphMessageRef[]): GraphMessageRef[][] {
  const groups = new Map<string, GraphMessageRef[]>();
  const ordered: GraphMessageRef[][] = [];
  for (const ref of refs) {
    const group = ref.conversationId ? groups.get(ref.conversationId) : undefined;
    if (group) {
      group.push(ref);
      continue;
    }
    const fresh = [ref];
    if (ref.conversationId) groups.set(ref.conversationId, fresh);
    ordered.push(fresh);
  }
  return ordered;
}

async function ingestOne(deps: GraphSyncDeps, mailbox: MailboxRecord, api: GraphApi, call: Call, ref: GraphMessageRef, report: GraphSyncReport): Promise<void> {
  let result: IngestResult;
  try {
    // The download and its ingestion are retried together: a body cut off mid-stream (reset,
    // timeout) fails ingest as a provider fault before anything is recorded, and is fetched again.
    result = await call(async () =>
      ingestMessage(deps, await api.getMime(ref.id), {
        tenantId: mailbox.tenantId,
        mailboxId: mailbox.mailboxId,
        providerMessageId: ref.id,
        ...(ref.conversationId ? { providerThreadId: ref.conversationId } : {}),
        receivedAt: deps.clock.now(),
        // No mailbox passed: ingest reads it fresh, so a disconnect during a long sync stops it at the
        // next message, and nothing is written for a disconnected mailbox without its deadline.
      }),
    );
  } catch (error) {
    if (!(error instanceof ProviderNotFound)) throw error;
    report.vanished++;
    deps.metrics.count('graph.message_vanished');
    return;
  }
  report.ingested++;
  if (result.status !== 'duplicate') report.added++;
}
