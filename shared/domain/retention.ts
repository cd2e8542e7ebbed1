// Retention: a disconnected mailbox's data is gone from active systems by its deadline. Three layers,
// each enough on its own: TTL on every item (stamped early, since DynamoDB deletes expired items
// within about two days), a stream consumer deleting the objects of each item the TTL removed, and a
// backstop sweep that removes everything of a mailbox before its deadline whatever happened to the
// other two. An erase request runs the sweep for one mailbox at once. Live mailboxes are not
// retention's: the objects of their unfinished ingestions go through the orphan sweep (orphans.ts).
//
// An ingestion reads its mailbox once, at its start, and may write minutes later: one that started
// before a disconnect writes after the stamping (its items without a TTL), one that started before an
// erase writes after the purge. So each runs once more after LATE_WRITE_GRACE_MINUTES (the mailbox's
// `recheckAt`, which the sweep walks): the stamping then finds those items, the second purge removes
// them. A closed account's own records (access log, restriction list, consent records) are stamped
// at the closure and swept by its deadline.
import { MailboxDisconnected, NotFound } from './errors.js';
import type { MailboxRecord } from './model.js';
import { mailboxPrefix } from './object-keys.js';
import { listTombstones, writeTombstone } from './tombstones.js';
import type { BlobStore, Clock, KeyService, RetentionRepository, TableSafeguards, TenantKeyLifecycle, TicketRepository } from './ports.js';
import { replayRequesterErasures } from './requester-journal.js';

type RequesterErasureReplay = Awaited<ReturnType<typeof replayRequesterErasures>>;

export interface RetentionDeps {
  repo: TicketRepository;
  retention: RetentionRepository;
  blobs: BlobStore;
  clock: Clock;
  /** Ends a provider mailbox's connection at the provider (stop the watch, revoke the token). */
  releaseProvider?: (mailbox: MailboxRecord) => Promise<void>;
}

/** The promise: never more than 30 days. */
export const MAX_RETENTION_DAYS = 30;
/** DynamoDB's TTL is best effort, typically within 48 hours: items expire this much before the deadline. */
export const TTL_LEAD_DAYS = 3;
/** How often the backstop sweep runs; it purges what falls due before its next run plus one day. */
export const SWEEP_INTERVAL_HOURS = 24;
/**
 * Longer than any ingestion runs, so nothing that read a mailbox before its disconnect still writes
 * after this: the functions that ingest stop at Lambda's 15 minutes.
 */
export const LATE_WRITE_GRACE_MINUTES = 60;

const DAY_MS = 24 * 3600 * 1000;

/**
 * Marks a mailbox disconnected with its deadline; reads exclude it from this moment. Idempotent: a
 * repeat keeps the earlier deadline and finishes a stamping that stopped part way.
 */
export async function disconnectMailbox(deps: RetentionDeps, tenantId: string, mailboxId: string, retentionDays = MAX_RETENTION_DAYS): Promise<MailboxRecord> {
  const { mailbox } = await markDisconnected(deps, tenantId, mailboxId, retentionDays);
  if (!mailbox.purgedAt) await stampMailbox(deps, mailbox);
  return mailbox;
}

async function markDisconnected(deps: RetentionDeps, tenantId: string, mailboxId: string, retentionDays: number): Promise<{ mailbox: MailboxRecord; fresh: boolean }> {
  const days = Math.min(Math.max(1, Math.floor(retentionDays)), MAX_RETENTION_DAYS);
  const mailbox = await deps.repo.getMailbox(tenantId, mailboxId);
  if (!mailbox) throw new NotFound(`mailbox ${mailboxId} not found`);
  if (mailbox.status === 'disconnected' && mailbox.purgeBy) return { mailbox, fresh: false }; // an earlier deadline stands
  if (mailbox.connection && deps.releaseProvider) await deps.releaseProvider(mailbox);
  const now = deps.clock.now();
  const disconnected: MailboxRecord = {
    ...mailbox,
    // The tokens go at once; the rest of the connection (ids and dates) stays as the tombstone's.
    ...(mailbox.connection ? { connection: withoutCredentials(mailbox.connection) } : {}),
    status: 'disconnected',
    disconnectedAt: now.toISOString(),
    purgeBy: new Date(now.getTime() + days * DAY_MS).toISOString(),
    recheckAt: afterGrace(now),
  };
  await deps.repo.putMailbox(disconnected);
  return { mailbox: disconnected, fresh: true };
}

function afterGrace(now: Date): string {
  return new Date(now.getTime() + LATE_WRITE_GRACE_MINUTES * 60_000).toISOString();
}

function withoutRecheck(mailbox: MailboxRecord): MailboxRecord {
  const { recheckAt: _done, ...rest } = mailbox;
  return rest;
}

function withoutCredentials(connection: NonNullable<MailboxRecord['connection']>): NonNullable<MailboxRecord['connection']> {
  const { sealedCredentials: _dropped, ...rest } = connection;
  return rest;
}

/**
 * Sets `expiresAt` on every item of the mailbox, early enough for the TTL to land before purgeBy.
 * Resumable; returns how many items it stamped (those already stamped as early are not counted).
 */
export async function stampMailbox(deps: RetentionDeps, mailbox: MailboxRecord): Promise<number> {
  if (!mailbox.purgeBy) throw new MailboxDisconnected(`mailbox ${mailbox.mailboxId} has no purge deadline`);
  const expiresAt = ttlFor(mailbox.purgeBy, deps.clock.now());
  let stamped = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.retention.listMailboxItems(mailbox.tenantId, mailbox.mailboxId, cursor);
    stamped += await deps.retention.setExpiry(page.items, expiresAt);
    cursor = page.cursor;
  } while (cursor);
  return stamped;
}

export function ttlFor(purgeBy: string, now: Date): number {
  const target = Date.parse(purgeBy) - TTL_LEAD_DAYS * DAY_MS;
  return Math.floor(Math.max(target, now.getTime()) / 1000);
}

/** The object keys a deleted item pointed at (raw message, body, attachment bytes). */
export function objectKeysOf(image: Record<string, unknown>): string[] {
  return ['rawKey', 'bodyKey', 'blobKey'].map((field) => image[field]).filter((key): key is string => typeof key === 'string' && key.length > 0);
}

/** Called with the old images of items the TTL deleted: their objects go too, every version. */
export async function purgeObjectsOfDeletedItems(deps: Pick<RetentionDeps, 'blobs'>, images: Array<Record<string, unknown>>): Promise<number> {
  const keys = [...new Set(images.flatMap(objectKeysOf))];
  if (keys.length > 0) await deps.blobs.delete(keys);
  return keys.length;
}

export interface SweepReport {
  /** Mailboxes purged at their deadline, and what they still held. */
  mailboxes: number;
  items: number;
  objects: number;
  /** Rechecks run after the grace (a stamping or a purge once more), and the items and objects they found. */
  rechecks: number;
  lateWrites: number;
  /** Closed accounts whose own records were purged at the closure's deadline, and how many records. */
  tenants: number;
  tenantRecords: number;
}

/**
 * The backstop: every mailbox due before the next sweep plus a day loses all its items and objects
 * now, and every closed account its own records. Items or objects found at a deadline mean the TTL or
 * the stream fell behind (a metric in AWS). Each disconnect and purge is also rechecked once, after
 * the grace, for what ingestions already under way wrote after it.
 */
export async function sweepDueMailboxes(deps: RetentionDeps, intervalHours = SWEEP_INTERVAL_HOURS): Promise<SweepReport> {
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() + intervalHours * 3600 * 1000 + DAY_MS);
  const report: SweepReport = { mailboxes: 0, items: 0, objects: 0, rechecks: 0, lateWrites: 0, tenants: 0, tenantRecords: 0 };
  for (const mailbox of await deps.retention.listPurgeDue(cutoff)) {
    const recheckDue = mailbox.recheckAt !== undefined && Date.parse(mailbox.recheckAt) <= now.getTime();
    if (!mailbox.purgedAt && mailbox.purgeBy && Date.parse(mailbox.purgeBy) <= cutoff.getTime()) {
      const removed = await purgeMailboxNow(deps, mailbox);
      report.mailboxes++;
      report.items += removed.items;
      report.objects += removed.objects;
    } else if (recheckDue && mailbox.purgedAt) {
      const removed = await purgeMailboxNow(deps, mailbox, { recheck: true });
      report.rechecks++;
      report.lateWrites += removed.items + removed.objects;
    } else if (recheckDue) {
      report.rechecks++;
      report.lateWrites += await stampMailbox(deps, mailbox);
      await deps.repo.putMailbox(withoutRecheck(mailbox));
    }
  }
  for (const closure of await deps.retention.listTenantClosuresDue(cutoff)) {
    report.tenants++;
    report.tenantRecords += await deps.retention.deleteTenantRecords(closure.tenantId);
    await deps.retention.markTenantPurged(closure, now.toISOString());
  }
  return report;
}

/** An early deletion request: disconnect if needed, then delete everything at once, not by TTL. */
export async function eraseMailbox(deps: RetentionDeps, tenantId: string, mailboxId: string): Promise<{ items: number; objects: number }> {
  const { mailbox, fresh } = await markDisconnected(deps, tenantId, mailboxId, MAX_RETENTION_DAYS);
  // Stamped first, so a purge that stops part way still leaves everything to the TTL.
  if (fresh) await stampMailbox(deps, mailbox);
  return purgeMailboxNow(deps, mailbox);
}

async function purgeMailboxNow(
  deps: RetentionDeps,
  mailbox: MailboxRecord,
  options: { purgedAt?: string; recheck?: boolean } = {},
): Promise<{ items: number; objects: number }> {
  let items = 0;
  let page;
  // Always the first page again: deleting shifts what a cursor would point at.
  while ((page = await deps.retention.listMailboxItems(mailbox.tenantId, mailbox.mailboxId)).items.length > 0) {
    await deps.retention.deleteItems(page.items);
    items += page.items.length;
  }
  const keys: string[] = [];
  for await (const { key } of deps.blobs.list(mailboxPrefix(mailbox.tenantId, mailbox.mailboxId))) keys.push(key);
  if (keys.length > 0) await deps.blobs.delete(keys);
  // The mailbox record stays (ids and dates only); a tombstone outside the backed-up table makes
  // sure a restore can't bring the data back. A first purge is rechecked after the grace.
  const now = deps.clock.now();
  const purgedAt = options.purgedAt ?? mailbox.purgedAt ?? now.toISOString();
  await writeTombstone(deps.blobs, mailbox, purgedAt);
  await deps.repo.putMailbox(options.recheck ? withoutRecheck({ ...mailbox, purgedAt }) : { ...mailbox, purgedAt, recheckAt: afterGrace(now) });
  return { items, objects: keys.length };
}

/**
 * After restoring the table from a backup: every purged mailbox is purged again and its record set
 * back to purged, and every journaled requester erasure is carried out again. Safe to run any number
 * of times.
 */
export interface ReapplyReport {
  tombstones: number;
  items: number;
  objects: number;
  /** The requester erasures replayed (requester-journal.ts) and what they found again. */
  requesterErasures: RequesterErasureReplay;
  /** What the restored table had lost (AWS); absent where the table has no such settings (locally). */
  table?: Awaited<ReturnType<TableSafeguards['ensure']>>;
}

/**
 * After a table restore: first the TTL and the stream come back (a restore carries neither, and the
 * purge depends on both), then every tombstone is applied again, so nothing purged returns, then
 * every requester erasure (which needs the tenant keys: it redacts and re-seals restored records).
 */
export async function reapplyTombstones(deps: RetentionDeps & { table?: TableSafeguards; keys: KeyService }): Promise<ReapplyReport> {
  const report: Omit<ReapplyReport, 'requesterErasures'> = { tombstones: 0, items: 0, objects: 0 };
  if (deps.table) report.table = await deps.table.ensure();
  for await (const tombstone of listTombstones(deps.blobs)) {
    report.tombstones++;
    const restored = await deps.repo.getMailbox(tombstone.tenantId, tombstone.mailboxId);
    const mailbox: MailboxRecord = {
      ...(restored ?? { tenantId: tombstone.tenantId, mailboxId: tombstone.mailboxId, provider: 'local', createdAt: tombstone.disconnectedAt ?? tombstone.purgedAt }),
      status: 'disconnected',
      ...(tombstone.disconnectedAt ? { disconnectedAt: tombstone.disconnectedAt } : {}),
      ...(tombstone.purgeBy ? { purgeBy: tombstone.purgeBy } : {}),
    };
    const removed = await purgeMailboxNow(deps, mailbox, { purgedAt: tombstone.purgedAt });
    report.items += removed.items;
    report.objects += removed.objects;
  }
  // After the tombstones: an erasure's records in a mailbox purged since are already gone with it.
  const requesterErasures = await replayRequesterErasures({ repo: deps.repo, blobs: deps.blobs, keys: deps.keys });
  return { ...report, requesterErasures };
}

/**
 * Early deletion of a whole account: every mailbox erased at once (not by TTL), the tenant's access
 * log and restriction list deleted, and its keys destroyed — so even a backup copy is unreadable. The
 * mailbox records stay as tombstones of ids and dates.
 */
export async function eraseTenant(
  deps: RetentionDeps & { tenantKeys: TenantKeyLifecycle },
  tenantId: string,
): Promise<{ mailboxes: number; items: number; objects: number; keysDestroyedBy: string }> {
  const report = { mailboxes: 0, items: 0, objects: 0, keysDestroyedBy: '' };
  for (const mailbox of await deps.repo.listMailboxes(tenantId)) {
    const removed = mailbox.purgedAt ? { items: 0, objects: 0 } : await eraseMailbox(deps, tenantId, mailbox.mailboxId);
    report.mailboxes++;
    report.items += removed.items;
    report.objects += removed.objects;
  }
  report.items += await deps.retention.deleteTenantRecords(tenantId);
  report.keysDestroyedBy = (await deps.tenantKeys.destroyTenantKeys(tenantId)).destroyedBy;
  return report;
}

/**
 * Account closure: every mailbox disconnected (their data hidden now, deleted within 30 days) and the
 * tenant's keys destroyed, so that every copy of its encrypted data — backups included — is unreadable.
 */
export async function closeTenant(
  deps: RetentionDeps & { tenantKeys: TenantKeyLifecycle },
  tenantId: string,
): Promise<{ mailboxes: number; keysDestroyedBy: string; recordsPurgeBy: string }> {
  const now = deps.clock.now();
  // Recorded first: from here the backstop deletes the account's own records by the deadline,
  // whatever happens to the rest of this run. A repeat keeps the first closure's deadline.
  const closure = await deps.retention.recordTenantClosure({
    tenantId,
    closedAt: now.toISOString(),
    purgeBy: new Date(now.getTime() + MAX_RETENTION_DAYS * DAY_MS).toISOString(),
  });
  const mailboxes = await deps.repo.listMailboxes(tenantId);
  for (const mailbox of mailboxes) await disconnectMailbox(deps, tenantId, mailbox.mailboxId);
  await deps.retention.setTenantRecordsExpiry(tenantId, ttlFor(closure.purgeBy, now));
  const { destroyedBy } = await deps.tenantKeys.destroyTenantKeys(tenantId);
  return { mailboxes: mailboxes.length, keysDestroyedBy: destroyedBy, recordsPurgeBy: closure.purgeBy };
}
