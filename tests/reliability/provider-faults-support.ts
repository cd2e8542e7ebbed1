// What the provider-fault suites read of a reliability world (bench/reliability-queues.ts): tickets as
// a reader sees them through the domain's read use-cases, queue depths, the mailbox's stored state, and
// the fake providers' request logs for one mailbox.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ulid } from 'ulid';
import type { ReliabilityMailbox, ReliabilityWorld } from '../../bench/reliability-queues.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import type { Accessor } from '../../shared/domain/audit.js';
import { openCredentials } from '../../shared/domain/connectors/credentials.js';
import type { MailboxRecord, ProviderCredentials } from '../../shared/domain/model.js';
import { listTickets, showTicket, type ReadDeps, type TicketView } from '../../shared/domain/tickets.js';
import { queueDepth } from './outage-support.js';

const PROBE: Accessor = { actor: 'operator:provider-faults', reason: 'provider fault test' };

export interface FaultReader {
  keys: LocalKeyService;
  /** Every ticket of the mailbox a reader can list, shown whole. */
  tickets(mailbox: ReliabilityMailbox): Promise<TicketView[]>;
  mailbox(mailbox: ReliabilityMailbox): Promise<MailboxRecord | undefined>;
  /** The mailbox's stored provider credentials, unsealed. */
  credentials(mailbox: ReliabilityMailbox): Promise<ProviderCredentials>;
  /** Jobs waiting, in flight or delayed on a queue. */
  depth(queueUrl: string): Promise<number>;
}

export function faultReader(world: ReliabilityWorld): FaultReader {
  // The world's key directory: the same tenant keys the pipeline sealed tickets and tokens with.
  const keys = new LocalKeyService({ keyDir: join(world.storage.dir, 'keys') });
  const read: ReadDeps = {
    repo: world.repo,
    blobs: world.storage.blobs(),
    keys,
    audit: new DynamoDbAuditLog(world.storage.client, 'reliability'),
    clock: { now: () => new Date() },
    ids: { next: () => ulid(), randomToken: () => randomBytes(20).toString('hex') },
  };
  return {
    keys,
    async tickets(mailbox) {
      const listed = await listTickets(read, mailbox.tenantId, PROBE, mailbox.mailboxId);
      return Promise.all(listed.map((t) => showTicket(read, mailbox.tenantId, t.ticketId, PROBE)));
    },
    mailbox: (mailbox) => world.repo.getMailbox(mailbox.tenantId, mailbox.mailboxId),
    async credentials(mailbox) {
      const record = await world.repo.getMailbox(mailbox.tenantId, mailbox.mailboxId);
      return openCredentials(keys, mailbox, record?.connection?.sealedCredentials);
    },
    depth: (queueUrl) => queueDepth(world.queues.client, queueUrl),
  };
}

/** One request as a fake provider recorded it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  at: number;
  status?: number;
}

/**
 * The provider requests about one mailbox since `since` (ms), token endpoints left out: Graph records
 * the mailbox of each request; Gmail's paths say `me`, so its log is the whole fake's (the suites run
 * one mailbox's scenario at a time).
 */
export function providerRequests(world: ReliabilityWorld, mailbox: ReliabilityMailbox, since: number): SeenRequest[] {
  if (mailbox.provider === 'graph') return world.graph.fake.requests.filter((r) => r.at >= since && r.user === mailbox.address.toLowerCase());
  return world.gmail.fake.requests.filter((r) => r.at >= since && r.path.includes('/gmail/v1/users/'));
}

/**
 * Requests that reached the provider sooner after a throttled answer (with Retry-After) than Retry-After
 * allowed: the next request for the same resource, and any request for the mailbox later than
 * `inFlightMs` after it (requests already on the wire when the answer left — the pool's other
 * downloads — are not the client's choice). Empty when every Retry-After was honoured.
 */
export function retryAfterViolations(requests: readonly SeenRequest[], retryAfterSeconds: number, options: { status?: number; inFlightMs?: number } = {}): Array<{ path: string; after: number; sameResource: boolean }> {
  const status = options.status ?? 429;
  const inFlightMs = options.inFlightMs ?? 100;
  const wait = retryAfterSeconds * 1000;
  const violations: Array<{ path: string; after: number; sameResource: boolean }> = [];
  requests.forEach((throttled, i) => {
    if (throttled.status !== status) return;
    for (const later of requests.slice(i + 1)) {
      const after = later.at - throttled.at;
      if (after >= wait) break;
      const sameResource = later.path === throttled.path;
      if (sameResource || after > inFlightMs) violations.push({ path: later.path, after, sameResource });
    }
  });
  return violations;
}

// The polling helper is the outage suites' (until): re-exported for the fault suites that import it from here.
export { until } from './outage-support.js';
