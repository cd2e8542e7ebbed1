// npm start's retention timers on the local stack (dynalite, s3rver, the real SDK): once a disconnected
// mailbox's deadline is within the sweep's lookahead, the timer's first run purges it — items and
// objects — without anyone running `purge run`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadLocalConfig } from '../../shared/config.js';
import { ingestMessage } from '../../shared/domain/ingest.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import { disconnectMailbox, type RetentionDeps } from '../../shared/domain/retention.js';
import { startRetentionTimers } from '../../shared/local/retention-runtime.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { until } from '../support/npm-start.js';
import { EicarScanner } from '../support/memory.js';

let dataDir: string;

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of stack.deps.blobs.list(prefix)) keys.push(object.key);
  return keys;
}
let stack: LocalStack;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-retention-timers-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new EicarScanner() });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

it('purges a disconnected mailbox whose deadline has come on the first run of the backstop timer', async () => {
  const mailbox = { tenantId: 'default', mailboxId: 'leaving', provider: 'local' as const, status: 'connected' as const, createdAt: new Date().toISOString() };
  await stack.deps.repo.putMailbox(mailbox);
  const raw = ['From: Eve <eve@customer.example>', 'To: support@helpdesk.example', 'Subject: going away', 'Message-ID: <gone@customer.example>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'bye', '--b', 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="a.pdf"', '', '%PDF-1.4 tiny', '--b--', ''].join('\r\n');
  await ingestMessage(stack.deps, Readable.from([Buffer.from(raw)]), { tenantId: 'default', mailboxId: 'leaving', mailbox, receivedAt: new Date() });
  const prefix = mailboxPrefix('default', 'leaving');
  expect((await keysUnder(prefix)).length).toBeGreaterThanOrEqual(2);

  const retention: RetentionDeps = { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock: stack.deps.clock };
  await disconnectMailbox(retention, 'default', 'leaving');
  // Thirty days on, as the timers see it.
  const later = { now: () => new Date(Date.now() + 30 * 86_400_000) };
  const timers = startRetentionTimers(stack, { ...retention, clock: later }, { info: () => undefined, warn: (line) => expect.fail(line) });
  try {
    const purged = await until('the backstop purge', async () => ((await stack.deps.repo.getMailbox('default', 'leaving'))?.purgedAt ? true : undefined), 20_000);
    expect(purged).toBe(true);
  } finally {
    await timers.stop();
  }
  expect(await keysUnder(prefix)).toEqual([]);
  expect(await stack.deps.repo.listTickets('default', 'leaving')).toEqual([]);
});
