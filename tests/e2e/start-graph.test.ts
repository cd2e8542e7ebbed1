// `npm start`'s Microsoft 365 sandbox, run as a child process like start-gmail.test.ts: mail delivered
// into the fake Graph's demo mailbox with `sandbox send` reaches a ticket through the real path — the
// fake's change notification to the real webhook, a sync job on the local FIFO queue, the sync worker
// fetching the MIME ($value) — and, during a notification outage, through the safety sync alone.
// Notifications with a wrong clientState enqueue nothing; the validation handshake echoes the decoded
// token; the CLI syncs and replies through the sandbox's fakes; a restart reconnects the demo mailbox
// to the fresh fake without the last run's delta link.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NpmStartHarness, ROOT, until } from '../support/npm-start.js';

const DEMO = 'support@sandbox-m365.example';
const FIXTURE = join(ROOT, 'tests/fixtures/mail/plain-text.eml');
const harness = new NpmStartHarness({ MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS: '3' });
const { start, outputOf, healthy, stop, cli, json } = harness;
let mailDir: string;

interface Stats {
  graph: {
    delivered: number;
    notifications: { posted: number; byStatus: Record<string, number>; dropped: number; unanswered: number };
    fake: { valueFetches: number };
  };
  graphConnector: { webhook: Record<string, number>; safetySyncRuns: number; metrics: Record<string, number> };
}
interface Mailbox {
  mailboxId: string;
  provider: string;
  status: string;
  connection?: { cursor?: string; subscriptionId?: string; lastIssue?: { code: string } };
}

/** The sandbox's counters, read straight from its control route (the CLI's `sandbox status` prints the same). */
async function stats(): Promise<Stats> {
  const response = await fetch(`http://127.0.0.1:${harness.port}/sandbox/stats`, { headers: { 'x-mail2ticket-sandbox': '1' } });
  expect(response.status).toBe(200);
  return (await response.json()) as Stats;
}
const valueFetches = (n: number) => until(`${n} $value fetch(es) at the fake`, async () => ((await stats()).graph.fake.valueFetches >= n ? true : undefined));
const tickets = () => json<Array<{ ticketId: string; mailboxId: string; subject: string }>>('tickets', 'list', '--mailbox', 'm365-demo');
const ticketWith = (subject: string) => until(`the ticket "${subject}"`, async () => (await tickets()).find((t) => t.subject === subject));
const demoMailbox = async () => (await json<Mailbox[]>('mailboxes', 'list')).find((m) => m.mailboxId === 'm365-demo');

async function mail(subject: string): Promise<string> {
  const file = join(mailDir, `${randomBytes(6).toString('hex')}.eml`);
  const id = `${randomBytes(8).toString('hex')}@customer.example`;
  await writeFile(file, [`From: Dana <dana@customer.example>`, `To: ${DEMO}`, `Subject: ${subject}`, `Message-ID: <${id}>`, 'Date: Wed, 02 Dec 2026 09:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Hello from the Microsoft 365 sandbox.', ''].join('\r\n'));
  return file;
}

async function post(path: string, body: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`http://127.0.0.1:${harness.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

beforeAll(async () => {
  await harness.setup('m2t-start-graph-');
  mailDir = await mkdtemp(join(tmpdir(), 'm2t-start-graph-mail-'));
});
afterAll(async () => {
  await harness.teardown();
  await rm(mailDir, { recursive: true, force: true });
});

describe('npm start sandbox (Microsoft 365)', () => {
  it('turns sandbox mail into tickets through the webhook, refuses a wrong clientState, catches up an outage by the safety sync, serves the CLI, and restarts clean', async () => {
    const first = start();
    await healthy();
    expect(outputOf(first)).toContain(`sandbox send tests/fixtures/mail/plain-text.eml --mailbox ${DEMO}`);

    // The validation handshake, on both routes: the decoded token back as text/plain.
    for (const path of ['/webhooks/graph', '/webhooks/graph/lifecycle']) {
      const answer = await post(`${path}?validationToken=a%20b`, '');
      expect(answer).toMatchObject({ status: 200, text: 'a b' });
      expect(answer.type).toMatch(/^text\/plain/);
    }

    // Mail arrives: the fake posts a change notification, the webhook enqueues, the worker fetches the MIME.
    const sent = await json<{ mailbox: string; provider: string; providerMessageId: string; threadId: string }>('sandbox', 'send', FIXTURE, '--mailbox', DEMO);
    expect(sent).toMatchObject({ mailbox: DEMO, provider: 'graph', providerMessageId: expect.any(String), threadId: expect.any(String) });
    await valueFetches(1);
    const ticket = await ticketWith('Printer on floor 3 is jammed');
    expect(ticket.mailboxId).toBe('m365-demo');
    const afterNotification = await stats();
    expect(afterNotification.graph.notifications).toEqual({ posted: 1, byStatus: { '202': 1 }, dropped: 0, unanswered: 0 });
    expect(afterNotification.graphConnector.webhook['202']).toBe(1);
    expect(afterNotification.graphConnector.metrics['graph.notification_accepted']).toBe(1);
    expect(afterNotification.graph.fake.valueFetches).toBe(1);

    // A notification for the real subscription with a guessed clientState, and one for an unknown
    // subscription: refused (401), nothing enqueued, nothing fetched.
    const connected = await demoMailbox();
    const subscriptionId = connected?.connection?.subscriptionId;
    expect(subscriptionId).toEqual(expect.any(String));
    const firstFake = new URL(connected?.connection?.cursor ?? '').origin;
    const forged = { subscriptionId, clientState: 'guessed', changeType: 'created', resource: 'Users/x/Messages/AAMk1', resourceData: { id: 'AAMk1' } };
    expect((await post('/webhooks/graph', JSON.stringify({ value: [forged] }))).status).toBe(401);
    expect((await post('/webhooks/graph', JSON.stringify({ value: [{ ...forged, subscriptionId: '00000000-0000-4000-8000-000000000000' }] }))).status).toBe(401);
    const afterForgery = await stats();
    expect(afterForgery.graphConnector.metrics['graph.notification_rejected']).toBe(2);
    expect(afterForgery.graphConnector.metrics['graph.notification_accepted']).toBe(1);
    expect(afterForgery.graphConnector.webhook['202']).toBe(1);
    expect(afterForgery.graphConnector.webhook['401']).toBe(2);

    // An outage: the change is not notified, and the safety sync brings the mail in all the same.
    const outage = await json<{ until: string }>('sandbox', 'outage', '--mailbox', DEMO, '--minutes', '5');
    expect(Date.parse(outage.until)).toBeGreaterThan(Date.now());
    const runsBefore = (await stats()).graphConnector.safetySyncRuns;
    await json('sandbox', 'send', await mail('Arrived during an outage'), '--mailbox', DEMO);
    await valueFetches(2);
    await ticketWith('Arrived during an outage');
    const afterOutage = await stats();
    expect(afterOutage.graph.notifications).toEqual({ posted: 1, byStatus: { '202': 1 }, dropped: 1, unanswered: 0 });
    expect(afterOutage.graphConnector.metrics['graph.notification_accepted']).toBe(1);
    expect(afterOutage.graph.fake.valueFetches).toBe(2);
    expect(afterOutage.graphConnector.safetySyncRuns).toBeGreaterThan(runsBefore);
    expect((await tickets()).length).toBe(2);
    // What the CLI reports is what the control route counted.
    const status = await cli('sandbox', 'status');
    expect(status.stdout).toContain(`sandbox Microsoft 365 (${DEMO} → default/m365-demo)`);
    expect(status.stdout).toContain('notifications: 1 posted (202: 1), 1 dropped by an outage, 0 unanswered');

    // The CLI on a sandbox mailbox talks to the sandbox's fakes (from stack.json), trusting its test CA.
    expect(await json('mailboxes', 'sync', 'm365-demo')).toMatchObject({ outcome: 'synced', added: 0 });
    const body = join(mailDir, 'reply.txt');
    await writeFile(body, 'A technician is on the way.\n');
    expect(await json('replies', 'send', ticket.ticketId, '--body-file', body)).toMatchObject({ status: 'sent' });

    expect(await stop(first)).toBe(0);
    expect(await readdir(harness.dataDir)).not.toContain('stack.json');

    // A restart: the fake is new and empty on new ports. The demo mailbox is subscribed anew and its
    // delta cursor starts on the new fake: no link into the last run's fake, no delta_expired.
    const second = start();
    await healthy();
    const reconnected = await demoMailbox();
    expect(reconnected?.connection?.subscriptionId).not.toBe(subscriptionId);
    expect(new URL(reconnected?.connection?.cursor ?? '').origin).not.toBe(firstFake);
    await json('sandbox', 'send', await mail('After the restart'), '--mailbox', DEMO);
    await ticketWith('After the restart');
    const afterRestart = await stats();
    expect(afterRestart.graph.notifications.byStatus).toEqual({ '202': 1 });
    expect(afterRestart.graph.fake.valueFetches).toBe(1);
    expect((await demoMailbox())?.connection?.lastIssue).toBeUndefined();
    expect(await stop(second)).toBe(0);
    expect(outputOf(first) + outputOf(second)).not.toMatch(/failed|error/i);
    // About 30 s on an idle machine (most of it CLI runs); the limit leaves room for a loaded one.
  }, 120_000);
});
