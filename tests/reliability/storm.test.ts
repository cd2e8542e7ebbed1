// Duplicate storms and a burst through both connectors as npm start runs them (see
// bench/reliability-queues.ts for the composition): notifications over HTTP to the real webhook
// handlers, FIFO sync queues on fauxqs, the sync handlers on Lambda-style pollers, dynalite, s3rver.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burst, customerMail, startReliabilityWorld, storedMessages, type ReliabilityMailbox, type ReliabilityWorld } from '../../bench/reliability-queues.js';

let world: ReliabilityWorld;

beforeAll(async () => {
  world = await startReliabilityWorld({ visibilityTimeoutSeconds: 5, maxReceiveCount: 4 });
}, 60_000);
afterAll(async () => {
  await world?.stop();
  expect(world.gmail.fake.errors).toEqual([]);
  expect(world.graph.fake.errors).toEqual([]);
});

async function expectStoredOnce(mailbox: ReliabilityMailbox): Promise<void> {
  const tickets = await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId);
  expect(tickets).toHaveLength(1);
  expect(await world.repo.listMessages(mailbox.tenantId, tickets[0]!.ticketId)).toHaveLength(1);
  const attachments = await world.repo.listAttachments(mailbox.tenantId, tickets[0]!.ticketId);
  expect(attachments.map((a) => [a.contentType, a.scan, a.blobKey !== null])).toEqual([['application/pdf', 'clean', true]]);
  expect(await world.objects(mailbox)).toEqual({ raw: 1, att: 1 });
}

describe('duplicate storm', () => {
  it('gmail: one Pub/Sub push delivered 100 times at once is one job, one ticket, one raw message, one attachment', async () => {
    const mailbox = await world.addMailbox('gmail', 'storm');
    // The fake's own push is held back: the storm below is the only notification.
    const onChange = world.gmail.fake.onChange;
    world.gmail.fake.onChange = undefined;
    try {
      world.deliver(mailbox, customerMail(mailbox.address, 'gmail-storm', { attachment: randomBytes(4096) }));
    } finally {
      world.gmail.fake.onChange = onChange;
    }
    const before = world.gmail.poller.stats.records;
    const push = await world.gmailPush(mailbox, '90210001');
    const statuses = await Promise.all(Array.from({ length: 100 }, () => world.postGmailPush(push)));
    expect(statuses.filter((s) => s === 204)).toHaveLength(100);
    await world.drain(30_000);
    expect(world.gmail.poller.stats.records - before).toBe(1);
    await expectStoredOnce(mailbox);
  });

  it('gmail: 100 distinct pushes for the same change at once make 100 jobs and still one ticket, one raw message, one attachment', async () => {
    const mailbox = await world.addMailbox('gmail', 'storm-distinct');
    const onChange = world.gmail.fake.onChange;
    world.gmail.fake.onChange = undefined;
    try {
      world.deliver(mailbox, customerMail(mailbox.address, 'gmail-storm-distinct', { attachment: randomBytes(4096) }));
    } finally {
      world.gmail.fake.onChange = onChange;
    }
    const pushes = await Promise.all(Array.from({ length: 100 }, (_, i) => world.gmailPush(mailbox, String(90220000 + i))));
    const statuses = await Promise.all(pushes.map((push) => world.postGmailPush(push)));
    expect(statuses.filter((s) => s === 204)).toHaveLength(100);
    await world.drain(60_000);
    await expectStoredOnce(mailbox);
  });

  it('graph: one change notification delivered 100 times at once is one job, one ticket, one raw message, one attachment', async () => {
    const mailbox = await world.addMailbox('graph', 'storm');
    const before = world.graph.poller.stats.records;
    const postedBefore = world.graphPosts.length;
    world.deliver(mailbox, customerMail(mailbox.address, 'graph-storm', { attachment: randomBytes(4096) }));
    await world.graph.fake.idle();
    const notification = world.graphPosts.slice(postedBefore).find((body) => body.includes('"changeType":"created"'));
    expect(notification).toBeDefined();
    const statuses = await Promise.all(Array.from({ length: 100 }, () => world.postGraph(notification!)));
    expect(statuses.filter((s) => s === 202)).toHaveLength(100);
    await world.drain(30_000);
    // Graph's own notification and the 100 replays carry one deduplication id: one job.
    expect(world.graph.poller.stats.records - before).toBe(1);
    await expectStoredOnce(mailbox);
  });
});

describe('burst', () => {
  it('10 mailboxes × 50 messages delivered at once: every message is exactly one ticket or append (regression: a graph reply ingested beside its original started a second ticket)', async () => {
    const mailboxes: ReliabilityMailbox[] = [];
    for (let i = 0; i < 5; i++) mailboxes.push(await world.addMailbox('gmail', `burst${i}`), await world.addMailbox('graph', `burst${i}`));
    const result = await burst(world, mailboxes, 50, 75_000);
    for (const mailbox of mailboxes) {
      // Every fifth message answers the one before it: 40 tickets holding 50 messages.
      expect({ mailbox: mailbox.mailboxId, ...(await storedMessages(world, mailbox)) }).toEqual({ mailbox: mailbox.mailboxId, tickets: 40, messages: 50 });
      expect(await world.objects(mailbox)).toEqual({ raw: 50, att: 0 });
    }
    expect(await world.queueDepth()).toBe(0);
    console.info(
      `burst: ${result.messages} messages in ${result.seconds.toFixed(1)} s = ${result.messagesPerSecond.toFixed(1)} messages/s; peak queue depth ${result.peakQueueDepth} jobs`,
    );
  }, 90_000);
});
