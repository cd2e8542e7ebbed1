// The orphan sweep as npm start runs it (its retention timer) and as an operator runs it (`purge
// orphans`, `purge run`), on the local stack: dynalite, s3rver and the real SDK. An ingestion killed
// before its claim leaves objects; the dry run names them and keeps them, the timer removes them once
// past the grace period, and the complete message's objects stay.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { purgeCommand } from '../../shared/cli/retention-commands.js';
import { loadLocalConfig } from '../../shared/config.js';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import { ORPHAN_GRACE_HOURS } from '../../shared/domain/orphans.js';
import type { RetentionDeps } from '../../shared/domain/retention.js';
import { startRetentionTimers } from '../../shared/local/retention-runtime.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { FaultInjector, runUntilCrash } from '../reliability/crash-support.js';
import { EicarScanner } from '../support/memory.js';
import { until } from '../support/npm-start.js';

let dataDir: string;
let stack: LocalStack;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-orphans-local-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new EicarScanner() });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const MAILBOX = { tenantId: 'default', mailboxId: 'inbox', provider: 'local' as const, status: 'connected' as const, createdAt: new Date().toISOString() };

function mail(id: string): Buffer {
  return Buffer.from(
    [`From: Ann <ann@customer.example>`, 'To: support@helpdesk.example', `Subject: ${id}`, `Message-ID: <${id}@customer.example>`, 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', `body of ${id}`,
      '--b', 'Content-Type: application/pdf', `Content-Disposition: attachment; filename="${id}.pdf"`, '', '%PDF-1.4 tiny', '--b--', ''].join('\r\n'),
  );
}

async function keys(): Promise<string[]> {
  const found: string[] = [];
  for await (const { key } of stack.deps.blobs.list(mailboxPrefix(MAILBOX.tenantId, MAILBOX.mailboxId))) found.push(key);
  return found.sort();
}

/** Runs a CLI command in-process and returns what it printed. */
async function cli(argv: string[]): Promise<string> {
  const printed: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    expect(await purgeCommand(stack, argv)).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  return printed.join('');
}

it('purge orphans names them, the retention timer removes them past the grace period, the stored message keeps its objects', async () => {
  await stack.deps.repo.putMailbox(MAILBOX);
  await ingestMessage(stack.deps, Readable.from([mail('kept')]), { ...MAILBOX, receivedAt: new Date() });
  const kept = await keys();
  expect(kept.length).toBeGreaterThanOrEqual(2);

  // A pass stopped dead right after its raw message is stored, before its claim.
  // Its call sequence is recorded first on a mailbox of its own.
  const wrap = (injector: FaultInjector): IngestDeps => ({
    ...stack.deps,
    blobs: injector.wrap('blobs', stack.deps.blobs),
    repo: injector.wrap('repo', stack.deps.repo),
    keys: injector.wrap('keys', stack.deps.keys),
    scanner: injector.wrap('scanner', stack.deps.scanner),
  });
  await stack.deps.repo.putMailbox({ ...MAILBOX, mailboxId: 'probe' });
  const recorder = new FaultInjector();
  await ingestMessage(wrap(recorder), Readable.from([mail('probe')]), { ...MAILBOX, mailboxId: 'probe', receivedAt: new Date() });
  const injector = new FaultInjector({ index: recorder.calls.indexOf('blobs.put'), when: 'after', mode: 'kill' });
  let work: Promise<unknown> = Promise.resolve();
  await runUntilCrash(injector, () => (work = ingestMessage(wrap(injector), Readable.from([mail('lost')]), { ...MAILBOX, receivedAt: new Date() })));
  await work.catch(() => undefined);
  expect(injector.fired).toContain('blobs.put');
  const orphans = (await keys()).filter((k) => !kept.includes(k));
  expect(orphans.length).toBeGreaterThanOrEqual(1);

  const later = new Date(Date.now() + (ORPHAN_GRACE_HOURS + 1) * 3600 * 1000).toISOString();
  const early = JSON.parse(await cli(['orphans', '--json', '--mailbox', MAILBOX.mailboxId])) as { objects: number };
  expect(early.objects).toBe(0);
  const dry = JSON.parse(await cli(['orphans', '--json', '--dry-run', '--now', later])) as { objects: number; ingestions: number; dryRun: boolean };
  expect(dry).toMatchObject({ objects: orphans.length, ingestions: 1, dryRun: true });
  expect(await keys()).toEqual([...kept, ...orphans].sort());

  const retention: RetentionDeps = { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock: { now: () => new Date(later) } };
  const timers = startRetentionTimers(stack, retention, { info: () => undefined, warn: (line) => expect.fail(line) });
  try {
    await until('the orphan sweep', async () => ((await keys()).length === kept.length ? true : undefined), 20_000);
  } finally {
    await timers.stop();
  }
  expect(await keys()).toEqual(kept);
  const rerun = JSON.parse(await cli(['run', '--json', '--now', later])) as { orphans: { objects: number; mailboxes: number } };
  expect(rerun.orphans).toMatchObject({ objects: 0 });
  expect(rerun.orphans.mailboxes).toBeGreaterThanOrEqual(1);
});
