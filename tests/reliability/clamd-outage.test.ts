// clamd down, hung, and back, on the local stack (dynalite, s3rver, local keys) with a PRIVATE real
// clamd that this file starts, stops, freezes and restarts (the run's shared clamd is never touched).
// While clamd is away every attachment is recorded `unscanned` and held: never served, by the use-case
// nor by `attachments get`. When it returns, `attachments rescan` decides each one: the clean PDF is
// served byte for byte, EICAR is recorded infected and its stored bytes are deleted.
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { attachmentsCommand } from '../../shared/cli/commands.js';
import { loadLocalConfig } from '../../shared/config.js';
import { AttachmentNotServable } from '../../shared/domain/errors.js';
import { ingestMessage, type IngestResult } from '../../shared/domain/ingest.js';
import { readAttachment } from '../../shared/domain/tickets.js';
import { startClamd, type RunningClamd } from '../../shared/local/clamd.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { TEST_SCAN_LIMITS } from '../support/global-setup.js';
import { TEST_ACCESSOR } from '../support/memory.js';

const TENANT = 'default';
const MAILBOX = 'default';
const CLEAN_PDF = readFileSync(join(import.meta.dirname, '../fixtures/attachments/clean.pdf'));
const EICAR = readFileSync(join(import.meta.dirname, '../fixtures/attachments/eicar.com.txt'));
/** Short, so a frozen clamd costs the ingestion seconds, not the default minute. */
const SCAN_TIMEOUT_MS = 2_000;

let dataDir: string;
let clamdDir: string;
let clamd: RunningClamd | null = null;
let stack: LocalStack;
let socketPath: string;
let sequence = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-clamd-outage-'));
  clamdDir = await mkdtemp(join(tmpdir(), 'm2t-clamd-own-'));
  clamd = await startClamd({ dir: clamdDir, ...TEST_SCAN_LIMITS });
  if (!clamd) throw new Error('ClamAV is not installed: run `sudo sh scripts/ensure-system-deps`');
  socketPath = clamd.socketPath;
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new ClamdScanner({ socketPath, timeoutMs: SCAN_TIMEOUT_MS }) });
  await stack.deps.repo.putMailbox({ tenantId: TENANT, mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: new Date().toISOString() });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await clamd?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(clamdDir, { recursive: true, force: true });
}, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
});

/** Restarts the private clamd on the same socket path the stack's scanner dials. */
async function restartClamd(): Promise<void> {
  clamd = await startClamd({ dir: clamdDir, ...TEST_SCAN_LIMITS });
  expect(clamd?.socketPath).toBe(socketPath);
}

/** The pid of the clamd this file started: the process whose command line names its config file. */
async function privateClamdPid(): Promise<number> {
  const config = join(clamdDir, 'clamd.conf');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(join('/proc', entry, 'cmdline'), 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(config)) return Number(entry);
  }
  throw new Error('the private clamd is not running');
}

function mailWithAttachments(label: string): Buffer {
  const part = (name: string, type: string, bytes: Buffer) => [
    '--b',
    `Content-Type: ${type}; name="${name}"`,
    `Content-Disposition: attachment; filename="${name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    bytes.toString('base64').replace(/.{76}/g, '$&\r\n'),
  ];
  return Buffer.from(
    [
      'From: Alice <alice@customer.example>',
      'To: support@helpdesk.example',
      `Subject: scan while clamd is ${label}`,
      `Message-ID: <clamd-${label}-${++sequence}@customer.example>`,
      'Date: Tue, 01 Dec 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `two attachments, clamd ${label}`,
      ...part('report.pdf', 'application/pdf', CLEAN_PDF),
      ...part('eicar.com', 'application/octet-stream', EICAR),
      '--b--',
      '',
    ].join('\r\n'),
  );
}

async function ingest(label: string): Promise<IngestResult> {
  return ingestMessage(stack.deps, Readable.from([mailWithAttachments(label)]), { tenantId: TENANT, mailboxId: MAILBOX, receivedAt: new Date() });
}

/** `attachments rescan --json` as the operator runs it, its JSON line read back. */
async function rescanCommand(): Promise<Array<{ attachmentId: string; scan: string }>> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    expect(await attachmentsCommand(stack.deps, ['rescan', '--json'])).toBe(0);
  } finally {
    vi.restoreAllMocks();
  }
  return JSON.parse(lines.join('')) as Array<{ attachmentId: string; scan: string }>;
}

/** `attachments get` as the operator runs it; the promise's rejection when it refuses. */
async function getCommand(attachmentId: string): Promise<Buffer> {
  const out = join(dataDir, `get-${attachmentId}`);
  // The command says where it saved the file on stderr; not this test's business.
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await attachmentsCommand(stack.deps, ['get', attachmentId, '--out', out]);
    return await readFile(out);
  } finally {
    stderr.mockRestore();
    await rm(out, { force: true });
  }
}

async function expectHeld(result: IngestResult, reason: string): Promise<void> {
  expect(result.status).toBe('created');
  expect(result.attachments.map((a) => [a.filename, a.scan])).toEqual([
    ['report.pdf', 'unscanned'],
    ['eicar.com', 'unscanned'],
  ]);
  expect(result.notices.filter((n) => n.code === 'attachment_unscanned')).toHaveLength(2);
  for (const summary of result.attachments) {
    const stored = await stack.deps.repo.getAttachment(TENANT, summary.id);
    expect(stored).toMatchObject({ scan: 'unscanned', scanDetail: reason });
    // The bytes are kept (encrypted) for the rescan, and never served meanwhile.
    expect(stored?.blobKey).toBeTruthy();
    await expect(readAttachment(stack.deps, TENANT, summary.id, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);
    await expect(getCommand(summary.id)).rejects.toBeInstanceOf(AttachmentNotServable);
  }
}

/** After clamd is back: the clean one is served byte for byte, EICAR infected with its bytes deleted. */
async function expectDecided(result: IngestResult): Promise<void> {
  const [pdf, eicar] = result.attachments;
  const served = await readAttachment(stack.deps, TENANT, pdf!.id, TEST_ACCESSOR);
  expect(served.summary.scan).toBe('clean');
  expect(await buffer(served.content)).toEqual(CLEAN_PDF);
  expect(await getCommand(pdf!.id)).toEqual(CLEAN_PDF);

  const infected = await stack.deps.repo.getAttachment(TENANT, eicar!.id);
  expect(infected).toMatchObject({ scan: 'infected', blobKey: null });
  await expect(readAttachment(stack.deps, TENANT, eicar!.id, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);
}

describe('clamd down', () => {
  it('attachments ingested while clamd is stopped are unscanned and held, stay held through a rescan that still finds it down, and are decided by `attachments rescan` once it is back', async () => {
    await clamd?.stop();
    clamd = null;
    const result = await ingest('down');
    await expectHeld(result, 'scanner_unavailable');

    // A rescan while clamd is still away changes nothing: still held, nothing served.
    const stillDown = await rescanCommand();
    expect(stillDown).toEqual(expect.arrayContaining(result.attachments.map((a) => ({ attachmentId: a.id, scan: 'unscanned' }))));
    await expectHeld({ ...result }, 'scanner_unavailable');

    await restartClamd();
    const rescanned = await rescanCommand();
    expect(rescanned).toEqual(expect.arrayContaining([
      { attachmentId: result.attachments[0]!.id, scan: 'clean' },
      { attachmentId: result.attachments[1]!.id, scan: 'infected' },
    ]));
    await expectDecided(result);
    // Nothing is held any more: a second rescan has nothing to do.
    expect(await rescanCommand()).toEqual([]);
  }, 120_000);
});

describe('clamd hung', () => {
  it(`an ingestion whose clamd stops answering (SIGSTOP) ends after the scan timeout (${SCAN_TIMEOUT_MS} ms) with its attachments unscanned and held; rescanned once clamd runs again`, async () => {
    const pid = await privateClamdPid();
    process.kill(pid, 'SIGSTOP');
    let result: IngestResult;
    const started = Date.now();
    try {
      result = await ingest('hung');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Two attachments, each waited for at most once: the ingestion is bounded by the timeout.
    expect(Date.now() - started).toBeLessThan(4 * SCAN_TIMEOUT_MS + 10_000);
    await expectHeld(result, 'scanner_timeout');

    const rescanned = await rescanCommand();
    expect(rescanned).toEqual(expect.arrayContaining([
      { attachmentId: result.attachments[0]!.id, scan: 'clean' },
      { attachmentId: result.attachments[1]!.id, scan: 'infected' },
    ]));
    await expectDecided(result);
  }, 120_000);
});

describe('clamd killed in the middle of a scan', () => {
  it('an ingestion whose clamd is SIGKILLed with the stream under way ends with its attachments unscanned and held, the raw message kept; rescanned once a new clamd runs', async () => {
    const pid = await privateClamdPid();
    // Frozen first, so the connection is open and the stream under way when the kill lands.
    process.kill(pid, 'SIGSTOP');
    const ingestion = ingest('killed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(pid, 'SIGKILL');
    const result = await ingestion;
    await clamd?.stop();
    clamd = null;

    expect(result.attachments.map((a) => a.scan)).toEqual(['unscanned', 'unscanned']);
    for (const summary of result.attachments) {
      const stored = await stack.deps.repo.getAttachment(TENANT, summary.id);
      expect(['scanner_error', 'scanner_unavailable']).toContain(stored?.scanDetail);
      await expect(readAttachment(stack.deps, TENANT, summary.id, TEST_ACCESSOR)).rejects.toBeInstanceOf(AttachmentNotServable);
    }
    const message = (await stack.deps.repo.listMessages(TENANT, result.ticketId as string)).find((m) => m.messageId === result.messageId);
    expect(message?.rawKey).toBeTruthy();

    await restartClamd();
    const rescanned = await rescanCommand();
    expect(rescanned).toEqual(expect.arrayContaining([
      { attachmentId: result.attachments[0]!.id, scan: 'clean' },
      { attachmentId: result.attachments[1]!.id, scan: 'infected' },
    ]));
    await expectDecided(result);
  }, 120_000);
});
