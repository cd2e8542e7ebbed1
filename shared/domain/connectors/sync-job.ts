// A sync job: "bring this mailbox up to date". It names the mailbox only; the worker reads the
// mailbox's own cursor, so a duplicate, late or reordered job is harmless.
import { InvalidInput } from '../errors.js';
import type { MailboxOwner, QueuedJob } from '../ports.js';

/** `renew` and `resubscribe` come from Graph's lifecycle notifications: the webhook never calls Graph itself. */
export type SyncReason = 'push' | 'safety' | 'connect' | 'continue' | 'renew' | 'resubscribe';

export interface SyncJob extends MailboxOwner {
  reason: SyncReason;
  /** When the provider published the notification that caused the job (push jobs). */
  notifiedAt?: string;
  /** How many times a throttled job was put back as a fresh job (see continueLater). */
  generation?: number;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const REASONS: readonly SyncReason[] = ['push', 'safety', 'connect', 'continue', 'renew', 'resubscribe'];

export function parseSyncJob(body: string): SyncJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InvalidInput('sync job is not JSON');
  }
  const job = (value ?? {}) as Partial<SyncJob>;
  if (typeof job.tenantId !== 'string' || !SAFE_ID.test(job.tenantId)) throw new InvalidInput('sync job: bad tenantId');
  if (typeof job.mailboxId !== 'string' || !SAFE_ID.test(job.mailboxId)) throw new InvalidInput('sync job: bad mailboxId');
  if (!REASONS.includes(job.reason as SyncReason)) throw new InvalidInput('sync job: bad reason');
  if (job.notifiedAt !== undefined && (typeof job.notifiedAt !== 'string' || Number.isNaN(Date.parse(job.notifiedAt)))) {
    throw new InvalidInput('sync job: bad notifiedAt');
  }
  const generation = typeof job.generation === 'number' && Number.isInteger(job.generation) && job.generation >= 0 ? job.generation : 0;
  return {
    tenantId: job.tenantId,
    mailboxId: job.mailboxId,
    reason: job.reason as SyncReason,
    ...(job.notifiedAt ? { notifiedAt: job.notifiedAt } : {}),
    ...(generation ? { generation } : {}),
  };
}

/** One queue message group per mailbox: a mailbox's syncs never overlap, and never block another's. */
export function syncGroupId(owner: MailboxOwner): string {
  return `${owner.tenantId}.${owner.mailboxId}`;
}

/** `dedupKey` makes redeliveries of one cause (a Pub/Sub message id, a schedule slot) one job. */
export function queuedSyncJob(job: SyncJob, dedupKey: string): QueuedJob {
  return { groupId: syncGroupId(job), deduplicationId: dedupKey, body: JSON.stringify(job) };
}
