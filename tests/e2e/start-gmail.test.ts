// `npm start`'s sandbox, run as a child process like start.test.ts: mail delivered into the fake
// Gmail's demo mailbox with `sandbox send` reaches a ticket through the real path — the fake's signed
// push to the real webhook, a sync job on the local FIFO queue, the sync worker fetching the raw
// message — and, during a push outage, through the safety sync alone. Forged pushes are refused; a
// restart reconnects the demo mailbox to the fresh fake without a stale cursor.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NpmStartHarness, ROOT, until } from '../support/npm-start.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';

const DEMO = 'support@sandbox-gmail.example';
const FIXTURE = join(ROOT, 'tests/fixtures/mail/plain-text.eml');
const harness = new NpmStartHarness({ MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS: '3' });
const { start, outputOf, healthy, stop, cli, json } = harness;
let mailDir: string;

interface Stats {
  gmail: { delivered: number; pushes: { sent: number; byStatus: Record<string, number>; dropped: number }; fake: { rawFetches: number } };
  connector: { webhook: Record<string, number>; safetySyncRuns: number };
}
interface Mailbox {
  mailboxId: string;
  provider: string;
  status: string;
  connection?: { lastNotifiedAt?: string; lastIssue?: { code: string } };
}

/** The sandbox's counters, read straight from its control route (the CLI's `sandbox status` prints the same). */
async function stats(): Promise<Stats> {
  const response = await fetch(`http://127.0.0.1:${harness.port}/sandbox/stats`, { headers: { 'x-mail2ticket-sandbox': '1' } });
  expect(response.status).toBe(200);
  return (await response.json()) as Stats;
}
const rawFetches = (n: number) => until(`${n} raw fetch(es) at the fake`, async () => ((await stats()).gmail.fake.rawFetches >= n ? true : undefined));
const tickets = () => json<Array<{ ticketId: string; mailboxId: string; subject: string }>>('tickets', 'list');

async function mail(subject: string): Promise<string> {
  const file = join(mailDir, `${randomBytes(6).toString('hex')}.eml`);
  const id = `${randomBytes(8).toString('hex')}@customer.example`;
  await writeFile(file, [`From: Carol <carol@customer.example>`, `To: ${DEMO}`, `Subject: ${subject}`, `Message-ID: <${id}>`, 'Date: Wed, 02 Dec 2026 09:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Hello from the sandbox.', ''].join('\r\n'));
  return file;
}

beforeAll(async () => {
  await harness.setup('m2t-start-gmail-');
  mailDir = await mkdtemp(join(tmpdir(), 'm2t-start-gmail-mail-'));
});
afterAll(async () => {
  await harness.teardown();
  await rm(mailDir, { recursive: true, force: true });
});

describe('npm start sandbox (Gmail)', () => {
  it('says so and exits 1 when no npm start runs', async () => {
    const result = await cli('sandbox', 'send', FIXTURE, '--mailbox', DEMO);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/npm start is not running/);
  });

  it('turns sandbox mail into tickets through the webhook, catches up an outage by the safety sync, refuses forged pushes, and restarts clean', async () => {
    const first = start();
    await healthy();
    expect(outputOf(first)).toContain(`sandbox send tests/fixtures/mail/plain-text.eml --mailbox ${DEMO}`);
    const webhook = `http://127.0.0.1:${harness.port}/webhooks/gmail`;

    // Mail arrives: the fake pushes, the webhook enqueues, the worker fetches the raw message.
    const sent = await json<{ mailbox: string; providerMessageId: string; threadId: string }>('sandbox', 'send', FIXTURE, '--mailbox', DEMO);
    expect(sent).toMatchObject({ mailbox: DEMO, providerMessageId: expect.stringMatching(/^[0-9a-f]{16}$/), threadId: expect.any(String) });
    await rawFetches(1);
    const [ticket] = await until('the pushed ticket', async () => {
      const list = await tickets();
      return list.length === 1 ? list : undefined;
    });
    expect(ticket).toMatchObject({ mailboxId: 'gmail-demo', subject: 'Printer on floor 3 is jammed' });
    const afterPush = await stats();
    expect(afterPush.gmail.pushes.sent).toBe(1);
    expect(afterPush.gmail.pushes.byStatus).toEqual({ '204': 1 });
    expect(afterPush.connector.webhook['204']).toBe(1);
    expect(afterPush.gmail.fake.rawFetches).toBe(1);
    const [mailbox] = await json<Mailbox[]>('mailboxes', 'list');
    expect(mailbox).toMatchObject({ mailboxId: 'gmail-demo', provider: 'gmail', status: 'connected' });
    expect(mailbox?.connection?.lastNotifiedAt).toBeDefined(); // only a push's job records it

    // Forged pushes: no token, and a token signed by a key that is not the sandbox's.
    expect((await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const forger = await PubSubPushEmitter.create({ audience: webhook, serviceAccountEmail: 'gmail-push@mail2ticket-sandbox.iam.gserviceaccount.com' });
    expect(await forger.push(webhook, { emailAddress: DEMO, historyId: '1' })).toBe(401);

    // An outage: the change is not pushed, and the safety sync brings the mail in all the same.
    const outage = await json<{ until: string }>('sandbox', 'outage', '--mailbox', DEMO, '--minutes', '5');
    expect(Date.parse(outage.until)).toBeGreaterThan(Date.now());
    const runsBefore = (await stats()).connector.safetySyncRuns;
    await json('sandbox', 'send', await mail('Arrived during an outage'), '--mailbox', DEMO);
    await rawFetches(2);
    await until('the ticket of the outage', async () => ((await tickets()).some((t) => t.subject === 'Arrived during an outage') ? true : undefined));
    const afterOutage = await stats();
    expect(afterOutage.gmail.pushes.dropped).toBe(1);
    expect(afterOutage.gmail.pushes.sent).toBe(1);
    expect(afterOutage.connector.webhook).toEqual({ '204': 1, '401': 2 });
    expect(afterOutage.gmail.fake.rawFetches).toBe(2);
    expect(afterOutage.connector.safetySyncRuns).toBeGreaterThan(runsBefore);
    // What the CLI reports is what the control route counted.
    expect(await json<Stats>('sandbox', 'status')).toMatchObject({ gmail: { delivered: 2, pushes: { sent: 1, dropped: 1 } } });

    expect(await stop(first)).toBe(0);
    expect(await readdir(harness.dataDir)).not.toContain('stack.json');

    // A restart: the fake is new and empty, its historyIds start low again; the demo mailbox is
    // reconnected from the fresh watch, so new mail syncs by history (no 404, no full sync).
    const second = start();
    await healthy();
    await json('sandbox', 'send', await mail('After the restart'), '--mailbox', DEMO);
    await rawFetches(1);
    await until('the ticket after the restart', async () => ((await tickets()).some((t) => t.subject === 'After the restart') ? true : undefined));
    expect((await tickets()).length).toBe(3);
    const [again] = await json<Mailbox[]>('mailboxes', 'list');
    expect(again?.connection?.lastIssue).toBeUndefined();
    expect(await stop(second)).toBe(0);
    expect(outputOf(second)).not.toMatch(/failed|error/i);
    // About 25 s on an idle machine; the limit leaves room for a loaded one.
  }, 150_000);
});
