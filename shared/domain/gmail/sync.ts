// The Gmail sync worker's use-case: from the mailbox's own cursor, read history page by page,
// ingest each message that arrives in (or is moved to) the inbox, and advance the cursor only past
// messages durably ingested. Expired history falls back to a bounded full sync; ingest idempotency
// (provider id, then fingerprint) makes any overlap harmless.
import { DEFAULT_BACKOFF, realSleep, withBackoff, type BackoffPolicy, type Sleep } from '../connectors/backoff.js';
import { SyncPaused, type SyncBudget } from '../connectors/budget.js';
import { openCredentials } from '../connectors/credentials.js';
import { assertNotThrottled, rememberThrottle } from '../connectors/throttle.js';
import { parkable, type SyncJob } from '../connectors/sync-job.js';
import { MailboxDisconnected } from '../errors.js';
import { ingestMessage, type IngestDeps, type IngestResult } from '../ingest.js';
import type { MailboxRecord, ProviderConnection, ProviderCredentials } from '../model.js';
import type { Metrics } from '../ports.js';
import { CursorExpired, ProviderMisconfigured, ProviderNotFound, ProviderThrottled, ReauthorizationRequired } from '../provider-errors.js';
import type { GmailApi, GmailConnector, GmailHistoryRecord, GmailMessageRef, GmailSettings } from './ports.js';
import { keepRotatedRefreshToken } from './rotation.js';

export interface GmailSyncDeps extends IngestDeps {
  gmail: GmailConnector;
  metrics: Metrics;
  settings: Omit<GmailSettings, 'topicName'>;
  backoff?: BackoffPolicy;
  sleep?: Sleep;
}

export interface GmailSyncReport {
  /** `paused`: the time budget ran out; the place is saved and a fresh job goes on from it. */
  outcome: 'synced' | 'skipped' | 'reauthorization_required' | 'paused';
  mode?: 'history' | 'full';
  /** Messages handed to ingest (new tickets, appends, duplicates and robots alike). */
  ingested: number;
  /** New messages among them: created, appended or suppressed. */
  added: number;
  /** Messages deleted at Google before we could fetch them. */
  vanished: number;
}

/**
 * `park`, on a job's last attempts: a message that still cannot be fetched or ingested is handed to a
 * job of its own and the sync goes on past it (see functions/shared/sync-record.ts).
 */
export type ParkMessage = (message: { id: string; threadId?: string }) => Promise<void>;

export async function syncGmailMailbox(deps: GmailSyncDeps, job: SyncJob, options: { park?: ParkMessage; budget?: SyncBudget } = {}): Promise<GmailSyncReport> {
  const mailbox = await deps.repo.getMailbox(job.tenantId, job.mailboxId);
  const report: GmailSyncReport = { outcome: 'skipped', ingested: 0, added: 0, vanished: 0 };
  if (!mailbox || mailbox.provider !== 'gmail' || mailbox.status !== 'connected' || !mailbox.connection) return report;

  const run = new GmailSyncRun(deps, mailbox, mailbox.connection, report, options.park, options.budget);
  let session: { api: GmailApi; credentials: ProviderCredentials } | undefined;
  try {
    assertNotThrottled(mailbox.connection, deps.clock, 'Gmail');
    const credentials = await openCredentials(deps.keys, mailbox, mailbox.connection.sealedCredentials);
    session = { api: deps.gmail.open(credentials), credentials };
    if (job.reason === 'message' && job.providerMessageId) await run.one(session.api, { id: job.providerMessageId, threadId: job.providerThreadId ?? '' });
    else await run.sync(session.api, job);
    await keepRotatedRefreshToken(deps, mailbox, session.credentials, session.api);
  } catch (error) {
    // The token Google rotated to is kept even when the sync failed after the refresh.
    if (session) await keepRotatedRefreshToken(deps, mailbox, session.credentials, session.api);
    if (error instanceof SyncPaused) {
      deps.metrics.count('gmail.sync_paused');
      return { ...report, outcome: 'paused' };
    }
    if (error instanceof ReauthorizationRequired) return run.needsReauthorization();
    if (error instanceof MailboxDisconnected) return { ...report, outcome: 'skipped' };
    // Our OAuth client was refused (a wrong secret): the mailbox's grant stands; the job fails and retries.
    if (error instanceof ProviderMisconfigured) deps.metrics.count('gmail.client_misconfigured');
    // A parked message's own failure says nothing of the mailbox: its other jobs are not held back.
    if (error instanceof ProviderThrottled && job.reason !== 'message') await rememberThrottle(deps, mailbox, error, 'gmail.throttled');
    throw error;
  }
  return report;
}

class GmailSyncRun {
  constructor(
    private readonly deps: GmailSyncDeps,
    private readonly mailbox: MailboxRecord,
    private readonly connection: ProviderConnection,
    private readonly report: GmailSyncReport,
    private readonly park: ParkMessage | undefined,
    private readonly budget: SyncBudget | undefined,
  ) {}

  /** Messages this run started: the budget is checked only after the first, so every run gets somewhere. */
  private started = 0;

  /**
   * Before each history record with arrivals, and each message of a full sync: throws SyncPaused once
   * the budget is spent. A record is never split, so a paused run always saves a place past its work.
   */
  private mayStart(messages: number): void {
    if (this.started > 0 && this.budget?.spent()) throw new SyncPaused();
    this.started += messages;
  }

  private call<T>(request: () => Promise<T>): Promise<T> {
    return withBackoff(request, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.sleep ?? realSleep);
  }

  async sync(api: GmailApi, job: SyncJob): Promise<void> {
    const cursor = this.connection.cursor;
    // A full sync under way (paused for its budget) goes on before history is read again.
    let expired = !cursor || Boolean(this.connection.fullSync);
    if (cursor && !expired) {
      try {
        await this.historySync(api, cursor);
      } catch (error) {
        if (!(error instanceof CursorExpired)) throw error;
        expired = true;
      }
    }
    if (expired) await this.fullSync(api, cursor !== undefined);

    const now = this.deps.clock.now();
    const patch: Partial<ProviderConnection> = { lastSyncedAt: now.toISOString() };
    if (job.notifiedAt) patch.lastNotifiedAt = job.notifiedAt;
    if (this.report.added > 0) {
      patch.lastChangeAt = now.toISOString();
      if (job.reason === 'safety' && this.pushStalled(now)) this.deps.metrics.count('gmail.push_stalled');
    }
    await this.save(patch);
    this.report.outcome = 'synced';
  }

  /** A parked message's job: that message only; the cursor is the mailbox sync's business. */
  async one(api: GmailApi, ref: { id: string; threadId: string }): Promise<void> {
    await this.fetchAndIngest(api, { ...ref, labelIds: ['INBOX'] });
    this.report.outcome = 'synced';
  }

  /**
   * The safety sync found mail no push announced for longer than the configured time. Silence counts
   * from the last push, else from the mailbox's creation — never from the last sync: safety syncs run
   * every few minutes, so a mailbox whose pushes never arrived (a push subscription misconfigured from
   * the start) would otherwise never count as stalled.
   */
  private pushStalled(now: Date): boolean {
    const last = Date.parse(this.connection.lastNotifiedAt ?? this.mailbox.createdAt);
    return now.getTime() - last > this.deps.settings.stalledAfterMinutes * 60_000;
  }

  private async historySync(api: GmailApi, startHistoryId: string): Promise<void> {
    this.report.mode = 'history';
    let pageToken: string | undefined;
    do {
      // Every page of one listing keeps the same startHistoryId; the token carries the position.
      const page = await this.call(() => api.listHistory(startHistoryId, pageToken));
      let done: string | undefined;
      try {
        for (const { recordId, arrivals } of inboxArrivalsByRecord(page.records, this.deps.settings.excludedLabels)) {
          if (arrivals.length > 0) this.mayStart(arrivals.length);
          for (const ref of arrivals) await this.ingest(api, ref);
          done = recordId;
        }
      } catch (error) {
        // Paused inside a page: the cursor moves past the records whose messages are all in, so the
        // next job lists history from there (a record id is a valid startHistoryId).
        if (error instanceof SyncPaused && done && done !== this.connection.cursor) await this.save({ cursor: done });
        throw error;
      }
      pageToken = page.nextPageToken;
      const lastRecord = page.records.at(-1)?.id;
      const next = pageToken ? lastRecord : maxHistoryId(lastRecord, page.historyId);
      // Only past what is durably ingested: a crash here replays this page, and ingest dedupes it.
      if (next && next !== this.connection.cursor) await this.save({ cursor: next });
    } while (pageToken);
  }

  private async fullSync(api: GmailApi, becauseExpired: boolean): Promise<void> {
    this.report.mode = 'full';
    const resumed = this.connection.fullSync ?? undefined;
    if (!resumed) this.deps.metrics.count('gmail.full_sync');
    // Taken before the first listing: whatever arrives or moves to the inbox after it is in the history
    // after it — a resumed full sync keeps it, since mail rescued to the inbox meanwhile may sort
    // before the place it resumes from.
    const historyId = resumed?.historyId ?? (await this.call(() => api.getProfile())).historyId;
    const query = ['in:inbox', `newer_than:${this.deps.settings.fullSyncDays}d`, ...this.deps.settings.excludedLabels.map((label) => `-label:${label.toLowerCase()}`)].join(' ');
    const found: Array<{ id: string; threadId: string }> = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call(() => api.listMessages(query, pageToken));
      found.push(...page.messages);
      pageToken = page.nextPageToken;
    } while (pageToken);
    // Gmail lists newest first; tickets read better built oldest first.
    const oldestFirst = found.reverse();
    // Past the last message a paused run brought in; from the start if that one has left the inbox
    // (ingest idempotency makes the repeat harmless).
    const first = resumed ? oldestFirst.findIndex((ref) => ref.id === resumed.lastId) + 1 : 0;
    for (let i = first; i < oldestFirst.length; i++) {
      try {
        this.mayStart(1);
      } catch (error) {
        if (error instanceof SyncPaused && i > first) await this.save({ fullSync: { historyId, lastId: (oldestFirst[i - 1] as { id: string }).id } });
        throw error;
      }
      await this.ingest(api, { ...(oldestFirst[i] as { id: string; threadId: string }), labelIds: ['INBOX'] });
    }
    await this.save({
      cursor: historyId,
      fullSync: null,
      ...(becauseExpired ? { lastIssue: { code: 'history_expired', at: this.deps.clock.now().toISOString() } } : {}),
    });
  }

  private async ingest(api: GmailApi, ref: GmailMessageRef): Promise<void> {
    try {
      await this.fetchAndIngest(api, ref);
    } catch (error) {
      if (!this.park || !parkable(error)) throw error;
      await this.park({ id: ref.id, ...(ref.threadId ? { threadId: ref.threadId } : {}) });
      this.deps.metrics.count('gmail.message_parked');
    }
  }

  private async fetchAndIngest(api: GmailApi, ref: GmailMessageRef): Promise<void> {
    let result: IngestResult;
    try {
      // The download and its ingestion are retried together: a body cut off mid-stream (reset,
      // timeout) fails ingest as a provider fault before anything is recorded, and is fetched again.
      result = await this.call(async () =>
        ingestMessage(this.deps, await api.getRawMessage(ref.id), {
          tenantId: this.mailbox.tenantId,
          mailboxId: this.mailbox.mailboxId,
          providerMessageId: ref.id,
          ...(ref.threadId ? { providerThreadId: ref.threadId } : {}),
          receivedAt: this.deps.clock.now(),
          // No mailbox passed: ingest reads it fresh, so a disconnect during a long sync stops it at
          // the next message, and nothing is written for a disconnected mailbox without its deadline.
        }),
      );
    } catch (error) {
      if (!(error instanceof ProviderNotFound)) throw error;
      this.report.vanished++;
      this.deps.metrics.count('gmail.message_vanished');
      return;
    }
    this.report.ingested++;
    if (result.status !== 'duplicate') this.report.added++;
  }

  private async save(patch: Partial<ProviderConnection>): Promise<void> {
    Object.assign(this.connection, patch);
    const saved = await this.deps.repo.updateConnection(this.mailbox.tenantId, this.mailbox.mailboxId, patch);
    if (!saved) throw new MailboxDisconnected(`mailbox ${this.mailbox.mailboxId} was disconnected during its sync`);
  }

  async needsReauthorization(): Promise<GmailSyncReport> {
    this.deps.metrics.count('gmail.reauthorization_required');
    await this.deps.repo.updateConnection(
      this.mailbox.tenantId,
      this.mailbox.mailboxId,
      { lastIssue: { code: 'invalid_grant', at: this.deps.clock.now().toISOString() } },
      'reauthorization_required',
    );
    return { ...this.report, outcome: 'reauthorization_required' };
  }
}

/**
 * Messages that arrived in the inbox: added with INBOX, or given INBOX later (rescued from spam,
 * moved back from the archive), never while they carry an excluded label. In history order, once each.
 */
export function inboxArrivals(records: GmailHistoryRecord[], excludedLabels: readonly string[]): GmailMessageRef[] {
  return inboxArrivalsByRecord(records, excludedLabels).flatMap((record) => record.arrivals);
}

/** The same, record by record (every record, with or without arrivals): where a paused sync can stop. */
export function inboxArrivalsByRecord(records: GmailHistoryRecord[], excludedLabels: readonly string[]): Array<{ recordId: string; arrivals: GmailMessageRef[] }> {
  const excluded = new Set(excludedLabels);
  const seen = new Set<string>();
  return records.map((record) => {
    const arrivals: GmailMessageRef[] = [];
    const consider = (message: GmailMessageRef, gainedInbox: boolean) => {
      if (!gainedInbox || seen.has(message.id) || message.labelIds.some((label) => excluded.has(label))) return;
      seen.add(message.id);
      arrivals.push(message);
    };
    for (const message of record.messagesAdded) consider(message, message.labelIds.includes('INBOX'));
    for (const { message, labelIds } of record.labelsAdded) consider(message, labelIds.includes('INBOX'));
    return { recordId: record.id, arrivals };
  });
}

/** historyIds are unsigned 64-bit decimals: compare as integers, not strings. */
function maxHistoryId(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  return BigInt(a) > BigInt(b) ? a : b;
}
