// The Gmail sync worker's use-case: from the mailbox's own cursor, read history page by page,
// ingest each message that arrives in (or is moved to) the inbox, and advance the cursor only past
// messages durably ingested. Expired history falls back to a bounded full sync; ingest idempotency
// (provider id, then fingerprint) makes any overlap harmless.
import { DEFAULT_BACKOFF, realSleep, withBackoff, type BackoffPolicy, type Sleep } from '../connectors/backoff.js';
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
  outcome: 'synced' | 'skipped' | 'reauthorization_required';
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

export async function syncGmailMailbox(deps: GmailSyncDeps, job: SyncJob, options: { park?: ParkMessage } = {}): Promise<GmailSyncReport> {
  const mailbox = await deps.repo.getMailbox(job.tenantId, job.mailboxId);
  const report: GmailSyncReport = { outcome: 'skipped', ingested: 0, added: 0, vanished: 0 };
  if (!mailbox || mailbox.provider !== 'gmail' || mailbox.status !== 'connected' || !mailbox.connection) return report;

  const run = new GmailSyncRun(deps, mailbox, mailbox.connection, report, options.park);
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
  ) {}

  private call<T>(request: () => Promise<T>): Promise<T> {
    return withBackoff(request, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.sleep ?? realSleep);
  }

  async sync(api: GmailApi, job: SyncJob): Promise<void> {
    const cursor = this.connection.cursor;
    let expired = !cursor;
    if (cursor) {
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
      for (const ref of inboxArrivals(page.records, this.deps.settings.excludedLabels)) await this.ingest(api, ref);
      pageToken = page.nextPageToken;
      const lastRecord = page.records.at(-1)?.id;
      const next = pageToken ? lastRecord : maxHistoryId(lastRecord, page.historyId);
      // Only past what is durably ingested: a crash here replays this page, and ingest dedupes it.
      if (next && next !== this.connection.cursor) await this.save({ cursor: next });
    } while (pageToken);
  }

  private async fullSync(api: GmailApi, becauseExpired: boolean): Promise<void> {
    this.report.mode = 'full';
    this.deps.metrics.count('gmail.full_sync');
    // Taken before listing: whatever arrives during the listing is in the history after it.
    const { historyId } = await this.call(() => api.getProfile());
    const query = ['in:inbox', `newer_than:${this.deps.settings.fullSyncDays}d`, ...this.deps.settings.excludedLabels.map((label) => `-label:${label.toLowerCase()}`)].join(' ');
    const found: Array<{ id: string; threadId: string }> = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call(() => api.listMessages(query, pageToken));
      found.push(...page.messages);
      pageToken = page.nextPageToken;
    } while (pageToken);
    // Gmail lists newest first; tickets read better built oldest first.
    for (const ref of found.reverse()) await this.ingest(api, { ...ref, labelIds: ['INBOX'] });
    await this.save({
      cursor: historyId,
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
  const excluded = new Set(excludedLabels);
  const seen = new Set<string>();
  const arrivals: GmailMessageRef[] = [];
  const consider = (message: GmailMessageRef, gainedInbox: boolean) => {
    if (!gainedInbox || seen.has(message.id) || message.labelIds.some((label) => excluded.has(label))) return;
    seen.add(message.id);
    arrivals.push(message);
  };
  for (const record of records) {
    for (const message of record.messagesAdded) consider(message, message.labelIds.includes('INBOX'));
    for (const { message, labelIds } of record.labelsAdded) consider(message, labelIds.includes('INBOX'));
  }
  return arrivals;
}

/** historyIds are unsigned 64-bit decimals: compare as integers, not strings. */
function maxHistoryId(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  return BigInt(a) > BigInt(b) ? a : b;
}
