// npm start's connector mail follows the AWS scan flow, on the real local stack: a message delivered
// into the sandbox's fake Gmail reaches the Gmail sync worker (webhook, FIFO queue on fauxqs, the
// production handler), which stores the attachments encrypted and `pending`; the local stand-in for
// the table's stream hands them to the PRODUCTION scanner handler, which decides them with the
// stack's own clamd. A clamd that is down leaves them pending (never served) and retried; once it is
// back they are scanned. A restart's backstop finds what a stopped stream still held.
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSubPushVerifier } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { loadGmailSettings, loadLocalConfig } from '../../shared/config.js';
import { AttachmentNotServable } from '../../shared/domain/errors.js';
import type { AttachmentRecord } from '../../shared/domain/model.js';
import { readAttachment } from '../../shared/domain/tickets.js';
import { startClamd, type RunningClamd } from '../../shared/local/clamd.js';
import { ensureDemoTenant } from '../../shared/local/consent-site.js';
import { GMAIL_SYNC_QUEUE, startLocalGmailRuntime, type LocalGmailRuntime } from '../../shared/local/gmail-runtime.js';
import { readBody, toHttpApiEvent, writeJson, writeResult } from '../../shared/local/http.js';
import { startLocalQueues, type LocalQueues } from '../../shared/local/queues.js';
import type { Reporter } from '../../shared/local/reporter.js';
import { DEMO_GMAIL_MAILBOX, GmailSandbox, SANDBOX_PUSH_SERVICE_ACCOUNT } from '../../shared/local/sandbox/gmail-sandbox.js';
import { startLocalScanStream, type LocalScanStream, type StreamDelivery } from '../../shared/local/scan-runtime.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { mimeMessage } from '../support/mail.js';
import { TEST_ACCESSOR } from '../support/memory.js';

const EICAR = readFileSync(join(import.meta.dirname, '../fixtures/attachments/eicar.com.txt'));
const CLEAN_PDF = readFileSync(join(import.meta.dirname, '../fixtures/attachments/clean.pdf'));
const { tenantId: TENANT, mailboxId: MAILBOX, address: ADDRESS } = DEMO_GMAIL_MAILBOX;

const lines: string[] = [];
const report: Reporter = { info: (line) => void lines.push(line), warn: (line) => void lines.push(line) };

let dataDir: string;
let stack: LocalStack;
let queues: LocalQueues;
let server: Server;
let sandbox: GmailSandbox;
let gmail: LocalGmailRuntime | undefined;
let scans: LocalScanStream;
/** The clamd started when the first one (the stack's own) is killed, on the same socket. */
let restarted: RunningClamd | null = null;

/**
 * What the stream handed the handler, and a gate a test may close to see the attachments before their
 * verdict; it opens to hand the batch on, or to drop it unanswered (as a killed process would).
 */
const batches: DynamoDBStreamEvent[] = [];
let gate: Promise<'deliver' | 'drop'> | null = null;
const intercept = async (event: DynamoDBStreamEvent, deliver: StreamDelivery) => {
  batches.push(event);
  if ((await gate) === 'drop') return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })) };
  return deliver(event);
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-scan-flow-'));
  // As npm start opens it: the stack starts its own clamd in the data dir, and the scanner is on it.
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }));
  if (!stack.endpoints.clamdSocket) throw new Error('ClamAV is not installed: run `sudo sh scripts/ensure-system-deps`');
  await ensureDemoTenant(stack, TENANT);
  queues = await startLocalQueues({ queues: [GMAIL_SYNC_QUEUE] });
  server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req, 1024 * 1024);
      if (!gmail || !body) return writeJson(res, 503, { error: 'starting' });
      writeResult(res, await gmail.webhook(toHttpApiEvent(req, body)));
    })().catch(() => writeJson(res, 500, { error: 'internal error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/gmail`;
  sandbox = await GmailSandbox.start({ webhookUrl, mailboxes: [DEMO_GMAIL_MAILBOX], report });
  scans = startLocalScanStream({ stack, report, retryMaxMs: 1000, intercept });
  gmail = await startLocalGmailRuntime({
    stack,
    queues,
    google: sandbox.google,
    verifier: new PubSubPushVerifier({ audience: webhookUrl, serviceAccountEmail: SANDBOX_PUSH_SERVICE_ACCOUNT, keys: createLocalJWKSet(sandbox.jwks()) }),
    settings: loadGmailSettings({}),
    safetySyncSeconds: 3600,
    owns: (owner) => sandbox.isSandboxMailbox(owner),
    scans,
    report,
  });
  await sandbox.connectMailboxes(gmail.lifecycle);
}, 120_000);

afterAll(async () => {
  await gmail?.stop();
  await scans?.stop();
  await sandbox?.stop();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await queues?.stop();
  await stack?.stop();
  await restarted?.stop();
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

let sequence = 0;
function mailWithAttachments(label: string): Buffer {
  sequence++;
  return mimeMessage({
    from: 'Nora Lind <nora@customer.example>',
    to: ADDRESS,
    subject: `scan flow ${label}`,
    messageId: `scan-flow-${sequence}-${Date.now()}@customer.example`,
    date: new Date().toUTCString(),
    text: 'Two files attached.',
    attachments: [
      { filename: 'eicar.com.txt', contentType: 'text/plain; name="eicar.com.txt"', bytes: EICAR },
      { filename: 'clean.pdf', contentType: 'application/pdf; name="clean.pdf"', bytes: CLEAN_PDF },
    ],
  });
}

/** Polls until `probe` yields a value; bounded. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Delivers into the fake Gmail and waits for the ticket the sync worker makes of it, with both attachment items. */
async function deliverAndAwaitAttachments(label: string): Promise<{ eicar: AttachmentRecord; pdf: AttachmentRecord; ticketId: string }> {
  const before = new Set((await stack.deps.repo.listTickets(TENANT, MAILBOX)).map((t) => t.ticketId));
  await sandbox.deliver(ADDRESS, mailWithAttachments(label));
  const ticketId = await until('the ticket', async () => (await stack.deps.repo.listTickets(TENANT, MAILBOX)).find((t) => !before.has(t.ticketId))?.ticketId);
  const attachments = await until('the attachment items', async () => {
    const found = await stack.deps.repo.listAttachments(TENANT, ticketId);
    return found.length === 2 ? found : undefined;
  });
  // The file names are sealed in the item; the content types tell the two apart.
  const eicar = attachments.find((a) => a.contentType.startsWith('text/plain'));
  const pdf = attachments.find((a) => a.contentType === 'application/pdf');
  if (!eicar || !pdf) throw new Error('the attachments are not the ones sent');
  return { eicar, pdf, ticketId };
}

async function scanOf(attachment: AttachmentRecord): Promise<AttachmentRecord | undefined> {
  return stack.deps.repo.getAttachment(TENANT, attachment.attachmentId);
}

async function expectHeldPending(...attachments: AttachmentRecord[]): Promise<void> {
  for (const attachment of attachments) {
    const stored = await scanOf(attachment);
    expect(stored).toMatchObject({ scan: 'pending' });
    expect(stored?.blobKey).toBeTruthy(); // stored encrypted, for the scanner
    await expect(readAttachment(stack.deps, TENANT, attachment.attachmentId, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);
  }
}

async function awaitVerdicts(eicar: AttachmentRecord, pdf: AttachmentRecord, timeoutMs = 30_000): Promise<void> {
  await until('the verdicts', async () => ((await scanOf(eicar))?.scan === 'infected' && (await scanOf(pdf))?.scan === 'clean' ? true : undefined), timeoutMs);
  expect(await scanOf(eicar)).toMatchObject({ scan: 'infected', blobKey: null });
  const served = await readAttachment(stack.deps, TENANT, pdf.attachmentId, TEST_ACCESSOR);
  expect(served.summary.scan).toBe('clean');
  expect((await buffer(served.content)).equals(CLEAN_PDF)).toBe(true);
  await expect(readAttachment(stack.deps, TENANT, eicar.attachmentId, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);
}

/** The pid of the clamd the stack started: the process whose command line names its config file. */
async function stackClamdPid(): Promise<number> {
  const config = join(dataDir, 'clamd', 'clamd.conf');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(config)) return Number(entry);
  }
  throw new Error("the stack's clamd is not running");
}

describe('connector mail on the local stack, scanned as in AWS', () => {
  it('stores the attachments pending (never served), then the production scanner handler records infected and clean', async () => {
    let open!: (how: 'deliver' | 'drop') => void;
    gate = new Promise((resolve) => (open = resolve));
    const seen = batches.length;
    const { eicar, pdf, ticketId } = await deliverAndAwaitAttachments('gated');

    // The stream has the records, and holds them: the sync worker's ingestion gave no verdict.
    const records = (await until('the stream records', async () => (batches.length > seen ? batches.slice(seen).flatMap((b) => b.Records) : undefined)));
    await expectHeldPending(eicar, pdf);
    expect(records.map((r) => [r.eventName, r.dynamodb?.NewImage?.entity?.S, r.dynamodb?.NewImage?.scan?.S, r.dynamodb?.NewImage?.tenantId?.S, r.dynamodb?.NewImage?.ticketId?.S]).sort()).toEqual([
      ['INSERT', 'attachment', 'pending', TENANT, ticketId],
      ['INSERT', 'attachment', 'pending', TENANT, ticketId],
    ]);
    expect(records.map((r) => r.dynamodb?.NewImage?.attachmentId?.S).sort()).toEqual([eicar.attachmentId, pdf.attachmentId].sort());

    open('deliver');
    gate = null;
    await awaitVerdicts(eicar, pdf);
    expect(scans.stats().metrics).toMatchObject({ attachments_infected: 1, attachments_scanned_clean: 1 });
  }, 60_000);

  it('keeps them pending while clamd is down, retrying, and scans them once it is back', async () => {
    const pid = await stackClamdPid();
    process.kill(pid, 'SIGTERM');
    await until('clamd to stop', async () => ((await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) === '' ? true : undefined));
    const failedBefore = scans.stats().failed;
    const errorsBefore = scans.stats().metrics.scan_errors ?? 0;

    const { eicar, pdf } = await deliverAndAwaitAttachments('clamd down');
    // Delivered, reported failed, and delivered again: two attempts for each of the two records.
    await until('two failed attempts', async () => (scans.stats().failed - failedBefore >= 4 ? true : undefined));
    await expectHeldPending(eicar, pdf);
    expect((scans.stats().metrics.scan_errors ?? 0) - errorsBefore).toBeGreaterThanOrEqual(4);
    expect(scans.stats().queued).toBe(2);
    expect(lines.some((line) => line.startsWith('scanner: attachments wait for a verdict'))).toBe(true);

    restarted = await startClamd({ dir: join(dataDir, 'clamd') });
    expect(restarted?.socketPath).toBe(stack.endpoints.clamdSocket);
    await awaitVerdicts(eicar, pdf);
    await until('the stream to empty', async () => (scans.stats().queued === 0 ? true : undefined));
  }, 120_000);

  it("a restart's backstop scans what the stopped stream still held", async () => {
    let open!: (how: 'deliver' | 'drop') => void;
    gate = new Promise((resolve) => (open = resolve));
    const seen = batches.length;
    const { eicar, pdf } = await deliverAndAwaitAttachments('restart');
    await until('the stream records', async () => (batches.length > seen ? true : undefined));

    // npm start stopping: the gated batch is dropped unanswered, as a killed process would leave it.
    const stopping = scans.stop();
    gate = null;
    open('drop');
    await stopping;
    await expectHeldPending(eicar, pdf);

    const fresh = startLocalScanStream({ stack, report });
    try {
      await awaitVerdicts(eicar, pdf);
      await until('the backstop run to end', async () => (fresh.stats().backstopRuns === 1 ? true : undefined));
      expect(fresh.stats().delivered).toBe(0);
      expect(fresh.stats().metrics).toMatchObject({ attachments_infected: 1, attachments_scanned_clean: 1 });
    } finally {
      await fresh.stop();
    }
  }, 60_000);
});
