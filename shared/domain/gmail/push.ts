// The Pub/Sub push webhook's use-case: authenticate, find the mailbox, enqueue one sync job. It
// never calls Gmail and writes nothing but the job, so it answers well inside Pub/Sub's deadline.
//
// The directory entry is the whole check: it exists from connect until the disconnect releases it
// (before the mailbox is marked disconnected), so a disconnected mailbox's push is unusable here. A
// mailbox awaiting reauthorization keeps its entry (its address stays claimed); its jobs are skipped
// by the sync worker, which reads the mailbox anyway — one read fewer on every push's path.
import { normalizeProviderAddress, SERVICE_INDEX_TENANT } from '../connectors/credentials.js';
import { queuedSyncJob } from '../connectors/sync-job.js';
import type { JobQueue, KeyService, MailboxDirectory, Metrics } from '../ports.js';
import type { PushVerifier } from './ports.js';

export interface GmailPushDeps {
  verifier: PushVerifier;
  directory: Pick<MailboxDirectory, 'findAddress'>;
  keys: Pick<KeyService, 'blindIndex'>;
  queue: JobQueue;
  metrics: Metrics;
}

export interface GmailPushRequest {
  authorization?: string;
  body: string;
}

/** 401: not from our push subscription. 204: accepted, or authentic but unusable (Pub/Sub must not retry it). */
export type GmailPushOutcome =
  | { status: 401; outcome: 'unauthenticated' }
  | { status: 204; outcome: 'enqueued' | 'unusable'; reason?: string };

export async function acceptGmailPush(deps: GmailPushDeps, request: GmailPushRequest): Promise<GmailPushOutcome> {
  const token = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(request.authorization?.trim() ?? '')?.[1];
  if (!token || !(await deps.verifier.verify(token))) {
    deps.metrics.count('gmail.push_unauthenticated');
    return { status: 401, outcome: 'unauthenticated' };
  }
  const push = decodePush(request.body);
  if (!push) return unusable(deps, 'undecodable');

  const addressIndex = await deps.keys.blindIndex(SERVICE_INDEX_TENANT, 'gmail-address', normalizeProviderAddress(push.emailAddress));
  const owner = await deps.directory.findAddress('gmail', addressIndex);
  if (!owner) return unusable(deps, 'unknown_mailbox');

  // Pub/Sub redelivers with the same message id: within SQS's window those are one job.
  await deps.queue.enqueue(queuedSyncJob({ ...owner, reason: 'push', ...(push.publishTime ? { notifiedAt: push.publishTime } : {}) }, `push-${push.messageId}`));
  deps.metrics.count('gmail.push_accepted');
  return { status: 204, outcome: 'enqueued' };
}

function unusable(deps: Pick<GmailPushDeps, 'metrics'>, reason: string): GmailPushOutcome {
  deps.metrics.count('gmail.push_unusable');
  return { status: 204, outcome: 'unusable', reason };
}

interface DecodedPush {
  emailAddress: string;
  messageId: string;
  publishTime?: string;
}

/** Pub/Sub's push envelope around Gmail's `{emailAddress, historyId}`; undefined when it is not one. */
export function decodePush(body: string): DecodedPush | undefined {
  try {
    const envelope = JSON.parse(body) as { message?: { data?: unknown; messageId?: unknown; message_id?: unknown; publishTime?: unknown } };
    const message = envelope.message;
    const messageId = message?.messageId ?? message?.message_id;
    if (typeof message?.data !== 'string' || typeof messageId !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(messageId)) return undefined;
    const data = JSON.parse(Buffer.from(message.data, 'base64').toString('utf8')) as { emailAddress?: unknown; historyId?: unknown };
    if (typeof data.emailAddress !== 'string' || !data.emailAddress.includes('@')) return undefined;
    const publishTime = typeof message.publishTime === 'string' && !Number.isNaN(Date.parse(message.publishTime)) ? message.publishTime : undefined;
    return { emailAddress: data.emailAddress, messageId, ...(publishTime ? { publishTime } : {}) };
  } catch {
    return undefined;
  }
}
