// The fuzz suite's decompression bombs (tests/reliability/mime-mutations.ts) meet the real clamd here:
// fuzz.test.ts runs them against in-memory ports, whose scanner never opens an archive. On the local
// stack (dynalite, s3rver, local keys) with the test run's clamd and its small limits, a bomb that
// expands to a terabyte, an archive over the scan limit and an encrypted one are each held `unscanned`
// with their reason and never served; the nested EICAR is found. A rescan cannot make any of them clean.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { clamdDaemonConfig } from '../../shared/adapters/clamav/clamd-daemon.js';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { loadLocalConfig } from '../../shared/config.js';
import { AttachmentNotServable } from '../../shared/domain/errors.js';
import { ingestMessage, type IngestResult } from '../../shared/domain/ingest.js';
import { readAttachment, rescanHeldAttachments } from '../../shared/domain/tickets.js';
import { findClamd, ping, SIGNATURES_DIR } from '../../shared/local/clamd.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { clamdSocket } from '../support/clamd.js';
import { TEST_ACCESSOR } from '../support/memory.js';
import { hostileCases } from './mime-mutations.js';

const TENANT = 'default';
const MAILBOX = 'default';

let dataDir: string;
let stack: LocalStack;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-hostile-attachments-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new ClamdScanner({ socketPath: clamdSocket() }) });
  await stack.deps.repo.putMailbox({ tenantId: TENANT, mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: new Date().toISOString() });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

function hostile(label: RegExp): Buffer {
  const found = hostileCases().find((c) => label.test(c.label));
  if (!found) throw new Error(`no hostile case ${label}`);
  return found.raw;
}

async function ingest(raw: Buffer): Promise<IngestResult> {
  return ingestMessage(stack.deps, Readable.from([raw]), { tenantId: TENANT, mailboxId: MAILBOX, receivedAt: new Date() });
}

async function expectNeverServed(result: IngestResult): Promise<void> {
  for (const a of result.attachments) {
    if (a.scan === 'clean') continue;
    await expect(readAttachment(stack.deps, TENANT, a.id, TEST_ACCESSOR), a.filename).rejects.toBeInstanceOf(AttachmentNotServable);
  }
}

describe('decompression bombs through the real clamd', () => {
  it('finding: nested zips expanding to 1 TB of zeros passed clamd as clean (its cache counted identical members once) — now held unscanned for a limit, never served, and a rescan keeps it held', async () => {
    const result = await ingest(hostile(/^decompression bomb: nested zips/));
    expect(result.status).toBe('created');
    expect(result.attachments.map((a) => [a.filename, a.scan])).toEqual([['bomb.zip', 'unscanned']]);
    const stored = await stack.deps.repo.getAttachment(TENANT, result.attachments[0]!.id);
    expect(['size_limit', 'recursion_limit']).toContain(stored?.scanDetail);
    expect(result.notices.map((n) => n.code)).toContain('attachment_unscanned');
    await expectNeverServed(result);

    const rescanned = await rescanHeldAttachments(stack.deps, TENANT);
    expect(rescanned).toContainEqual({ attachmentId: result.attachments[0]!.id, scan: 'unscanned' });
    await expectNeverServed(result);
  }, 120_000);

  it('the fixtures: over-scan-limit.zip held for size, encrypted.zip held as encrypted, eicar-nested.zip infected with its bytes gone', async () => {
    const result = await ingest(hostile(/^decompression bombs from the fixtures/));
    expect(result.status).toBe('created');
    const byName = Object.fromEntries(await Promise.all(result.attachments.map(async (a) => [a.filename, await stack.deps.repo.getAttachment(TENANT, a.id)] as const)));
    expect(byName['over-scan-limit.zip']).toMatchObject({ scan: 'unscanned', scanDetail: 'size_limit' });
    expect(byName['encrypted.zip']).toMatchObject({ scan: 'unscanned', scanDetail: 'encrypted' });
    expect(byName['eicar-nested.zip']).toMatchObject({ scan: 'infected', blobKey: null });
    await expectNeverServed(result);
    expect(result.attachments.every((a) => a.scan !== 'clean')).toBe(true);
  }, 120_000);
});

describe('the AWS scanner function\'s clamd configuration', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finding: the same bomb under clamdDaemonConfig (the scanner Lambda\'s clamd) is held for a limit, not passed as clean', async () => {
    dir = await mkdtemp(join(tmpdir(), 'm2t-daemon-conf-'));
    const binary = findClamd();
    if (!binary) throw new Error('ClamAV is not installed: run `sudo sh scripts/ensure-system-deps`');
    await mkdir(join(dir, 'tmp'));
    const socketPath = join(dir, 'clamd.sock');
    // The test run's small limit keeps the scan short; the production limit only makes it longer.
    const conf = clamdDaemonConfig({ socketPath, databaseDir: SIGNATURES_DIR, tempDir: join(dir, 'tmp'), maxAttachmentBytes: 20 * 1024 * 1024 });
    await writeFile(join(dir, 'clamd.conf'), conf);
    child = spawn(binary, ['-c', join(dir, 'clamd.conf')], { stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!(await ping(socketPath))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('clamd with the daemon config did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const bomb = (await simpleParser(hostile(/^decompression bomb: nested zips/))).attachments[0]?.content as Buffer;
    expect(bomb.length).toBeLessThan(64 * 1024);
    const verdict = await new ClamdScanner({ socketPath, timeoutMs: 100_000 }).scan(Readable.from([bomb]));
    expect(verdict).toMatchObject({ status: 'unscanned' });
    expect(['size_limit', 'recursion_limit']).toContain((verdict as { reason: string }).reason);
  }, 120_000);
});
