// Locally, what Lambda's SQS event source mapping does in AWS: long-poll one queue, hand each batch to
// the handler as an SQSEvent, delete what succeeded. Failed records are left alone, so they come back
// when their visibility timeout runs out (or when the handler's ChangeMessageVisibility says) and reach
// the dead-letter queue through the queue's own redrive policy, exactly as in AWS.
//
// Lambda rules kept here (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html):
// a thrown handler fails the whole batch; no response, an empty one or an empty `batchItemFailures` is
// full success; a failure whose itemIdentifier is empty or not a message of the batch fails the whole
// batch. Not emulated: the function timeout, scaling, and batching windows.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  /** MaxNumberOfMessages per ReceiveMessage, 1–10 (Lambda's batch size on a FIFO queue); 10 by default. */
  maxMessages?: number;
  /** Long-poll wait, 0–20 s; 20 by default, as Lambda's pollers use. */
  waitTimeSeconds?: number;
  /** Poll loops running side by side, like Lambda's concurrent invocations; 1 by default. */
  concurrency?: number;
  /** Named in the context; the queue's name by default. */
  functionName?: string;
  /** What `context.getRemainingTimeInMillis()` counts down from (nothing is enforced); 30 s by default. */
  timeoutMs?: number;
}

export interface SqsPollerStats {
  /** Handler invocations. */
  batches: number;
  /** Records handed to the handler. */
  records: number;
  /** Records deleted after success. */
  deleted: number;
  /** Records left on the queue: reported failures, and every record of a failed batch. */
  failed: number;
  /** Invocations that threw or answered with an invalid batch response. */
  failedBatches: number;
}

const BACKOFF_MS = 1000;
const DRAIN_CHECK_MS = 25;

export class SqsPoller {
  readonly stats: SqsPollerStats = { batches: 0, records: 0, deleted: 0, failed: 0, failedBatches: 0 };
  /** The last failure of the loop itself (receive, delete, a malformed message); the loop went on. */
  lastError: unknown = undefined;
  /** The last error the handler threw, or the last invalid batch response it gave. */
  lastHandlerError: unknown = undefined;

  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly handler: SqsBatchHandler;
  private readonly maxMessages: number;
  private readonly waitTimeSeconds: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private functionName: string | undefined;
  private source: { arn: string; region: string; account: string } | undefined;
  private loops: Promise<void>[] = [];
  private abort: AbortController | undefined;
  private activeBatches = 0;

  constructor(options: SqsPollerOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.handler = options.handler;
    this.maxMessages = integerIn('maxMessages', options.maxMessages ?? 10, 1, 10);
    this.waitTimeSeconds = integerIn('waitTimeSeconds', options.waitTimeSeconds ?? 20, 0, 20);
    this.concurrency = integerIn('concurrency', options.concurrency ?? 1, 1, 100);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.functionName = options.functionName;
  }

  get running(): boolean {
    return this.abort !== undefined;
  }

  /** Resolves once the queue's ARN is known (the records carry it) and the loops are polling. */
  async start(): Promise<void> {
    if (this.abort) return;
    if (!this.source) {
      const { Attributes } = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }));
      const arn = Attributes?.QueueArn;
      const parts = arn?.split(':') ?? [];
      if (!arn || parts.length !== 6 || !parts[3] || !parts[4] || !parts[5]) throw new Error(`queue ${this.queueUrl} reported no usable QueueArn (${arn})`);
      this.source = { arn, region: parts[3], account: parts[4] };
      this.functionName ??= parts[5].replace(/\.fifo$/, '');
    }
    if (this.abort) return; // a concurrent start() got here first
    const abort = new AbortController();
    this.abort = abort;
    this.loops = Array.from({ length: this.concurrency }, () => this.loop(abort.signal));
  }

  /**
   * Stops polling and waits for the batches being handled (their deletes included). A long poll
   * under way is abandoned; a message the server hands it anyway stays invisible for the queue's
   * visibility timeout and is then redelivered, as after any lost receive.
   */
  async stop(): Promise<void> {
    const abort = this.abort;
    if (!abort) return;
    abort.abort();
    await Promise.all(this.loops);
    this.loops = [];
    this.abort = undefined;
  }

  /**
   * Resolves when the queue holds nothing visible, in flight or delayed and no batch is being handled;
   * rejects after `timeoutMs` with what was left. Messages moved to the dead-letter queue are gone
   * from this queue, so a poison message does not keep it from draining once it has been moved.
   */
  async drain(options: { timeoutMs: number }): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      let left: { visible: number; inFlight: number; delayed: number } | undefined;
      if (this.activeBatches === 0) {
        left = await this.queueCounts();
        if (left.visible === 0 && left.inFlight === 0 && left.delayed === 0 && this.activeBatches === 0) return;
      }
      if (Date.now() >= deadline) {
        const counts = left ? `${left.visible} visible, ${left.inFlight} in flight, ${left.delayed} delayed` : 'not counted';
        const lastError = this.lastError === undefined ? '' : `; last loop error: ${describe(this.lastError)}`;
        throw new Error(
          `queue ${this.queueUrl} not drained within ${options.timeoutMs} ms (${counts}; ${this.activeBatches} batches running; poller ${this.running ? 'running' : 'stopped'}${lastError})`,
        );
      }
      await sleep(DRAIN_CHECK_MS);
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const { Messages } = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: this.maxMessages,
            WaitTimeSeconds: this.waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        // Received just before a stop: handled all the same, so stop() never strands a batch.
        if (Messages && Messages.length > 0) await this.runBatch(Messages);
      } catch (error) {
        // The long poll stop() abandoned is no failure; anything else (a delete that failed as the
        // stop came) still is.
        if (signal.aborted && (error as { name?: unknown } | null)?.name === 'AbortError') return;
        this.lastError = error;
        await sleep(BACKOFF_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private async runBatch(messages: Message[]): Promise<void> {
    this.activeBatches++;
    try {
      const source = this.source as NonNullable<SqsPoller['source']>;
      const records = messages.map((message) => toRecord(message, source.arn, source.region));
      this.stats.batches++;
      this.stats.records += records.length;
      let response: SQSBatchResponse | void;
      try {
        response = await this.handler({ Records: records }, this.context(source));
      } catch (error) {
        this.lastHandlerError = error;
        this.failBatch(records.length);
        return;
      }
      const failed = failedIds(response, records);
      if (failed instanceof Error) {
        this.lastHandlerError = failed;
        this.failBatch(records.length);
        return;
      }
      this.stats.failed += failed.size;
      await this.deleteAll(records.filter((record) => !failed.has(record.messageId)));
    } finally {
      this.activeBatches--;
    }
  }

  private failBatch(size: number): void {
    this.stats.failedBatches++;
    this.stats.failed += size;
  }

  private async deleteAll(records: SQSRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { Failed } = await this.client.send(
      new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: records.map((record, i) => ({ Id: String(i), ReceiptHandle: record.receiptHandle })) }),
    );
    this.stats.deleted += records.length - (Failed?.length ?? 0);
    if (Failed && Failed.length > 0) throw new Error(`DeleteMessageBatch failed for ${Failed.length} of ${records.length} records: ${Failed.map((f) => f.Code).join(', ')}`);
  }

  private async queueCounts(): Promise<{ visible: number; inFlight: number; delayed: number }> {
    const { Attributes } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const count = (name: QueueAttributeName) => Number(Attributes?.[name] ?? 'NaN');
    const counts = { visible: count('ApproximateNumberOfMessages'), inFlight: count('ApproximateNumberOfMessagesNotVisible'), delayed: count('ApproximateNumberOfMessagesDelayed') };
    if (Number.isNaN(counts.visible) || Number.isNaN(counts.inFlight)) throw new Error(`GetQueueAttributes on ${this.queueUrl} gave no message counts`);
    if (Number.isNaN(counts.delayed)) counts.delayed = 0;
    return counts;
  }

  private context(source: NonNullable<SqsPoller['source']>): Context {
    const functionName = this.functionName ?? 'local';
    const deadline = Date.now() + this.timeoutMs;
    const unsupported = () => {
      throw new Error('callback-style context methods are not supported; return a promise');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${source.region}:${source.account}:function:${functionName}`,
      memoryLimitInMB: '128',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }
}

/** Message ids to keep on the queue, or an Error when Lambda would fail the whole batch. */
function failedIds(response: SQSBatchResponse | void, records: SQSRecord[]): Set<string> | Error {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') return new Error(`handler returned ${typeof response}, not a batch response`);
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return new Error('batchItemFailures is not an array');
  const inBatch = new Set(records.map((record) => record.messageId));
  const ids = new Set<string>();
  for (const failure of failures) {
    const id: unknown = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !inBatch.has(id)) return new Error(`batchItemFailures names ${JSON.stringify(id)}, not a message of the batch`);
    ids.add(id);
  }
  return ids;
}

/** One record as Lambda builds it from a received message. */
export function toRecord(message: Message, eventSourceARN: string, awsRegion: string): SQSRecord {
  const attrs: Partial<Record<string, string>> = message.Attributes ?? {};
  const need = (value: string | undefined, name: string): string => {
    if (value === undefined) throw new Error(`ReceiveMessage returned a message without ${name}`);
    return value;
  };
  // Keys in Lambda's order; the optional ones only when SQS sent them.
  const attributes: SQSRecordAttributes = {
    ...(attrs.AWSTraceHeader !== undefined ? { AWSTraceHeader: attrs.AWSTraceHeader } : {}),
    ApproximateReceiveCount: need(attrs.ApproximateReceiveCount, 'ApproximateReceiveCount'),
    SentTimestamp: need(attrs.SentTimestamp, 'SentTimestamp'),
    ...(attrs.SequenceNumber !== undefined ? { SequenceNumber: attrs.SequenceNumber } : {}),
    ...(attrs.MessageGroupId !== undefined ? { MessageGroupId: attrs.MessageGroupId } : {}),
    SenderId: need(attrs.SenderId, 'SenderId'),
    ...(attrs.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: attrs.MessageDeduplicationId } : {}),
    ApproximateFirstReceiveTimestamp: need(attrs.ApproximateFirstReceiveTimestamp, 'ApproximateFirstReceiveTimestamp'),
  };
  return {
    messageId: need(message.MessageId, 'MessageId'),
    receiptHandle: need(message.ReceiptHandle, 'ReceiptHandle'),
    body: need(message.Body, 'Body'),
    attributes,
    messageAttributes: toMessageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: need(message.MD5OfBody, 'MD5OfBody'),
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

/** Lambda spells message attributes in camelCase, binary values in base64, list fields always present. */
function toMessageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((bytes) => Buffer.from(bytes).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return out;
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`SqsPoller: ${name} must be an integer from ${min} to ${max} (got ${value})`);
  return value;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
