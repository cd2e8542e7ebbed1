// A poison message: one provider message whose fetch always fails (the fake answers 500), in a
// mailbox that keeps receiving mail. Its sync is retried on the queue's schedule; on the last attempt
// the message is parked as a job of its own so the mailbox's other mail goes on; that job reaches the
// dead-letter queue after maxReceiveCount receives, where `dlq list` shows it and `dlq redrive` —
// once the fault is gone — brings it in exactly once. Both connectors, as npm start composes them.
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalQueues } from '../../shared/local/queues.js';
import { customerMail, startReliabilityWorld, type ReliabilityMailbox, type ReliabilityWorld } from '../../bench/reliability-queues.js';
import { deadLetterQueueOf, listDeadLetters, redriveDeadLetters, type DeadLetterQueue } from '../../shared/cli/dlq-commands.js';
import { until } from './outage-support.js';

const VISIBILITY_SECONDS = 2;
const MAX_RECEIVES = 3;
/** How long a failing job can hold its group: every receive waits out the visibility timeout once. */
const RETRY_SCHEDULE_MS = MAX_RECEIVES * VISIBILITY_SECONDS * 1000;
/** Inline retries, the poller's long polls and a shared machine. */
const SLACK_MS = 6_000;

let world: ReliabilityWorld;

beforeAll(async () => {
  world = await startReliabilityWorld({ visibilityTimeoutSeconds: VISIBILITY_SECONDS, maxReceiveCount: MAX_RECEIVES });
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

async function visibleIn(queueUrl: string): Promise<number> {
  const { Attributes } = await world.queues.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

const ticketCount = (mailbox: ReliabilityMailbox) => world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId).then((t) => t.length);

describe.each(['gmail', 'graph'] as const)('poison message (%s)', (provider) => {
  // Regression: a message whose every fetch failed was deferred as throttling and continued as a fresh
  // job for ever — never dead-lettered — and (Gmail) its mailbox's later mail never came in.
  it('a message whose fetch always fails: the others arrive within the retry schedule, it is dead-lettered, `dlq list` shows it, `dlq redrive` brings it in exactly once (regression: poison message stalled its mailbox for ever)', async () => {
    const connector = provider === 'gmail' ? world.gmail : world.graph;
    const dlq: DeadLetterQueue = { queue: provider, sourceUrl: connector.queueUrl, dlqUrl: await deadLetterQueueOf(world.queues.client, connector.queueUrl) };
    expect(dlq.dlqUrl).toBe(connector.dlqUrl);
    const mailbox = await world.addMailbox(provider, 'poison');

    const started = Date.now();
    const poison = world.deliver(mailbox, customerMail(mailbox.address, `${provider}-poison`));
    world.poisoned.add(poison);
    for (let i = 0; i < 3; i++) world.deliver(mailbox, customerMail(mailbox.address, `${provider}-after-${i}`));

    // The mailbox's other mail: within the retry schedule of the job the poison message failed.
    await until('the three healthy messages as tickets', RETRY_SCHEDULE_MS + SLACK_MS, () => ticketCount(mailbox), (n) => n >= 3);
    const othersMs = Date.now() - started;
    // The poison message's own job: dead-lettered after its receives.
    await until('the parked job in the dead-letter queue', 2 * RETRY_SCHEDULE_MS + SLACK_MS, () => visibleIn(dlq.dlqUrl), (n) => n >= 1);
    const deadLetteredMs = Date.now() - started;
    console.info(`poison (${provider}): other messages in ${othersMs} ms, dead-lettered after ${deadLetteredMs} ms (retry schedule ${RETRY_SCHEDULE_MS} ms)`);
    await world.drain(30_000);
    expect(await ticketCount(mailbox)).toBe(3);

    const listed = await listDeadLetters(world.queues.client, dlq);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ queue: provider, job: { tenantId: mailbox.tenantId, mailboxId: mailbox.mailboxId, reason: 'message', providerMessageId: poison } });
    expect(listed[0]!.receiveCount).toBeGreaterThan(MAX_RECEIVES);
    expect(listed[0]!.firstReceivedAt).not.toBeNull();
    expect(listed[0]!.group).toEqual(expect.any(String));
    // Listing leaves it where it was.
    expect(await visibleIn(dlq.dlqUrl)).toBe(1);

    // Nothing comes in while the fault lasts; once it is gone, the redrive brings the message in once.
    world.poisoned.delete(poison);
    const redriven = await redriveDeadLetters(world.queues.client, dlq, [listed[0]!.messageId]);
    expect(redriven.map((r) => r.messageId)).toEqual([listed[0]!.messageId]);
    expect(redriven[0]!.group).toBe(listed[0]!.group);
    await world.drain(30_000);
    expect(await ticketCount(mailbox)).toBe(4);
    expect(await world.objects(mailbox)).toEqual({ raw: 4, att: 0 });
    expect(await visibleIn(dlq.dlqUrl)).toBe(0);
    expect(await listDeadLetters(world.queues.client, dlq)).toEqual([]);
    expect(await redriveDeadLetters(world.queues.client, dlq)).toEqual([]);
  }, 60_000);
});

describe('dlq redrive on a FIFO dead-letter queue', () => {
  it('lists the first job of each group, moves every group back in order with fresh deduplication ids, and leaves a job behind its group head alone', async () => {
    const queues = await startLocalQueues({ queues: [{ name: 'redrive-order' }] });
    try {
      const { queueUrl, dlqUrl } = queues.urls['redrive-order']!;
      const dlq: DeadLetterQueue = { queue: 'gmail', sourceUrl: queueUrl, dlqUrl: await deadLetterQueueOf(queues.client, queueUrl) };
      expect(dlq.dlqUrl).toBe(dlqUrl);
      const ids: Record<string, string> = {};
      for (const [name, group] of [['a1', 'acme.inbox'], ['a2', 'acme.inbox'], ['b1', 'globex.inbox']] as const) {
        const body = JSON.stringify({ tenantId: group.split('.')[0], mailboxId: 'inbox', reason: 'push', secret: 'not shown' });
        // The same deduplication ids the source queue saw: a redrive must not reuse them.
        const sent = await queues.client.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: `push-${name}` }));
        ids[name] = sent.MessageId!;
        await queues.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: `push-${name}` }));
      }
      // Empty the source queue (the originals ran) before redriving.
      for (let n = 0; n < 3; n++) {
        const { Messages } = await queues.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
        for (const m of Messages ?? []) await queues.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }

      const listed = await listDeadLetters(queues.client, dlq);
      expect(listed.map((l) => l.messageId).sort()).toEqual([ids.a1, ids.b1].sort());
      expect(listed.find((l) => l.messageId === ids.a1)).toMatchObject({ group: 'acme.inbox', job: { tenantId: 'acme', mailboxId: 'inbox', reason: 'push' } });
      expect(JSON.stringify(listed)).not.toContain('not shown');

      // a2 waits behind a1 in its group: it cannot be reached alone.
      expect(await redriveDeadLetters(queues.client, dlq, [ids.a2!])).toEqual([]);
      const moved = await redriveDeadLetters(queues.client, dlq);
      expect(moved.map((m) => m.messageId).sort()).toEqual([ids.a1, ids.a2, ids.b1].sort());
      expect(await listDeadLetters(queues.client, dlq)).toEqual([]);

      const arrived: Array<[string, string]> = [];
      for (let n = 0; n < 5 && arrived.length < 3; n++) {
        const { Messages } = await queues.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId'] }));
        for (const m of Messages ?? []) {
          arrived.push([m.Attributes!.MessageGroupId!, m.MessageId!]);
          await queues.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }
      }
      const redrivenAs = Object.fromEntries(moved.map((m) => [m.messageId, m.redrivenAs]));
      expect(arrived.filter(([group]) => group === 'acme.inbox').map(([, id]) => id)).toEqual([redrivenAs[ids.a1!], redrivenAs[ids.a2!]]);
      expect(arrived.filter(([group]) => group === 'globex.inbox').map(([, id]) => id)).toEqual([redrivenAs[ids.b1!]]);
    } finally {
      await queues.stop();
    }
  });
});
