// A sync job: "bring this mailbox up to date". It names the mailbox only; the worker reads the
// mailbox's own cursor, so a duplicate, late or reordered job is harmless. A `message` job names one
// provider message too: one a sync could not bring in on its job's last attempt, parked in a message
// group of its own so the mailbox's other mail goes on; it reaches the dead-letter queue if it keeps
// failing, where an operator redrives it (`dlq redrive`).
import { createHash } from 'node:crypto';
import { InvalidInput, MailboxDisconnected } from '../errors.js';
import { ProviderMisconfigured, ProviderThrottled, ReauthorizationRequired } from '../provider-errors.js';
import type { MailboxOwner, QueuedJob } from '../ports.js';

/** `renew` and `resubscribe` come from Graph's lifecycle notifications: the webhook never calls Graph itself. */
export type SyncReason = 'push' | 'safety' | 'connect' | 'continue' | 'renew' | 'resubscribe' | 'message';

export interface SyncJob extends MailboxOwner {
  reason: SyncReason;
  /** When the provider published the notification that caused the job (push jobs). */
  notifiedAt?: string;
  /** How many times a throttled job was put back as a fresh job (see continueLater). */
  generation?: number;
  /** `message` jobs: the provider's id of the one message to bring in, and its thread when known. */
  providerMessageId?: string;
  providerThreadId?: string;
}

/** Gmail ids are hex, Graph's immutable ids base64url; either fits this with room to spare. */
const PROVIDER_ID = /^[A-Za-z0-9_=+/-]{1,512}$/;

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const REASONS: readonly SyncReason[] = ['push', 'safety', 'connect', 'continue', 'renew', 'resubscribe', 'message'];

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
  if (job.reason === 'message' && (typeof job.providerMessageId !== 'string' || !PROVIDER_ID.test(job.providerMessageId))) throw new InvalidInput('sync job: bad providerMessageId');
  if (job.providerThreadId !== undefined && (typeof job.providerThreadId !== 'string' || !PROVIDER_ID.test(job.providerThreadId))) throw new InvalidInput('sync job: bad providerThreadId');
  const generation = typeof job.generation === 'number' && Number.isInteger(job.generation) && job.generation >= 0 ? job.generation : 0;
  return {
    tenantId: job.tenantId,
    mailboxId: job.mailboxId,
    reason: job.reason as SyncReason,
    ...(job.notifiedAt ? { notifiedAt: job.notifiedAt } : {}),
    ...(generation ? { generation } : {}),
    ...(job.reason === 'message' ? { providerMessageId: job.providerMessageId } : {}),
    ...(job.reason === 'message' && job.providerThreadId ? { providerThreadId: job.providerThreadId } : {}),
  };
}

/** One queue message group per mailbox: a mailbox's syncs never overlap, and never block another's. */
export function syncGroupId(owner: MailboxOwner): string {
  return withinFifoLimit(`${owner.tenantId}.${owner.mailboxId}`);
}

/** `dedupKey` makes redeliveries of one cause (a Pub/Sub message id, a schedule slot) one job. */
export function queuedSyncJob(job: SyncJob, dedupKey: string): QueuedJob {
  return { groupId: syncGroupId(job), deduplicationId: withinFifoLimit(dedupKey), body: JSON.stringify(job) };
}

/** SQS's limit for group and deduplication ids. */
const SQS_FIFO_ID_MAX = 128;

/**
 * The id as it is while it fits SQS's 128 characters, else its digest (two 64-character ids with their
 * separator are 129): still one id per mailbox or cause, and readable whenever it can be.
 */
export function withinFifoLimit(id: string): string {
  return id.length <= SQS_FIFO_ID_MAX ? id : `sha256.${createHash('sha256').update(id).digest('hex')}`;
}

/**
 * One message parked by a mailbox's sync: a group of its own (the mailbox's, plus a digest of the
 * message id, within SQS's 128 characters), so it never holds back the mailbox's other jobs; parking
 * the same message again within SQS's deduplication window is one job.
 */
export function parkedMessageJob(owner: MailboxOwner, message: { id: string; threadId?: string }): QueuedJob {
  const digest = createHash('sha256').update(`${owner.tenantId}\n${owner.mailboxId}\n${message.id}`).digest('hex');
  const job: SyncJob = { tenantId: owner.tenantId, mailboxId: owner.mailboxId, reason: 'message', providerMessageId: message.id, ...(message.threadId ? { providerThreadId: message.threadId } : {}) };
  return { groupId: `${syncGroupId(owner).slice(0, 100)}~${digest.slice(0, 24)}`, deduplicationId: `park-${digest}`, body: JSON.stringify(job) };
}

/**
 * A message's failure a sync may park it for: not a rate limit, a lost grant, a refused app credential
 * or a disconnect, which hold for the whole mailbox.
 */
export function parkable(error: unknown): boolean {
  return !(
    error instanceof ReauthorizationRequired ||
    error instanceof ProviderMisconfigured ||
    error instanceof MailboxDisconnected ||
    (error instanceof ProviderThrottled && error.rateLimited)
  );
}
