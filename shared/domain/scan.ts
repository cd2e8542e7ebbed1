// Scanning an attachment that is already stored (encrypted) and held: the AWS scanner function runs
// it for every attachment ingested `pending` (and hourly for those the stream left pending, below),
// and `attachments rescan` for every held one. The bytes
// are decrypted on the fly and streamed to the scanner, never buffered whole.
//
// Idempotent: only a held attachment (pending or unscanned) with stored bytes is scanned, so a
// re-delivered stream record for a decided attachment does nothing. The record is read again
// (consistently) just before a verdict is written, so a scan never resurrects a deleted attachment
// nor overwrites a newer write of it with a verdict about other bytes.
import type { ConsentStore } from './consent/store.js';
import { BlobNotFound } from './errors.js';
import type { AttachmentRecord, ScanStatus } from './model.js';
import type { BlobStore, Clock, KeyService, Scanner, TicketRepository, UnscannedReason } from './ports.js';

export interface ScanDeps {
  repo: Pick<TicketRepository, 'listAttachments' | 'updateAttachmentScan'>;
  blobs: Pick<BlobStore, 'get' | 'delete'>;
  keys: Pick<KeyService, 'decryptStream'>;
  scanner: Scanner;
}

/** Reasons that come from the scanner, not from the content: another attempt may well succeed. */
const SCANNER_TROUBLE: ReadonlySet<UnscannedReason> = new Set(['scanner_unavailable', 'scanner_timeout', 'scanner_error']);

export type ScanOutcome =
  | { outcome: 'clean' }
  /** Recorded infected, bytes deleted. */
  | { outcome: 'infected'; signature: string }
  /**
   * No verdict: still held, never served. `retry` when the scanner was the trouble (the record is left
   * as it was): another attempt may succeed. Otherwise no attempt would: the content cannot be fully
   * inspected (encrypted, over a limit; the record now says `unscanned` with that reason), or the
   * record points at bytes that are gone (`bytes_missing`; left as it was).
   */
  | { outcome: 'held'; reason: UnscannedReason | 'no_verdict' | 'bytes_missing'; retry: boolean }
  /**
   * Nothing to do: `decided` (already clean or infected, e.g. a re-delivered stream record), `gone`
   * (deleted meanwhile), `superseded` (rewritten during the scan with other bytes, or decided by
   * another scan; such a write is scanned on its own), `no_bytes` (held without stored bytes).
   */
  | { outcome: 'skipped'; reason: 'decided' | 'gone' | 'superseded' | 'no_bytes' };

/** Which attachment: its ids. What it says about its scan is read from the table, never trusted from the caller. */
export type AttachmentRef = Pick<AttachmentRecord, 'tenantId' | 'ticketId' | 'messageId' | 'attachmentId'>;

export function isHeld(attachment: Pick<AttachmentRecord, 'scan'>): boolean {
  return attachment.scan === 'pending' || attachment.scan === 'unscanned';
}

export async function scanStoredAttachment(deps: ScanDeps, attachment: AttachmentRef): Promise<ScanOutcome> {
  // The caller's copy may be stale (a stream record re-delivered after the verdict): the table decides.
  const stored = await reread(deps, attachment);
  if (!stored) return { outcome: 'skipped', reason: 'gone' };
  if (!isHeld(stored)) return { outcome: 'skipped', reason: 'decided' };
  const blobKey = stored.blobKey;
  if (!blobKey) return { outcome: 'skipped', reason: 'no_bytes' };

  let verdict;
  try {
    const encrypted = await deps.blobs.get(blobKey);
    const decrypt = deps.keys.decryptStream({ tenantId: stored.tenantId, mailboxId: stored.mailboxId, purpose: 'attachment' });
    encrypted.on('error', (error) => decrypt.destroy(error));
    verdict = await deps.scanner.scan(encrypted.pipe(decrypt));
  } catch (error) {
    if (!(error instanceof BlobNotFound)) throw error;
    // The bytes went after the record was read: deleted with the attachment, or by an infected
    // verdict that an ingest retry's re-put of the pending item then overwrote. Never served either way.
    const current = await reread(deps, stored);
    if (!current) return { outcome: 'skipped', reason: 'gone' };
    if (!sameHeldWrite(current, stored)) return { outcome: 'skipped', reason: 'superseded' };
    return { outcome: 'held', reason: 'bytes_missing', retry: false };
  }

  if (verdict.status === 'pending') return { outcome: 'held', reason: 'no_verdict', retry: true };
  if (verdict.status === 'unscanned' && SCANNER_TROUBLE.has(verdict.reason)) return { outcome: 'held', reason: verdict.reason, retry: true };

  // Read again just before writing: the verdict is written onto the record as it is now (a TTL set
  // meanwhile stays), never onto a deleted one, never onto one that a scan already decided.
  const current = await reread(deps, stored);
  if (!current) return { outcome: 'skipped', reason: 'gone' };
  if (!sameHeldWrite(current, stored)) return { outcome: 'skipped', reason: 'superseded' };
  const { scanDetail: _previousDetail, ...rest } = current;

  if (verdict.status === 'infected') {
    // Record first: from this write on the bytes are never served, even if the delete below fails
    // (then the call rejects; a retry finds the record decided, and the object, named by no item any
    // more, stays until the mailbox's objects are purged or an orphan sweep takes it).
    await deps.repo.updateAttachmentScan({ ...rest, scan: 'infected', scanDetail: verdict.signature, blobKey: null });
    await deps.blobs.delete([blobKey]);
    return { outcome: 'infected', signature: verdict.signature };
  }
  if (verdict.status === 'unscanned') {
    await deps.repo.updateAttachmentScan({ ...rest, scan: 'unscanned', scanDetail: verdict.reason });
    return { outcome: 'held', reason: verdict.reason, retry: false };
  }
  await deps.repo.updateAttachmentScan({ ...rest, scan: 'clean' });
  return { outcome: 'clean' };
}

/** The status an attachment has after the outcome (for reports such as `attachments rescan`). */
export function statusAfter(outcome: ScanOutcome, before: ScanStatus): ScanStatus {
  if (outcome.outcome === 'clean') return 'clean';
  if (outcome.outcome === 'infected') return 'infected';
  if (outcome.outcome === 'held' && !outcome.retry && outcome.reason !== 'bytes_missing') return 'unscanned';
  return before;
}

/** A consistent read of the attachment as stored now (listAttachments reads the table, not an index). */
async function reread(deps: ScanDeps, attachment: AttachmentRef): Promise<AttachmentRecord | undefined> {
  const attachments = await deps.repo.listAttachments(attachment.tenantId, attachment.ticketId);
  return attachments.find((a) => a.attachmentId === attachment.attachmentId && a.messageId === attachment.messageId);
}

/**
 * Whether the stored record is still the held write that was scanned: same bytes, still held. An
 * ingest retry re-putting the same item is fine (same key, same plaintext); a decided record is left
 * alone (another scan got there first).
 */
function sameHeldWrite(current: AttachmentRecord, scanned: AttachmentRecord): boolean {
  return isHeld(current) && current.blobKey === scanned.blobKey;
}

// ── the hourly backstop ──────────────────────────────────────────────────────
// The stream decides a pending attachment within seconds, but not always: a batch that failed every
// retry (no definitions yet after a deploy, clamd crashing) goes to the failure queue, and items
// written before the scanner existed never reach it. Such an attachment would stay pending forever:
// never served, never delivered either. The hourly task takes over what the stream had its chance at.

export interface PendingRescanDeps extends ScanDeps {
  repo: ScanDeps['repo'] & Pick<TicketRepository, 'listHeldAttachments' | 'listMessages'>;
  /** Every tenant: the consent store registers each one (tenant-lifecycle creates them there). */
  tenants: Pick<ConsentStore, 'listTenants'>;
  clock: Clock;
}

export interface PendingRescanOptions {
  /**
   * How long after its message was received a pending attachment is left to the stream. The
   * attachment record has no timestamp of its own; its message's `receivedAt` is set when the
   * ingestion starts (or when the mail was taken in, earlier still), never after the attachment item
   * is written, so the grace can only end early, never late. Ending early costs at most a scan that
   * runs beside the stream's, which scanStoredAttachment makes harmless.
   */
  graceMs: number;
  /** Whether another scan may start (the run's time budget); asked before every scan. */
  mayStart(): boolean;
  /** False when no scanner is available this run: the attachments due are counted, not scanned. */
  scanning: boolean;
  /** Told of every scan as it ends (for logs and metrics), with its outcome or what it threw. */
  onScanned(attachment: AttachmentRef, result: ScanOutcome | { outcome: 'error'; error: unknown }): void;
}

export interface PendingRescanReport {
  /** Tenants whose held attachments were listed. */
  tenants: number;
  /** Scanned to a verdict: clean, infected, or recorded as unscanned (cannot be inspected). */
  rescanned: number;
  /** Due (pending past the grace) and still pending after the run: no verdict, bytes missing, an error, no scanner, no time left. */
  stillPending: number;
  /** Pending, but within the grace: the stream's. */
  recent: number;
  /** Pending with no message item: an ingestion not complete (its retry writes the item again, which the stream sees). */
  withoutMessage: number;
  /** False when the time budget ran out: some due attachments, maybe some tenants, were not gone through. */
  complete: boolean;
}

const HOUR_MS = 3_600_000;

/**
 * Scans, through scanStoredAttachment, every held attachment that is `pending` and past the grace,
 * tenant by tenant. `unscanned` ones are left alone on purpose: they were inspected and cannot be
 * (an encrypted archive, a file over a limit); scanning them every hour would only repeat that.
 * `attachments rescan` is the operator's way to try those again (e.g. after a limit was raised).
 */
export async function rescanPendingAttachments(deps: PendingRescanDeps, options: PendingRescanOptions): Promise<PendingRescanReport> {
  const now = deps.clock.now().getTime();
  const report: PendingRescanReport = { tenants: 0, rescanned: 0, stillPending: 0, recent: 0, withoutMessage: 0, complete: true };
  const tenantIds = (await deps.tenants.listTenants()).map((t) => t.tenantId).sort();
  // Each hour starts at another tenant, so a run that keeps running out of time still reaches every tenant.
  const first = tenantIds.length ? Math.floor(now / HOUR_MS) % tenantIds.length : 0;
  const ordered = [...tenantIds.slice(first), ...tenantIds.slice(0, first)];

  let outOfTime = false;
  for (const tenantId of ordered) {
    if (outOfTime) break;
    report.tenants++;
    for (const attachment of await duePendingAttachments(deps, tenantId, now - options.graceMs, report)) {
      if (options.scanning && !outOfTime && !options.mayStart()) outOfTime = true;
      if (!options.scanning || outOfTime) {
        report.stillPending++; // not tried this run; the next one will
        continue;
      }
      let outcome: ScanOutcome;
      try {
        outcome = await scanStoredAttachment(deps, attachment);
      } catch (error) {
        // DynamoDB, S3 or KMS trouble with this one (say its tenant's key is being deleted): the
        // others are not held back by it; the next hour tries it again.
        options.onScanned(refOf(attachment), { outcome: 'error', error });
        report.stillPending++;
        continue;
      }
      options.onScanned(refOf(attachment), outcome);
      if (outcome.outcome === 'clean' || outcome.outcome === 'infected') report.rescanned++;
      else if (outcome.outcome === 'held') {
        if (statusAfter(outcome, 'pending') === 'unscanned') report.rescanned++;
        else report.stillPending++;
      }
      // skipped: decided or deleted meanwhile (the stream got there first, or the message was erased).
    }
  }
  report.complete = !outOfTime && report.tenants === ordered.length;
  return report;
}

/** The tenant's held attachments that are pending, have bytes, and whose message was received before `dueBefore`. */
async function duePendingAttachments(deps: PendingRescanDeps, tenantId: string, dueBefore: number, report: PendingRescanReport): Promise<AttachmentRecord[]> {
  // The index is eventually consistent; scanStoredAttachment reads each record again before acting.
  // Only `pending`: an `unscanned` attachment was inspected and cannot be; the hour would change nothing.
  const pending = (await deps.repo.listHeldAttachments(tenantId)).filter((a) => a.tenantId === tenantId && a.scan === 'pending' && a.blobKey);
  const receivedAt = new Map<string, Map<string, number>>();
  const due: AttachmentRecord[] = [];
  for (const attachment of pending) {
    let messages = receivedAt.get(attachment.ticketId);
    if (!messages) {
      messages = new Map((await deps.repo.listMessages(tenantId, attachment.ticketId)).map((m) => [m.messageId, Date.parse(m.receivedAt)]));
      receivedAt.set(attachment.ticketId, messages);
    }
    const received = messages.get(attachment.messageId);
    if (received === undefined || Number.isNaN(received)) report.withoutMessage++;
    else if (received > dueBefore) report.recent++;
    else due.push(attachment);
  }
  return due;
}

function refOf(a: AttachmentRef): AttachmentRef {
  return { tenantId: a.tenantId, ticketId: a.ticketId, messageId: a.messageId, attachmentId: a.attachmentId };
}
