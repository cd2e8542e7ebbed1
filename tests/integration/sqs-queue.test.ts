// The connectors' FIFO sync queues: SqsJobQueue and SqsJobDeferral through the real
// @aws-sdk/client-sqs against fauxqs, consumed by SqsPoller the way Lambda's event source mapping
// consumes them. Each test has queues of its own, so no test sees another's messages or pollers.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqsJobDeferral, SqsJobQueue } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { InvalidInput } from '../../shared/domain/errors.js';
import { startLocalQueues, type LocalQueues } from '../../shared/local/queues.js';
import { SqsPoller, type SqsBatchHandler, type SqsPollerOptions } from '../../shared/local/sqs-poller.js';

let queues: LocalQueues;
let pollers: SqsPoller[] = [];

beforeAll(async () => {
  queues = await startLocalQueues({
    queues: [
      { name: 'dedup' },
      { name: 'order', visibilityTimeoutSeconds: 1 },
      { name: 'retry', visibilityTimeoutSeconds: 1, maxReceiveCount: 3 },
      { name: 'defer', visibilityTimeoutSeconds: 1 },
      { name: 'clamp' },
      { name: 'ids' },
      { name: 'shape' },
      { name: 'whole', visibilityTimeoutSeconds: 1 },
      { name: 'flaky' },
    ],
  });
});
afterEach(async () => {
  await Promise.all(pollers.map((poller) => poller.stop()));
  pollers = [];
});
afterAll(async () => {
  await queues?.stop();
});

async function poll(queue: string, handler: SqsBatchHandler, options: Partial<SqsPollerOptions> = {}): Promise<SqsPoller> {
  const poller = new SqsPoller({ client: queues.client, queueUrl: url(queue), handler, ...options });
  pollers.push(poller);
  await poller.start();
  return poller;
}

function url(queue: string): string {
  const urls = queues.urls[queue];
  if (!urls) throw new Error(`no queue ${queue}`);
  return urls.queueUrl;
}

/** A client for the same server that counts the commands it sends and can fail the first few of one kind. */
function countingClient(failFirst: { command?: string; times?: number } = {}): { client: SQSClient; sent: Map<string, number> } {
  const client = new SQSClient({ endpoint: queues.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const sent = new Map<string, number>();
  let toFail = failFirst.times ?? 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      sent.set(name, (sent.get(name) ?? 0) + 1);
      if (name === failFirst.command && toFail > 0) {
        toFail--;
        throw Object.assign(new Error('injected outage'), { name: 'ServiceUnavailable' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, sent };
}

const failures = (records: SQSRecord[]): SQSBatchResponse => ({ batchItemFailures: records.map((record) => ({ itemIdentifier: record.messageId })) });

describe('SqsJobQueue on a FIFO queue', () => {
  it('delivers one deduplication id sent 100 times at once exactly once, and still drops it after the job ran', async () => {
    const jobs = new SqsJobQueue(queues.client, url('dedup'));
    await Promise.all(Array.from({ length: 100 }, (_, i) => jobs.enqueue({ groupId: 'mailbox-1', deduplicationId: 'sync-mailbox-1-h42', body: JSON.stringify({ i }) })));
    await jobs.enqueue({ groupId: 'mailbox-1', deduplicationId: 'sync-mailbox-1-h43', body: 'next history id' });

    const seen: string[] = [];
    const poller = await poll('dedup', async (event) => {
      for (const record of event.Records) seen.push(record.attributes.MessageDeduplicationId ?? '?');
    });
    await poller.drain({ timeoutMs: 5000 });
    expect(seen).toEqual(['sync-mailbox-1-h42', 'sync-mailbox-1-h43']);

    // Deleted, but still inside the 5-minute window: SQS drops it again. A re-sync trigger that
    // must run needs a new id, not the old one.
    await jobs.enqueue({ groupId: 'mailbox-1', deduplicationId: 'sync-mailbox-1-h42', body: 'again' });
    await poller.drain({ timeoutMs: 5000 });
    expect(seen).toHaveLength(2);
    expect(poller.stats).toMatchObject({ records: 2, deleted: 2, failed: 0, failedBatches: 0 });
  });

  it('runs one group at a time and in order while another group proceeds', async () => {
    const jobs = new SqsJobQueue(queues.client, url('order'));
    for (let n = 1; n <= 4; n++) {
      for (const group of ['mbx-a', 'mbx-b']) await jobs.enqueue({ groupId: group, deduplicationId: `${group}-${n}`, body: JSON.stringify({ group, n }) });
    }

    const log: string[] = [];
    const active = new Map<string, number>();
    let mostAtOnceInAGroup = 0;
    let a1Failures = 0;
    let a1ReceiveCountOnSuccess: string | undefined;
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const { group, n } = JSON.parse(record.body) as { group: string; n: number };
      active.set(group, (active.get(group) ?? 0) + 1);
      mostAtOnceInAGroup = Math.max(mostAtOnceInAGroup, active.get(group) ?? 0);
      log.push(`start ${group}-${n}`);
      try {
        await sleep(20);
        // Mailbox a's first job fails twice (a provider outage, say); b must not wait for it.
        if (group === 'mbx-a' && n === 1 && a1Failures < 2) {
          a1Failures++;
          throw new Error('mailbox a: provider unavailable');
        }
        if (group === 'mbx-a' && n === 1) a1ReceiveCountOnSuccess = record.attributes.ApproximateReceiveCount;
        log.push(`done ${group}-${n}`);
      } finally {
        active.set(group, (active.get(group) ?? 1) - 1);
      }
    };
    const poller = await poll(
      'order',
      (event: SQSEvent, context: Context) =>
        processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), { context, skipGroupOnError: true, throwOnFullBatchFailure: false }),
      { concurrency: 2 },
    );
    await poller.drain({ timeoutMs: 10_000 });

    const done = (group: string) => log.filter((line) => line.startsWith(`done ${group}`));
    expect(done('mbx-a')).toEqual(['done mbx-a-1', 'done mbx-a-2', 'done mbx-a-3', 'done mbx-a-4']);
    expect(done('mbx-b')).toEqual(['done mbx-b-1', 'done mbx-b-2', 'done mbx-b-3', 'done mbx-b-4']);
    // Nothing of group a ran past a-1 until a-1 succeeded, on its third receive...
    expect(log.filter((line) => line.startsWith('start mbx-a'))).toEqual(['start mbx-a-1', 'start mbx-a-1', 'start mbx-a-1', 'start mbx-a-2', 'start mbx-a-3', 'start mbx-a-4']);
    expect(a1ReceiveCountOnSuccess).toBe('3');
    // ...while group b finished meanwhile, and no group ever had two jobs running, with two pollers.
    expect(log.indexOf('done mbx-b-4')).toBeLessThan(log.indexOf('start mbx-a-2'));
    expect(mostAtOnceInAGroup).toBe(1);
    expect(poller.stats).toMatchObject({ records: 10, deleted: 8, failed: 2, failedBatches: 0 });
  });

  it('brings a reported failure back with a higher receive count, then dead-letters it after maxReceiveCount receives', async () => {
    const jobs = new SqsJobQueue(queues.client, url('retry'));
    await jobs.enqueue({ groupId: 'mbx-poison', deduplicationId: 'poison-1', body: 'poison' });
    await jobs.enqueue({ groupId: 'mbx-ok', deduplicationId: 'ok-1', body: 'fine' });

    const poisonCounts: string[] = [];
    let fine = 0;
    const poller = await poll('retry', async (event) => {
      const poison = event.Records.filter((record) => record.body === 'poison');
      for (const record of poison) poisonCounts.push(record.attributes.ApproximateReceiveCount);
      fine += event.Records.length - poison.length;
      return failures(poison);
    });
    await poller.drain({ timeoutMs: 10_000 });

    expect(poisonCounts).toEqual(['1', '2', '3']);
    expect(fine).toBe(1);
    const dlq = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.urls.retry?.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    expect(dlq.Messages?.map((message) => [message.Body, message.Attributes?.MessageGroupId, message.Attributes?.MessageDeduplicationId])).toEqual([
      ['poison', 'mbx-poison', 'poison-1'],
    ]);
  });
});

describe('SqsJobDeferral', () => {
  it('keeps a deferred record away for the seconds asked, past the queue visibility timeout, then redelivers it', async () => {
    const jobs = new SqsJobQueue(queues.client, url('defer'));
    const deferral = new SqsJobDeferral(queues.client, url('defer'));
    await jobs.enqueue({ groupId: 'mbx-rate-limited', deduplicationId: 'sync-1', body: 'sync' });

    const deliveries: Array<{ at: number; receiveCount: string }> = [];
    let deferredAt = 0;
    const poller = await poll('defer', async (event) => {
      for (const record of event.Records) deliveries.push({ at: Date.now(), receiveCount: record.attributes.ApproximateReceiveCount });
      if (deliveries.length > 1) return;
      for (const record of event.Records) await deferral.defer(record.receiptHandle, 2);
      deferredAt = Date.now();
      // Reported as failed so the poller (and Lambda) leaves it on the queue.
      return failures(event.Records);
    });
    await poller.drain({ timeoutMs: 8000 });

    expect(deliveries.map((d) => d.receiveCount)).toEqual(['1', '2']);
    const gap = (deliveries[1]?.at ?? 0) - deferredAt;
    // The queue's own timeout (1 s) would have brought it back after one second. fauxqs checks
    // deadlines every 20 ms; 100 ms of slack covers that and the round trip.
    expect(gap).toBeGreaterThanOrEqual(1900);
    expect(gap).toBeLessThan(4000);
  });

  it('clamps to 0..43200 seconds and rejects a non-number before any request', async () => {
    const jobs = new SqsJobQueue(queues.client, url('clamp'));
    await jobs.enqueue({ groupId: 'g', deduplicationId: 'clamp-1', body: 'x' });
    const receive = () => queues.client.send(new ReceiveMessageCommand({ QueueUrl: url('clamp'), WaitTimeSeconds: 0 }));
    const first = (await receive()).Messages?.[0];
    expect(first?.ReceiptHandle).toBeDefined();

    const { client, sent } = countingClient();
    const deferral = new SqsJobDeferral(client, url('clamp'));
    await expect(deferral.defer(first?.ReceiptHandle ?? '', Number.NaN)).rejects.toThrow(InvalidInput);
    expect(sent.size).toBe(0);
    // The server refuses more than 43,200, so this resolving shows the clamp.
    await deferral.defer(first?.ReceiptHandle ?? '', 99_999);
    expect((await receive()).Messages).toBeUndefined();
    // Below zero is zero: visible again at once.
    await deferral.defer(first?.ReceiptHandle ?? '', -5);
    expect((await receive()).Messages?.map((message) => message.Body)).toEqual(['x']);
    client.destroy();
  });
});

describe('id validation', () => {
  it('rejects invalid group and deduplication ids with a clear error before any request', async () => {
    const { client, sent } = countingClient();
    const jobs = new SqsJobQueue(client, url('ids'));
    const ok = { groupId: 'mailbox-1', deduplicationId: 'sync-1', body: 'x' };
    const cases: Array<[Partial<typeof ok>, RegExp]> = [
      [{ groupId: '' }, /groupId must be 1 to 128 characters/],
      [{ groupId: 'mailbox 1' }, /groupId/],
      [{ groupId: 'g'.repeat(129) }, /groupId.*129 characters/],
      [{ deduplicationId: 'd'.repeat(129) }, /deduplicationId.*129 characters/],
      [{ deduplicationId: 'café' }, /deduplicationId/],
      [{ deduplicationId: 'line\nbreak' }, /deduplicationId/],
    ];
    for (const [change, message] of cases) {
      const attempt = jobs.enqueue({ ...ok, ...change });
      await expect(attempt).rejects.toThrow(InvalidInput);
      await expect(attempt).rejects.toThrow(message);
    }
    // fauxqs itself accepts all of these ids (real SQS does not), so only the adapter stops them.
    expect(sent.size).toBe(0);

    // The edge: 128 characters using every punctuation mark SQS allows.
    const punctuation = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
    const edge = punctuation + 'a'.repeat(128 - punctuation.length);
    await jobs.enqueue({ groupId: edge, deduplicationId: edge, body: 'edge' });
    expect(Object.fromEntries(sent)).toEqual({ SendMessageCommand: 1 });

    // Nothing consumes it here: drain says so instead of hanging.
    const idle = new SqsPoller({ client, queueUrl: url('ids'), handler: async () => undefined });
    await expect(idle.drain({ timeoutMs: 100 })).rejects.toThrow(/not drained within 100 ms \(1 visible, 0 in flight, 0 delayed; 0 batches running; poller stopped/);
    client.destroy();
  });
});

describe('SqsPoller', () => {
  it('hands the handler records and a context shaped like Lambda’s', async () => {
    const body = '{"mailboxId":"m-1"}';
    await queues.client.send(
      new SendMessageCommand({
        QueueUrl: url('shape'),
        MessageBody: body,
        MessageGroupId: 'm-1',
        MessageDeduplicationId: 'shape-1',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'sync' }, blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) } },
      }),
    );
    const events: Array<{ event: SQSEvent; context: Context; remaining: number }> = [];
    const poller = await poll('shape', async (event, context) => {
      events.push({ event, context, remaining: context.getRemainingTimeInMillis() });
    });
    await poller.drain({ timeoutMs: 5000 });

    expect(events).toHaveLength(1);
    const { event, context, remaining } = events[0] as (typeof events)[number];
    const record = event.Records[0];
    expect(record).toEqual({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SequenceNumber: expect.stringMatching(/^\d+$/),
        MessageGroupId: 'm-1',
        SenderId: expect.any(String),
        MessageDeduplicationId: 'shape-1',
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        kind: { stringValue: 'sync', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: createHash('md5').update(body).digest('hex'),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:shape.fifo',
      awsRegion: 'us-east-1',
    });
    expect(context).toMatchObject({ functionName: 'shape', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shape', awsRequestId: expect.any(String) });
    expect(remaining).toBeGreaterThan(0);

    // Stopping abandons the long poll under way; that is not recorded as a failure.
    await poller.stop();
    expect(poller.running).toBe(false);
    expect(poller.lastError).toBeUndefined();
  });

  it('leaves the whole batch on the queue when the handler throws or names a record not in the batch', async () => {
    const jobs = new SqsJobQueue(queues.client, url('whole'));
    await jobs.enqueue({ groupId: 'g1', deduplicationId: 'w-1', body: 'one' });
    await jobs.enqueue({ groupId: 'g2', deduplicationId: 'w-2', body: 'two' });

    const received: string[] = [];
    let invocation = 0;
    const poller = await poll('whole', async (event) => {
      invocation++;
      for (const record of event.Records) received.push(`${record.body}#${record.attributes.ApproximateReceiveCount}`);
      if (invocation === 1) throw new Error('handler crashed');
      if (invocation === 2) return { batchItemFailures: [{ itemIdentifier: 'not-a-message-of-this-batch' }] };
      return undefined;
    });
    await poller.drain({ timeoutMs: 8000 });

    // Both were queued before the poller started, so they share every batch: both came back twice.
    expect(received.sort()).toEqual(['one#1', 'one#2', 'one#3', 'two#1', 'two#2', 'two#3']);
    expect(poller.stats.failedBatches).toBe(2);
    expect(poller.stats.deleted).toBe(2);
    expect(poller.lastHandlerError).toBeInstanceOf(Error);
    expect(String(poller.lastHandlerError)).toMatch(/not-a-message-of-this-batch/);
  });

  it('keeps polling after a failed receive, recording the error', async () => {
    const { client } = countingClient({ command: 'ReceiveMessageCommand', times: 1 });
    await new SqsJobQueue(client, url('flaky')).enqueue({ groupId: 'g', deduplicationId: 'f-1', body: 'after the outage' });
    const bodies: string[] = [];
    const poller = new SqsPoller({ client, queueUrl: url('flaky'), handler: async (event) => void bodies.push(...event.Records.map((r) => r.body)) });
    pollers.push(poller);
    await poller.start();
    await poller.drain({ timeoutMs: 5000 });

    expect(bodies).toEqual(['after the outage']);
    expect((poller.lastError as Error).message).toBe('injected outage');
    await poller.stop();
    client.destroy();
  });
});

describe('startLocalQueues', () => {
  it('adds a FIFO queue pair to the running server, its dead-letter queue behind a redrive policy, and refuses a name twice', async () => {
    const { queueUrl, dlqUrl } = await queues.addQueue({ name: 'added', visibilityTimeoutSeconds: 7, maxReceiveCount: 2 });
    expect(queues.urls.added).toEqual({ queueUrl, dlqUrl });
    const { Attributes } = await queues.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ FifoQueue: 'true', VisibilityTimeout: '7' });
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({ maxReceiveCount: 2, deadLetterTargetArn: expect.stringMatching(/added-dlq\.fifo$/) });

    await expect(queues.addQueue({ name: 'added' })).rejects.toThrow(/exists already/);
    await expect(queues.addQueue({ name: 'bad.fifo' })).rejects.toThrow(/invalid queue name/);
  });
});
