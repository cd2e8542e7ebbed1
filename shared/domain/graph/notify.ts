// Graph's webhook use-case (change and lifecycle notifications): answer the validation handshake,
// accept only items that name a known subscription and carry its clientState, enqueue sync jobs,
// answer 202 well inside Graph's 3 seconds. It never calls Graph.
//
// The subscription's directory entry is the whole check: it carries the clientState digest, exists
// from subscribe until the disconnect releases it (before the mailbox is marked disconnected), and is
// replaced when the subscription is. A mailbox awaiting reauthorization keeps it; the sync worker,
// which reads the mailbox anyway, skips its jobs.
import { createHash, timingSafeEqual } from 'node:crypto';
import { queuedSyncJob, type SyncReason } from '../connectors/sync-job.js';
import type { JobQueue, MailboxDirectory, MailboxOwner, Metrics, TicketRepository } from '../ports.js';

export interface GraphNotifyDeps {
  directory: Pick<MailboxDirectory, 'findAddress'>;
  /** Read only for subscription entries without the clientState digest (claimed by an older version). */
  repo: Pick<TicketRepository, 'getMailbox'>;
  queue: JobQueue;
  metrics: Metrics;
}

export interface GraphNotifyRequest {
  route: 'notifications' | 'lifecycle';
  validationToken?: string;
  body: string;
}

export type GraphNotifyResponse =
  | { status: 200; contentType: 'text/plain'; body: string }
  | { status: 202; accepted: number; rejected: number }
  | { status: 400; reason: string };

interface NotificationItem {
  subscriptionId?: unknown;
  clientState?: unknown;
  changeType?: unknown;
  resource?: unknown;
  resourceData?: { id?: unknown };
  lifecycleEvent?: unknown;
  subscriptionExpirationDateTime?: unknown;
}

const LIFECYCLE_REASONS: Record<string, SyncReason> = {
  // Graph needs the subscription renewed (with a fresh token) or it stops delivering.
  reauthorizationRequired: 'renew',
  subscriptionRemoved: 'resubscribe',
  // Notifications were dropped: a delta round catches up.
  missed: 'push',
};

/**
 * What the mailbox keeps of a subscription's clientState. The clientState is 320 random bits minted at
 * subscribe time and no personal data, so a plain SHA-256 is as unguessable as a keyed index — and
 * the webhook needs no key: no KMS client, no KMS round trip at cold start.
 */
export const clientStateDigest = (clientState: string) => `sha256:${sha256(clientState)}`;

/** The subscription's key in the directory; subscription ids are Graph GUIDs, not personal data. */
export const subscriptionKey = (subscriptionId: string) => `subscription.${subscriptionId}`;

export async function acceptGraphNotification(deps: GraphNotifyDeps, request: GraphNotifyRequest): Promise<GraphNotifyResponse> {
  // Graph URL-encodes the token; the framework hands it over decoded, to be echoed as is.
  if (request.validationToken !== undefined) return { status: 200, contentType: 'text/plain', body: request.validationToken };

  const items = parseItems(request.body);
  if (!items) return { status: 400, reason: 'not a Graph notification collection' };
  let accepted = 0;
  let rejected = 0;
  for (const item of items) {
    const job = await jobFor(deps, request.route, item);
    if (!job) {
      rejected++;
      continue;
    }
    await deps.queue.enqueue(job);
    accepted++;
  }
  if (accepted) deps.metrics.count('graph.notification_accepted', accepted);
  if (rejected) deps.metrics.count('graph.notification_rejected', rejected);
  return { status: 202, accepted, rejected };
}

function parseItems(body: string): NotificationItem[] | undefined {
  try {
    const parsed = JSON.parse(body) as { value?: unknown };
    if (!Array.isArray(parsed.value) || parsed.value.length > 1000) return undefined;
    return parsed.value.filter((item): item is NotificationItem => typeof item === 'object' && item !== null);
  } catch {
    return undefined;
  }
}

async function jobFor(deps: GraphNotifyDeps, route: GraphNotifyRequest['route'], item: NotificationItem) {
  if (typeof item.subscriptionId !== 'string' || typeof item.clientState !== 'string' || item.subscriptionId.length > 128) return undefined;
  const entry = await deps.directory.findAddress('graph', subscriptionKey(item.subscriptionId));
  if (!entry) return undefined;
  const expected = entry.clientStateIndex ?? (await clientStateOfMailbox(deps, entry, item.subscriptionId));
  if (!expected || !constantTimeEqual(clientStateDigest(item.clientState), expected)) return undefined;
  const owner = { tenantId: entry.tenantId, mailboxId: entry.mailboxId };

  const lifecycle = typeof item.lifecycleEvent === 'string' ? item.lifecycleEvent : undefined;
  if (route === 'lifecycle' || lifecycle) {
    const reason = lifecycle ? LIFECYCLE_REASONS[lifecycle] : undefined;
    if (!reason) return undefined;
    const dedup = sha256(`${item.subscriptionId}\n${lifecycle}\n${String(item.subscriptionExpirationDateTime ?? '')}`);
    return queuedSyncJob({ ...owner, reason }, dedup);
  }
  const resourceId = typeof item.resourceData?.id === 'string' ? item.resourceData.id : String(item.resource ?? '');
  // SQS allows 128 characters: a hash of what makes the notification unique.
  const dedup = sha256(`${item.subscriptionId}\n${resourceId}\n${String(item.changeType ?? '')}`);
  return queuedSyncJob({ ...owner, reason: 'push' }, dedup);
}

/**
 * A subscription entry claimed before entries carried the digest: the mailbox has it. A disconnected
 * mailbox has none to offer (its entries are released first, and this covers a release cut short).
 */
async function clientStateOfMailbox(deps: GraphNotifyDeps, owner: MailboxOwner, subscriptionId: string): Promise<string | undefined> {
  const mailbox = await deps.repo.getMailbox(owner.tenantId, owner.mailboxId);
  if (!mailbox || mailbox.status === 'disconnected' || mailbox.connection?.subscriptionId !== subscriptionId) return undefined;
  return mailbox.connection.clientStateIndex;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
