// Graph's webhook (functions/graph-notify/make-handler.ts and shared/domain/graph/notify.ts) against
// in-memory fakes of the directory, the mailbox store and the queue that count every call.
// Regressions: a request of forged items only was answered 202 (now 401, nothing enqueued); a batch
// of up to 1,000 items cost one strongly consistent read per item, one after another, and one SQS
// message per genuine item (now one read per distinct subscription, a few at a time and none past the
// unknown-subscription limit, and one job per mailbox and reason); the validation echo had no length
// limit and no nosniff.
import { createHash, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleGraphWebhook } from '../../functions/graph-notify/make-handler.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { acceptGraphNotification, clientStateDigest, subscriptionKey, type GraphNotifyDeps } from '../../shared/domain/graph/notify.js';
import type { MailboxRecord } from '../../shared/domain/model.js';
import type { DirectoryEntry, QueuedJob } from '../../shared/domain/ports.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

interface Subscription {
  id: string;
  clientState: string;
  tenantId: string;
  mailboxId: string;
}

let entries: Map<string, DirectoryEntry>;
let mailboxes: Map<string, MailboxRecord>;
let reads: { entries: string[]; mailboxes: number; inFlight: number; maxInFlight: number };
let jobs: QueuedJob[];
let metrics: CountingMetrics;
let deps: GraphNotifyDeps;

/** One event-loop turn, so reads started together are in flight together. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

beforeEach(() => {
  entries = new Map();
  mailboxes = new Map();
  reads = { entries: [], mailboxes: 0, inFlight: 0, maxInFlight: 0 };
  jobs = [];
  metrics = new CountingMetrics();
  deps = {
    directory: {
      async findAddress(provider, index) {
        reads.entries.push(index);
        reads.maxInFlight = Math.max(reads.maxInFlight, ++reads.inFlight);
        await turn();
        reads.inFlight--;
        return provider === 'graph' ? entries.get(index) : undefined;
      },
    },
    repo: {
      async getMailbox(tenantId, mailboxId) {
        reads.mailboxes++;
        await turn();
        return mailboxes.get(`${tenantId}/${mailboxId}`);
      },
    },
    queue: { enqueue: async (job) => void jobs.push(job) },
    metrics,
  };
});

/** A subscription we hold, its entry carrying the clientState digest (or, `legacy`, only its mailbox). */
function subscribe(mailboxId: string, options: { legacy?: boolean } = {}): Subscription {
  const subscription = { id: randomUUID(), clientState: `${randomUUID()}${randomUUID()}`, tenantId: 'tenant01', mailboxId };
  const owner = { tenantId: subscription.tenantId, mailboxId };
  entries.set(subscriptionKey(subscription.id), options.legacy ? owner : { ...owner, clientStateIndex: clientStateDigest(subscription.clientState) });
  if (options.legacy) {
    mailboxes.set(`tenant01/${mailboxId}`, {
      ...owner,
      provider: 'graph',
      status: 'connected',
      createdAt: '2026-01-01T00:00:00Z',
      connection: { addressIndex: 'x', subscriptionId: subscription.id, clientStateIndex: clientStateDigest(subscription.clientState) },
    });
  }
  return subscription;
}

const change = (subscription: Pick<Subscription, 'id' | 'clientState'>, messageId: string) => ({
  subscriptionId: subscription.id,
  clientState: subscription.clientState,
  changeType: 'created',
  resource: `Users/u/Messages/${messageId}`,
  resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: messageId },
  tenantId: 'azure-tenant',
});
const lifecycle = (subscription: Pick<Subscription, 'id' | 'clientState'>, lifecycleEvent: string) => ({
  subscriptionId: subscription.id,
  clientState: subscription.clientState,
  lifecycleEvent,
  subscriptionExpirationDateTime: '2026-12-01T00:00:00Z',
  tenantId: 'azure-tenant',
});
const forged = (i: number) => change({ id: randomUUID(), clientState: `guess-${i}` }, `AAMk-${i}`);

const webhook = (items: unknown[], path = '/webhooks/graph') => handleGraphWebhook(deps)({ rawPath: path, body: JSON.stringify({ value: items }), isBase64Encoded: false });
const notify = (items: unknown[], route: 'notifications' | 'lifecycle' = 'notifications') => acceptGraphNotification(deps, { route, body: JSON.stringify({ value: items }) });

describe('forged requests', () => {
  it('answer 401 and enqueue nothing: wrong, missing or another subscription\'s clientState, an unknown subscription, items that are not notifications', async () => {
    const ours = subscribe('mbx01');
    const theirs = subscribe('mbx02');
    const bodies: unknown[][] = [
      [{ ...change(ours, 'a'), clientState: 'guessed' }],
      [{ ...change(ours, 'a'), clientState: undefined }],
      [{ ...change(ours, 'a'), clientState: theirs.clientState }],
      [forged(1)],
      [{ ...change(ours, 'a'), subscriptionId: 'x'.repeat(129) }],
      [1, 'x', null],
      [forged(1), forged(2), { ...change(theirs, 'b'), clientState: ours.clientState }],
    ];
    for (const items of bodies) expect(await webhook(items), JSON.stringify(items)).toEqual({ statusCode: 401 });
    expect(await webhook([{ ...lifecycle(ours, 'subscriptionRemoved'), clientState: 'guessed' }], '/webhooks/graph/lifecycle')).toEqual({ statusCode: 401 });
    expect(jobs).toEqual([]);
    expect(metrics.get('graph.notification_rejected')).toBe(12);
    expect(metrics.get('graph.notification_accepted')).toBe(0);
  });

  it('a mixed batch keeps 202 and enqueues the genuine items only', async () => {
    const ours = subscribe('mbx01');
    expect(await webhook([forged(1), change(ours, 'a'), { ...change(ours, 'b'), clientState: 'guessed' }])).toEqual({ statusCode: 202 });
    expect(jobs).toHaveLength(1);
    expect(JSON.parse(jobs[0]!.body)).toEqual({ tenantId: 'tenant01', mailboxId: 'mbx01', reason: 'push' });
    expect(jobs[0]!.deduplicationId).toBe(sha256(`${ours.id}\na\ncreated`));
    expect(metrics.get('graph.notification_accepted')).toBe(1);
    expect(metrics.get('graph.notification_rejected')).toBe(2);
  });

  it('an empty collection is no forgery: 202, nothing to do', async () => {
    expect(await webhook([])).toEqual({ statusCode: 202 });
    expect(reads.entries).toEqual([]);
  });
});

describe('the work a batch costs', () => {
  it('1,000 items naming 1,000 unknown subscriptions: at most 11 lookups, 4 at a time, then 401 and nothing enqueued', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => forged(i));
    expect(await notify(items)).toEqual({ status: 401, rejected: 1000 });
    // 8 unknown subscriptions end the lookups; up to 3 more were already in flight.
    expect(reads.entries.length).toBeGreaterThanOrEqual(8);
    expect(reads.entries.length).toBeLessThanOrEqual(11);
    expect(reads.maxInFlight).toBe(4);
    expect(jobs).toEqual([]);
  });

  it('1,000 items naming one subscription we hold with a wrong clientState: one lookup, 401', async () => {
    const ours = subscribe('mbx01');
    expect(await notify(Array.from({ length: 1000 }, (_, i) => ({ ...change(ours, `m${i}`), clientState: `guess-${i}` })))).toEqual({ status: 401, rejected: 1000 });
    expect(reads.entries).toEqual([subscriptionKey(ours.id)]);
    expect(jobs).toEqual([]);
  });

  it('100 genuine items for one mailbox: one lookup and one job, whose id is the same when Graph retries the batch', async () => {
    const ours = subscribe('mbx01');
    const items = Array.from({ length: 100 }, (_, i) => change(ours, `AAMk-${i}`));
    expect(await notify(items)).toEqual({ status: 202, accepted: 100, rejected: 0 });
    expect(reads.entries).toEqual([subscriptionKey(ours.id)]);
    expect(jobs).toHaveLength(1);
    expect(JSON.parse(jobs[0]!.body)).toEqual({ tenantId: 'tenant01', mailboxId: 'mbx01', reason: 'push' });
    expect(jobs[0]!.groupId).toBe('tenant01.mbx01');
    expect(jobs[0]!.deduplicationId).toMatch(/^[0-9a-f]{64}$/);

    // Graph's retry, in any order: the same id (SQS drops it); another batch: another id.
    await notify([...items].reverse());
    await notify(items.slice(1));
    expect(jobs).toHaveLength(3);
    expect(jobs[1]!.deduplicationId).toBe(jobs[0]!.deduplicationId);
    expect(jobs[2]!.deduplicationId).not.toBe(jobs[0]!.deduplicationId);
    expect(metrics.get('graph.notification_accepted')).toBe(299);
  });

  it('a batch for several mailboxes: one lookup per subscription, one job per mailbox', async () => {
    const subscriptions = Array.from({ length: 6 }, (_, i) => subscribe(`mbx0${i}`));
    const items = Array.from({ length: 300 }, (_, i) => change(subscriptions[i % 6]!, `AAMk-${i}`));
    expect(await notify(items)).toEqual({ status: 202, accepted: 300, rejected: 0 });
    expect(reads.entries).toHaveLength(6);
    expect(reads.maxInFlight).toBeLessThanOrEqual(4);
    expect(jobs.map((job) => (JSON.parse(job.body) as { mailboxId: string }).mailboxId).sort()).toEqual(['mbx00', 'mbx01', 'mbx02', 'mbx03', 'mbx04', 'mbx05']);
  });

  it('7 unknown subscriptions beside a genuine item are looked up and the genuine item enqueued; the 8th refuses the request', async () => {
    const ours = subscribe('mbx01');
    expect(await notify([...Array.from({ length: 7 }, (_, i) => forged(i)), change(ours, 'a')])).toEqual({ status: 202, accepted: 1, rejected: 7 });
    expect(jobs).toHaveLength(1);
    expect(await notify([...Array.from({ length: 8 }, (_, i) => forged(i)), change(ours, 'a')])).toEqual({ status: 401, rejected: 9 });
    expect(jobs).toHaveLength(1);
  });

  it('an entry written before entries carried the digest: the mailbox is read once per request, not once per item', async () => {
    const legacy = subscribe('mbx01', { legacy: true });
    expect(await notify(Array.from({ length: 50 }, (_, i) => change(legacy, `AAMk-${i}`)))).toEqual({ status: 202, accepted: 50, rejected: 0 });
    expect(reads).toMatchObject({ mailboxes: 1 });
    expect(jobs).toHaveLength(1);
    expect(await notify([{ ...change(legacy, 'x'), clientState: 'guessed' }])).toEqual({ status: 401, rejected: 1 });
  });
});

describe('lifecycle notifications', () => {
  it('each event we act on is a job of its own reason, in the order the events came; missed joins the mailbox\'s push job', async () => {
    const ours = subscribe('mbx01');
    const items = [lifecycle(ours, 'subscriptionRemoved'), lifecycle(ours, 'reauthorizationRequired'), lifecycle(ours, 'missed'), lifecycle(ours, 'reauthorizationRequired')];
    expect(await notify(items, 'lifecycle')).toEqual({ status: 202, accepted: 4, rejected: 0 });
    expect(reads.entries).toHaveLength(1);
    expect(jobs.map((job) => (JSON.parse(job.body) as { reason: string }).reason)).toEqual(['resubscribe', 'renew', 'push']);
    // One event alone keeps the id it always had: its own digest.
    expect(jobs[0]!.deduplicationId).toBe(sha256(`${ours.id}\nsubscriptionRemoved\n2026-12-01T00:00:00Z`));
    expect(new Set(jobs.map((job) => job.groupId))).toEqual(new Set(['tenant01.mbx01']));

    // A lifecycle event sent to the notification URL, beside a change: two jobs, push and renew.
    jobs.length = 0;
    expect(await notify([change(ours, 'a'), lifecycle(ours, 'reauthorizationRequired'), lifecycle(ours, 'missed')])).toEqual({ status: 202, accepted: 3, rejected: 0 });
    expect(jobs.map((job) => (JSON.parse(job.body) as { reason: string }).reason)).toEqual(['push', 'renew']);
  });

  it('an authentic event we do not act on is no forgery: 202, no job, counted as unusable', async () => {
    const ours = subscribe('mbx01');
    expect(await notify([lifecycle(ours, 'somethingNew'), lifecycle(ours, 'constructor')], 'lifecycle')).toEqual({ status: 202, accepted: 0, rejected: 0, ignored: 2 });
    expect(await webhook([lifecycle(ours, 'somethingNew')], '/webhooks/graph/lifecycle')).toEqual({ statusCode: 202 });
    expect(jobs).toEqual([]);
    expect(metrics.get('graph.notification_unusable')).toBe(3);
    expect(metrics.get('graph.notification_rejected')).toBe(0);
  });
});

describe('the validation handshake', () => {
  const validate = (token: string) =>
    handleGraphWebhook(deps)({ rawPath: '/webhooks/graph', body: '', isBase64Encoded: false, queryStringParameters: { validationToken: token } });

  it('echoes a token of up to 1,024 characters as text/plain with nosniff', async () => {
    for (const token of ['Validation: Token with spaces & symbols +/=?', 'v'.repeat(1024), '<html><script>alert(1)</script>']) {
      expect(await validate(token)).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' }, body: token });
    }
  });

  it('answers 400 to a longer one, echoing nothing', async () => {
    const answer = await validate('v'.repeat(1025));
    expect(answer.statusCode).toBe(400);
    expect(answer.body).not.toContain('vvvv');
    expect(reads.entries).toEqual([]);
    expect(jobs).toEqual([]);
  });
});
