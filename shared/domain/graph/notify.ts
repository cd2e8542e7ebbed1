// Graph's webhook use-case (change and lifecycle notifications): answer the validation handshake,
// accept only items that name a known subscription and carry its clientState, enqueue sync jobs,
// answer 202 well inside Graph's 3 seconds. It never calls Graph.
//
// The subscription's directory entry is the whole check: it carries the clientState digest, exists
// from subscribe until the disconnect releases it (before the mailbox is marked disconnected), and is
// replaced when the subscription is. A mailbox awaiting reauthorization keeps it; the sync worker,
// which reads the mailbox anyway, skips its jobs.
//
// A batch costs at most one lookup per distinct subscription (a few at a time, and none past the
// limit of unknown ones) and one job per mailbox and reason: a job names only the mailbox, so a
// second one for the same mailbox would sync nothing more. A request in which nothing authentic was
// found is refused with 401, as the Gmail push is.
import { createHash, timingSafeEqual } from 'node:crypto';
import { runPooled } from '../connectors/pool.js';
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

/**
 * 202: something authentic arrived (`accepted` items became jobs; `ignored` ones were authentic but
 * named no lifecycle event we act on). 401: nothing authentic, at least one item refused.
 */
export type GraphNotifyResponse =
  | { status: 200; contentType: 'text/plain'; body: string }
  | { status: 202; accepted: number; rejected: number; ignored?: number }
  | { status: 401; rejected: number }
  | { status: 400; reason: string };

export const GRAPH_NOTIFY_LIMITS = {
  /** Graph's tokens are a few dozen characters; the echo is no place for a large reflected body. */
  validationTokenChars: 1024,
  /** Items in one request: Graph sends at most 1,000. */
  items: 1000,
  /** Subscription lookups (strongly consistent GetItems), and then SendMessages, in flight at a time. */
  concurrency: 4,
  /**
   * Distinct subscriptions we do not hold that end a request's lookups: Graph itself names only
   * subscriptions it made for us (a stale one now and then), so a request naming this many is refused
   * as a whole, without reading the rest.
   */
  unknownSubscriptions: 8,
} as const;

interface NotificationItem {
  subscriptionId?: unknown;
  clientState?: unknown;
  changeType?: unknown;
  resource?: unknown;
  resourceData?: { id?: unknown };
  lifecycleEvent?: unknown;
  subscriptionExpirationDateTime?: unknown;
}

/** A subscription we hold: its mailbox and the digest of its clientState. */
interface KnownSubscription extends MailboxOwner {
  clientStateDigest: string;
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
  if (request.validationToken !== undefined) {
    if (request.validationToken.length > GRAPH_NOTIFY_LIMITS.validationTokenChars) return { status: 400, reason: 'validation token too long' };
    return { status: 200, contentType: 'text/plain', body: request.validationToken };
  }

  const items = parseItems(request.body);
  if (!items) return { status: 400, reason: 'not a Graph notification collection' };

  const subscriptions = await lookUpSubscriptions(deps, items);
  if (!subscriptions) return refuse(deps, items.length);

  // One job per mailbox and reason, deduplicated by every notification it stands for.
  const mailboxes = new Map<string, { owner: MailboxOwner; jobs: Map<SyncReason, Set<string>> }>();
  let accepted = 0;
  let rejected = 0;
  let ignored = 0;
  for (const item of items) {
    const subscription = authentic(item, subscriptions);
    if (!subscription) {
      rejected++;
      continue;
    }
    const cause = causeOf(request.route, item);
    if (!cause) {
      ignored++;
      continue;
    }
    const { tenantId, mailboxId } = subscription;
    const key = `${tenantId}\n${mailboxId}`;
    const mailbox = mailboxes.get(key) ?? { owner: { tenantId, mailboxId }, jobs: new Map<SyncReason, Set<string>>() };
    mailboxes.set(key, mailbox);
    mailbox.jobs.set(cause.reason, (mailbox.jobs.get(cause.reason) ?? new Set<string>()).add(cause.digest));
    accepted++;
  }
  if (!accepted && !ignored && rejected) return refuse(deps, rejected);

  // Mailboxes a few at a time; a mailbox's own jobs one after another, in the order of their first items.
  await runPooled([...mailboxes.values()], GRAPH_NOTIFY_LIMITS.concurrency, async ({ owner, jobs }) => {
    for (const [reason, causes] of jobs) await deps.queue.enqueue(queuedSyncJob({ ...owner, reason }, deduplicationId(causes)));
  });
  if (accepted) deps.metrics.count('graph.notification_accepted', accepted);
  if (rejected) deps.metrics.count('graph.notification_rejected', rejected);
  if (ignored) deps.metrics.count('graph.notification_unusable', ignored);
  return { status: 202, accepted, rejected, ...(ignored ? { ignored } : {}) };
}

function refuse(deps: Pick<GraphNotifyDeps, 'metrics'>, rejected: number): GraphNotifyResponse {
  deps.metrics.count('graph.notification_rejected', rejected);
  return { status: 401, rejected };
}

/** The collection's items; anything in it that is not an object stays in, to be rejected. */
function parseItems(body: string): NotificationItem[] | undefined {
  try {
    const parsed = JSON.parse(body) as { value?: unknown };
    if (!Array.isArray(parsed.value) || parsed.value.length > GRAPH_NOTIFY_LIMITS.items) return undefined;
    return parsed.value.map((item): NotificationItem => (typeof item === 'object' && item !== null ? (item as NotificationItem) : {}));
  } catch {
    return undefined;
  }
}

function hasCredentials(item: NotificationItem): item is NotificationItem & { subscriptionId: string; clientState: string } {
  return typeof item.subscriptionId === 'string' && typeof item.clientState === 'string' && item.subscriptionId.length <= 128;
}

/**
 * Each distinct subscription the items name, read once, a few at a time; undefined once
 * `unknownSubscriptions` of them turned out not to be ours (the rest are then not read at all).
 */
async function lookUpSubscriptions(deps: GraphNotifyDeps, items: NotificationItem[]): Promise<Map<string, KnownSubscription> | undefined> {
  const ids = [...new Set(items.filter(hasCredentials).map((item) => item.subscriptionId))];
  const known = new Map<string, KnownSubscription>();
  let unknown = 0;
  await runPooled(ids, GRAPH_NOTIFY_LIMITS.concurrency, async (id) => {
    if (unknown >= GRAPH_NOTIFY_LIMITS.unknownSubscriptions) return;
    const subscription = await subscriptionOf(deps, id);
    if (subscription) known.set(id, subscription);
    else unknown++;
  });
  return unknown >= GRAPH_NOTIFY_LIMITS.unknownSubscriptions ? undefined : known;
}

async function subscriptionOf(deps: GraphNotifyDeps, subscriptionId: string): Promise<KnownSubscription | undefined> {
  const entry = await deps.directory.findAddress('graph', subscriptionKey(subscriptionId));
  if (!entry) return undefined;
  const digest = entry.clientStateIndex ?? (await clientStateOfMailbox(deps, entry, subscriptionId));
  return digest ? { tenantId: entry.tenantId, mailboxId: entry.mailboxId, clientStateDigest: digest } : undefined;
}

/** The subscription an item proves it comes from: one we hold, whose clientState it carries. */
function authentic(item: NotificationItem, subscriptions: Map<string, KnownSubscription>): KnownSubscription | undefined {
  if (!hasCredentials(item)) return undefined;
  const subscription = subscriptions.get(item.subscriptionId);
  return subscription && constantTimeEqual(clientStateDigest(item.clientState), subscription.clientStateDigest) ? subscription : undefined;
}

/**
 * What an authentic item asks for, and the digest of what makes it unique (SQS allows 128 characters
 * for a deduplication id); undefined for a lifecycle event we do not act on.
 */
function causeOf(route: GraphNotifyRequest['route'], item: NotificationItem): { reason: SyncReason; digest: string } | undefined {
  const lifecycle = typeof item.lifecycleEvent === 'string' ? item.lifecycleEvent : undefined;
  if (route === 'lifecycle' || lifecycle) {
    // Own keys only: `constructor` or `toString` is no event of ours.
    const reason = lifecycle && Object.hasOwn(LIFECYCLE_REASONS, lifecycle) ? LIFECYCLE_REASONS[lifecycle] : undefined;
    if (!reason) return undefined;
    return { reason, digest: sha256(`${String(item.subscriptionId)}\n${lifecycle}\n${String(item.subscriptionExpirationDateTime ?? '')}`) };
  }
  const resourceId = typeof item.resourceData?.id === 'string' ? item.resourceData.id : String(item.resource ?? '');
  return { reason: 'push', digest: sha256(`${String(item.subscriptionId)}\n${resourceId}\n${String(item.changeType ?? '')}`) };
}

/**
 * A job's deduplication id: the digest of its one notification (as when each notification was a job
 * of its own), else the digest of all of them, sorted. Graph's retry of a batch is the same job; a
 * later batch for the same mailbox is a new one.
 */
function deduplicationId(causes: Set<string>): string {
  const digests = [...causes].sort();
  return digests.length === 1 ? (digests[0] as string) : sha256(digests.join('\n'));
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
