// `dlq list|redrive`: the connectors' dead-letter queues of the `npm start` running on the same data
// dir (its local SQS and sync queues are in stack.json; each sync queue's redrive policy names its
// dead-letter queue). What is shown is ids only — SQS message id, message group, receive counts,
// times, and the job's own ids (tenant, mailbox, reason, provider message id) — never mail content.
//
// Redrive is receive → SendMessage to the source queue (same message group, a fresh deduplication id,
// so SQS does not drop it as a repeat of the original) → DeleteMessage from the dead-letter queue.
// SQS's StartMessageMoveTask would do the same server-side, but it does not take FIFO queues (AWS:
// "only standard queues are supported") and fauxqs does not implement it. A crash between the send and
// the delete leaves the job in both queues: running a sync job twice is harmless (jobs name a mailbox
// or a message; ingest is idempotent), losing one is not.
//
// Listing must receive (SQS has no peek): each listed message's receive count goes up by one, and it
// is held invisible for the listing and released at once after. On a FIFO queue a receive only hands
// out the first messages of each message group; the ones behind them show once those are redriven.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { LocalConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { readRunningStack } from '../local/stack.js';
import { printJsonLine, printTable, UsageError } from './output.js';

/** No running npm start (or no local queues) to talk to; the message says what to do. */
export class QueuesUnavailable extends DomainError {
  readonly code = 'queues_unavailable';
  readonly retryable = false;
}

export type ConnectorQueue = 'gmail' | 'graph';

export interface DeadLetterQueue {
  queue: ConnectorQueue;
  /** The connector's sync queue, where a redriven job goes back to. */
  sourceUrl: string;
  dlqUrl: string;
}

export interface DeadLetter {
  queue: ConnectorQueue;
  messageId: string;
  /** The FIFO message group: the mailbox (`tenant.mailbox`) or a parked message's own group. */
  group: string | null;
  /** Receives so far as SQS counts them, this listing's own receive included. */
  receiveCount: number;
  sentAt: string | null;
  firstReceivedAt: string | null;
  /** The sync job's ids, as far as the body is a sync job; nothing else of the body. */
  job: { tenantId?: string; mailboxId?: string; reason?: string; providerMessageId?: string } | null;
}

export interface RedriveResult {
  queue: ConnectorQueue;
  messageId: string;
  group: string;
  /** The new SQS message id on the source queue. */
  redrivenAs: string;
}

/** How long a listing or a redrive holds what it received before releasing it. */
const HOLD_SECONDS = 60;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const JOB_FIELDS = ['tenantId', 'mailboxId', 'reason', 'providerMessageId'] as const;
const USAGE = 'dlq takes "list [--queue gmail|graph] [--json]" or "redrive [--queue gmail|graph] [MESSAGE_ID…] [--json]"';

export async function dlqCommand(config: LocalConfig, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { queue: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (values.queue !== undefined && values.queue !== 'gmail' && values.queue !== 'graph') throw new UsageError('--queue takes gmail or graph');
  const wanted: ConnectorQueue[] = values.queue ? [values.queue] : ['gmail', 'graph'];
  if (sub !== 'list' && sub !== 'redrive') throw new UsageError(USAGE);
  if (sub === 'list' && positionals.length > 0) throw new UsageError('dlq list takes no message ids');

  const { client, queues } = await runningQueues(config, wanted);
  try {
    if (sub === 'list') {
      const letters: DeadLetter[] = [];
      for (const queue of queues) letters.push(...(await listDeadLetters(client, queue)));
      if (values.json) printJsonLine(letters);
      else if (letters.length === 0) process.stdout.write(`no dead-lettered sync jobs (${wanted.join(', ')})\n`);
      else {
        printTable(
          ['QUEUE', 'MESSAGE ID', 'GROUP', 'RECEIVES', 'FIRST RECEIVED', 'JOB'],
          letters.map((l) => [l.queue, l.messageId, l.group ?? '-', String(l.receiveCount), l.firstReceivedAt ?? '-', describeJob(l.job)]),
        );
      }
      return 0;
    }
    const results: RedriveResult[] = [];
    for (const queue of queues) results.push(...(await redriveDeadLetters(client, queue, positionals.length > 0 ? positionals : undefined)));
    const missing = positionals.filter((id) => !results.some((r) => r.messageId === id));
    if (values.json) printJsonLine({ redriven: results, notFound: missing });
    else {
      for (const r of results) process.stdout.write(`${r.queue}: ${r.messageId} (group ${r.group}) back on the sync queue as ${r.redrivenAs}\n`);
      if (results.length === 0) process.stdout.write('nothing to redrive\n');
      for (const id of missing) process.stderr.write(`mail2ticket: ${id} is not in the dead-letter queue (already redriven, or behind another message of its group: redrive that first)\n`);
    }
    return missing.length > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}

/** The running npm start's SQS client and the chosen connectors' sync and dead-letter queues. */
async function runningQueues(config: LocalConfig, wanted: ConnectorQueue[]): Promise<{ client: SQSClient; queues: DeadLetterQueue[] }> {
  const running = await readRunningStack(config.dataDir);
  if (!running) throw new QueuesUnavailable(`npm start is not running on ${config.dataDir}: start it (npm start) with the same MAIL2TICKET_DATA_DIR`);
  if (!running.queues) throw new QueuesUnavailable('the running npm start has no local sync queues (still starting, or started without the connectors)');
  const client = new SQSClient({ endpoint: running.queues.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  try {
    const sources = { gmail: running.queues.gmailSyncQueueUrl, graph: running.queues.graphSyncQueueUrl };
    const queues: DeadLetterQueue[] = [];
    for (const queue of wanted) queues.push({ queue, sourceUrl: sources[queue], dlqUrl: await deadLetterQueueOf(client, sources[queue]) });
    return { client, queues };
  } catch (error) {
    client.destroy();
    if (error instanceof DomainError) throw error;
    throw new QueuesUnavailable(`the local SQS at ${running.queues.endpoint} does not answer: is npm start still running?`, { cause: error });
  }
}

/** The dead-letter queue a queue's redrive policy names. */
export async function deadLetterQueueOf(client: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  let arn: unknown;
  try {
    arn = (JSON.parse(Attributes?.RedrivePolicy ?? 'null') as { deadLetterTargetArn?: unknown } | null)?.deadLetterTargetArn;
  } catch {
    arn = undefined;
  }
  if (typeof arn !== 'string' || arn.split(':').length !== 6) throw new QueuesUnavailable(`the sync queue ${queueUrl} has no dead-letter queue in its redrive policy`);
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: arn.split(':')[5] as string }));
  if (!QueueUrl) throw new QueuesUnavailable(`the dead-letter queue ${arn} has no URL`);
  return QueueUrl;
}

/** What the dead-letter queue holds (the first messages of each group); each is released at once after. */
export async function listDeadLetters(client: SQSClient, queue: DeadLetterQueue): Promise<DeadLetter[]> {
  const held = await receiveAll(client, queue.dlqUrl);
  try {
    return held.map((message) => describeMessage(queue.queue, message));
  } finally {
    await release(client, queue.dlqUrl, held);
  }
}

/**
 * Moves dead-lettered jobs back to their sync queue, keeping the message group, with a fresh
 * deduplication id: all of them, or those whose SQS message ids are given. Receives until nothing new
 * comes, so a group's later messages follow the ones moved before them.
 */
export async function redriveDeadLetters(client: SQSClient, queue: DeadLetterQueue, messageIds?: readonly string[]): Promise<RedriveResult[]> {
  const wanted = messageIds ? new Set(messageIds) : undefined;
  const kept: Message[] = [];
  const seen = new Set<string>();
  const moved: RedriveResult[] = [];
  try {
    for (;;) {
      const batch = await receive(client, queue.dlqUrl);
      const fresh = batch.filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) {
        kept.push(...batch);
        break;
      }
      for (const message of batch) {
        const id = message.MessageId as string;
        if (seen.has(id) || (wanted && !wanted.has(id))) {
          seen.add(id);
          kept.push(message);
          continue;
        }
        seen.add(id);
        const group = message.Attributes?.MessageGroupId;
        if (!group || message.Body === undefined) {
          kept.push(message);
          continue;
        }
        const sent = await client.send(
          new SendMessageCommand({ QueueUrl: queue.sourceUrl, MessageBody: message.Body, MessageGroupId: group, MessageDeduplicationId: `redrive-${randomUUID()}` }),
        );
        await client.send(new DeleteMessageCommand({ QueueUrl: queue.dlqUrl, ReceiptHandle: message.ReceiptHandle as string }));
        moved.push({ queue: queue.queue, messageId: id, group, redrivenAs: sent.MessageId ?? '' });
      }
      if (wanted && [...wanted].every((id) => seen.has(id))) break;
    }
  } finally {
    await release(client, queue.dlqUrl, kept);
  }
  return moved;
}

async function receive(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const { Messages } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: HOLD_SECONDS, MessageSystemAttributeNames: ['All'] }),
  );
  return Messages ?? [];
}

/** Receives until a receive brings nothing: every group's first messages, held invisible. */
async function receiveAll(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const held: Message[] = [];
  for (;;) {
    const batch = await receive(client, queueUrl);
    if (batch.length === 0) return held;
    held.push(...batch);
  }
}

async function release(client: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await client.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle as string, VisibilityTimeout: 0 })) }),
    );
  }
}

function describeMessage(queue: ConnectorQueue, message: Message): DeadLetter {
  const attributes = message.Attributes ?? {};
  const time = (ms: string | undefined) => (ms && /^\d+$/.test(ms) ? new Date(Number(ms)).toISOString() : null);
  return {
    queue,
    messageId: message.MessageId ?? '',
    group: attributes.MessageGroupId ?? null,
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 0),
    sentAt: time(attributes.SentTimestamp),
    firstReceivedAt: time(attributes.ApproximateFirstReceiveTimestamp),
    job: jobIds(message.Body),
  };
}

/** The job's ids only: strings of the known id fields, nothing else the body may hold. */
function jobIds(body: string | undefined): DeadLetter['job'] {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const ids: NonNullable<DeadLetter['job']> = {};
  for (const field of JOB_FIELDS) {
    const v = (value as Record<string, unknown>)[field];
    if (typeof v === 'string' && v.length <= 512) ids[field] = v;
  }
  return ids;
}

function describeJob(job: DeadLetter['job']): string {
  if (!job) return '(not a sync job)';
  const target = job.providerMessageId ? ` message ${job.providerMessageId}` : '';
  return `${job.reason ?? '?'} ${job.tenantId ?? '?'}/${job.mailboxId ?? '?'}${target}`;
}
