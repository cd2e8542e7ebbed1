// `npm start`: the pipeline on this machine, on embedded defaults. It starts the local stack
// (dynalite, s3rver, clamd, local keyring) in MAIL2TICKET_DATA_DIR, turns every .eml dropped into
// <data dir>/inbox/<mailbox>/ into a ticket (the dropped file is deleted once the message is stored
// encrypted), and serves /healthz on PORT (127.0.0.1 only). The CLI attaches to this running stack.
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { loadLocalConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { ingestMessage } from '../domain/ingest.js';
import type { MailboxRecord } from '../domain/model.js';
import { openLocalStack, type LocalStack } from './stack.js';

const POLL_MS = 500;
const SETTLE_MS = 1000;
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TENANT = 'default';

async function main(): Promise<void> {
  let config;
  try {
    config = loadLocalConfig();
  } catch (error) {
    process.stderr.write(`mail2ticket: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const stack = await openLocalStack(config, { publish: true });
  const inbox = join(config.dataDir, 'inbox');
  await mkdir(join(inbox, 'default'), { recursive: true, mode: 0o700 });

  let ready = false;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ready ? 'ok' : 'starting', scanner: stack.scannerAvailable ? 'clamd' : 'unavailable' }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => resolve());
  });

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nmail2ticket: stopping…\n');
    server.close();
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  ready = true;
  process.stdout.write(
    [
      'mail2ticket is running on embedded parts (no cloud, no Docker).',
      `  data:     ${config.dataDir}`,
      `  health:   http://127.0.0.1:${config.port}/healthz`,
      `  scanner:  ${stack.scannerAvailable ? 'clamd (local test signatures)' : 'ClamAV not installed: attachments are held unscanned'}`,
      `  inbox:    drop .eml files into ${join(inbox, '<mailbox>')}/ (e.g. ${join(inbox, 'default')}/)`,
      '',
      'Try:',
      `  cp tests/fixtures/mail/plain-text.eml ${join(inbox, 'default')}/`,
      '  npm run --silent cli -- tickets list',
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  for (;;) {
    if (stopping) return;
    await drainInbox(stack, inbox).catch((error: unknown) => process.stderr.write(`mail2ticket: inbox scan failed: ${(error as Error).message}\n`));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function drainInbox(stack: LocalStack, inbox: string): Promise<void> {
  for (const mailboxId of await readdir(inbox)) {
    if (!SAFE_ID.test(mailboxId)) continue;
    const dir = join(inbox, mailboxId);
    if (!(await stat(dir)).isDirectory()) continue;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
    if (files.length === 0) continue;
    const mailbox = await ensureMailbox(stack, mailboxId);
    for (const file of files) {
      // A file still being copied in is left for the next round.
      const { mtimeMs } = await stat(join(dir, file));
      if (Date.now() - mtimeMs < SETTLE_MS) continue;
      await ingestDropped(stack, mailbox, join(dir, file), file);
    }
  }
}

async function ingestDropped(stack: LocalStack, mailbox: MailboxRecord, path: string, name: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const result = await ingestMessage(stack.deps, handle.createReadStream({ autoClose: false }), {
      tenantId: mailbox.tenantId,
      mailboxId: mailbox.mailboxId,
      mailbox,
      receivedAt: stack.deps.clock.now(),
    });
    const scans = result.attachments.map((a) => a.scan).join(', ');
    process.stdout.write(`${name} → ${result.status}${result.ticketId ? ` ticket ${result.ticketId}` : ''}${result.reason ? ` (${result.reason})` : ''}${scans ? ` [${scans}]` : ''}\n`);
  } catch (error) {
    if (error instanceof DomainError && error.retryable) return; // left in place, tried again next round
    process.stderr.write(`${name} → error: ${error instanceof DomainError && error.exposeMessage ? error.message : 'ingestion failed'}\n`);
  } finally {
    await handle.close();
  }
  // Stored encrypted now (or unusable): the plaintext copy goes.
  await rm(path, { force: true });
}

async function ensureMailbox(stack: LocalStack, mailboxId: string): Promise<MailboxRecord> {
  const existing = await stack.deps.repo.getMailbox(TENANT, mailboxId);
  if (existing) return existing;
  const mailbox: MailboxRecord = { tenantId: TENANT, mailboxId, provider: 'local', status: 'connected', createdAt: stack.deps.clock.now().toISOString() };
  await stack.deps.repo.putMailbox(mailbox);
  return mailbox;
}

await main();
