// The operator CLI end to end, run the way an operator runs it (a child process of the bin), on the
// real local stack it starts itself: dynalite, s3rver, clamd and the local keyring.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buffer } from 'node:stream/consumers';
import * as yauzl from 'yauzl';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../shared/adapters/s3/s3-blob-store.js';
import { startDynalite } from '../../shared/local/dynalite.js';
import { startS3rver } from '../../shared/local/s3rver.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIL = join(ROOT, 'tests/fixtures/mail');
const BIN = join(ROOT, 'bin/mail2ticket.mjs');
let dataDir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, MAIL2TICKET_DATA_DIR: dataDir, MAIL2TICKET_MAX_ATTACHMENT_BYTES: String(20 * 1024 * 1024) },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function readZip(path: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          buffer(stream).then((content) => {
            entries.set(entry.fileName, content);
            zip.readEntry();
          }, reject);
        });
      });
      zip.once('end', () => resolve(entries));
      zip.once('error', reject);
      zip.readEntry();
    });
  });
}

const lines = (run: Run) => run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const mail = (name: string) => join(MAIL, name);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-e2e-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

// Each step starts the CLI (and its local stack) as a child process: generous on a loaded machine.
describe('mail2ticket CLI', { timeout: 180_000 }, () => {
  let ticketId: string;
  let attachmentIds: Record<string, string> = {};

  it('ingests files in order, one JSON line each, and keeps going past an unreadable one', async () => {
    const run = await cli(
      'ingest',
      '--json',
      mail('plain-text.eml'),
      mail('reply-to-plain.eml'),
      join(MAIL, 'does-not-exist.eml'),
      mail('autoreply-outlook-oof.eml'),
      mail('plain-text.eml'),
      mail('garbage-not-mime.eml'),
    );
    expect(run.code).toBe(1);
    const out = lines(run);
    expect(out.map((l) => l.status)).toEqual(['created', 'appended', 'error', 'suppressed', 'duplicate', 'created']);
    expect(out.map((l) => l.source)).toEqual([
      mail('plain-text.eml'),
      mail('reply-to-plain.eml'),
      join(MAIL, 'does-not-exist.eml'),
      mail('autoreply-outlook-oof.eml'),
      mail('plain-text.eml'),
      mail('garbage-not-mime.eml'),
    ]);
    ticketId = out[0]?.ticketId as string;
    expect(out[1]?.ticketId).toBe(ticketId);
    expect(out[4]?.ticketId).toBe(ticketId);
    expect(out[2]).toMatchObject({ error: 'cannot read file: no such file', ticketId: null });
    expect(out[3]).toMatchObject({ reason: 'auto_submitted', ticketId: null });
    expect((out[5]?.notices as Array<{ code: string }>).map((n) => n.code)).toContain('unparsed');
    expect(out[0]).toMatchObject({ subject: 'Printer on floor 3 is jammed', from: { address: 'alice@customer.example' }, attachments: [], notices: [] });
    expect(Object.keys(out[0] as object).slice(0, 3)).toEqual(['source', 'status', 'ticketId']);
  });

  it('scans every attachment with the real clamd before it prints', async () => {
    const run = await cli(
      'ingest',
      '--json',
      '--mailbox',
      'files',
      mail('attach-clean.eml'),
      mail('attach-eicar-plain.eml'),
      mail('attach-eicar-zip.eml'),
      mail('attach-encrypted-zip.eml'),
      mail('attach-over-scan-limit.eml'),
    );
    expect(run.code).toBe(0);
    const scans = lines(run).map((l) => (l.attachments as Array<{ filename: string; scan: string; id: string; sha256: string }>).map((a) => [a.filename, a.scan]));
    expect(scans).toEqual([
      [['clean.pdf', 'clean']],
      [['eicar.com.txt', 'infected'], ['clean.pdf', 'clean']],
      [['eicar-nested.zip', 'infected']],
      [['encrypted.zip', 'unscanned']],
      [['over-scan-limit.zip', 'unscanned']],
    ]);
    const pdf = await readFile(join(ROOT, 'tests/fixtures/attachments/clean.pdf'));
    const first = (lines(run)[0]?.attachments as Array<{ id: string; sha256: string; size: number }>)[0];
    expect(first?.size).toBe(pdf.length);
    attachmentIds = Object.fromEntries(
      lines(run).flatMap((l) => (l.attachments as Array<{ filename: string; id: string }>).map((a) => [`${a.filename}@${String(l.source).split('/').pop()}`, a.id])),
    );
  });

  it('lists and shows tickets, newest first, with bodies and notices', async () => {
    const list = await cli('tickets', 'list', '--json');
    expect(list.code).toBe(0);
    const tickets = JSON.parse(list.stdout) as Array<{ ticketId: string; mailboxId: string; subject: string }>;
    expect(tickets.length).toBe(7);
    const onlyDefault = JSON.parse((await cli('tickets', 'list', '--mailbox', 'default', '--json')).stdout) as unknown[];
    expect(onlyDefault).toHaveLength(2);

    const show = await cli('tickets', 'show', ticketId, '--json');
    const view = JSON.parse(show.stdout) as { messages: Array<{ text: string }> };
    expect(view.messages.map((m) => m.text)).toEqual([expect.stringContaining('PHRASE-PLAIN-7f3a'), expect.stringContaining('PHRASE-REPLY-2c81')]);
    const table = await cli('tickets', 'show', ticketId);
    expect(table.stdout).toContain('Printer on floor 3 is jammed');
  });

  it('refuses unknown ids and other tenants', async () => {
    expect((await cli('tickets', 'show', '01NOSUCHTICKET0000000000000')).code).not.toBe(0);
    const other = await cli('tickets', 'show', ticketId, '--tenant', 'globex');
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('not found');
    expect(JSON.parse((await cli('tickets', 'list', '--tenant', 'globex', '--json')).stdout)).toEqual([]);
    expect((await cli('attachments', 'get', attachmentIds['clean.pdf@attach-clean.eml'] as string, '--tenant', 'globex', '--out', join(dataDir, 'x'))).code).not.toBe(0);
  });

  it('serves a clean attachment byte for byte and refuses infected and unscanned ones', async () => {
    const out = join(dataDir, 'contract.pdf');
    const ok = await cli('attachments', 'get', attachmentIds['clean.pdf@attach-clean.eml'] as string, '--out', out);
    expect(ok.code).toBe(0);
    expect((await readFile(out)).equals(await readFile(join(ROOT, 'tests/fixtures/attachments/clean.pdf')))).toBe(true);

    const infected = await cli('attachments', 'get', attachmentIds['eicar.com.txt@attach-eicar-plain.eml'] as string, '--out', join(dataDir, 'virus'));
    expect(infected.code).not.toBe(0);
    expect(infected.stderr).toMatch(/infected/);
    const unscanned = await cli('attachments', 'get', attachmentIds['encrypted.zip@attach-encrypted-zip.eml'] as string, '--out', join(dataDir, 'enc'));
    expect(unscanned.code).not.toBe(0);
    expect(unscanned.stderr).toMatch(/not passed a virus scan/);
    await expect(readFile(join(dataDir, 'virus'))).rejects.toThrow();
  });

  it('keeps nothing readable at rest: no body phrase, subject or sender in any item or object', async () => {
    const dynamo = await startDynalite({ dir: join(dataDir, 'dynamodb') });
    const s3 = await startS3rver({ dir: join(dataDir, 's3') });
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }; // s3rver's fixed local credentials
    const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
    const s3Client = makeS3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials });
    try {
      const { Items = [] } = await ddb.send(new ScanCommand({ TableName: 'mail2ticket' }));
      const items = JSON.stringify(Items, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
      const { Contents = [] } = await s3Client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
      expect(Contents.length).toBeGreaterThanOrEqual(8);
      const objects: string[] = [];
      for (const object of Contents) {
        const body = await s3Client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: object.Key }));
        objects.push(Buffer.from(await (body.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString('latin1'));
      }
      const everything = `${items}\n${Contents.map((c) => c.Key).join('\n')}\n${objects.join('\n')}`;
      for (const phrase of ['PHRASE-PLAIN-7f3a', 'PHRASE-ATTACH-CLEAN-61a0', 'Printer on floor 3', 'alice@customer.example', 'nora.lind', 'Signed contract', 'clean.pdf', '%PDF-1.4', 'EICAR-STANDARD']) {
        expect(everything, phrase).not.toContain(phrase);
      }
    } finally {
      ddb.destroy();
      s3Client.destroy();
      await s3.stop();
      await dynamo.stop();
    }
  });

  it('records every read in the audit log, refused and foreign attempts included', async () => {
    const records = JSON.parse((await cli('audit', 'list', '--json')).stdout) as Array<{ action: string; outcome: string; subjectIds: string[]; actor: string }>;
    expect(records.filter((r) => r.action === 'ticket.view' && r.outcome === 'ok').map((r) => r.subjectIds[0])).toContain(ticketId);
    expect(records.some((r) => r.action === 'attachment.download' && r.outcome === 'refused')).toBe(true);
    expect(records.some((r) => r.action === 'ticket.view' && r.outcome === 'not_found')).toBe(true);
    expect(records.every((r) => r.actor.startsWith('operator:'))).toBe(true);
    const foreign = JSON.parse((await cli('audit', 'list', '--tenant', 'globex', '--json')).stdout) as Array<{ subjectIds: string[]; outcome: string }>;
    expect(foreign.some((r) => r.subjectIds.includes(ticketId) && r.outcome === 'not_found')).toBe(true);
    expect((await cli('audit', 'verify')).code).toBe(0);
  });

  it('exports one requester as a zip of portable JSON and clean files', async () => {
    const out = join(dataDir, 'alice.zip');
    const run = await cli('requesters', 'export', 'alice@customer.example', '--request-ref', 'DSR-77', '--out', out, '--json');
    expect(run.code).toBe(0);
    const entries = await readZip(out);
    const document = JSON.parse(entries.get('export.json')?.toString() ?? '{}') as { schema: string; requestRef: string; tickets: Array<{ messages: Array<{ raw: string | null }> }> };
    expect(document).toMatchObject({ schema: 'mail2ticket/requester-export/1', requestRef: 'DSR-77' });
    expect(document.tickets.flatMap((t) => t.messages)).toHaveLength(2);
    const raws = [...entries.keys()].filter((k) => k.startsWith('raw/'));
    expect(raws).toHaveLength(2);
    expect(entries.get(raws[0] as string)?.toString()).toContain('Printer on floor 3 is jammed');
    expect((await cli('requesters', 'export', 'alice@customer.example', '--out', out)).code).toBe(2); // no --request-ref
  });

  it('disconnects a mailbox, hides it at once and purges it as of a date', async () => {
    expect((await cli('mailboxes', 'disconnect', 'files', '--json')).code).toBe(0);
    const status = JSON.parse((await cli('purge', 'status', '--json')).stdout) as Array<{ mailboxId: string; purgeBy: string }>;
    expect(status.map((s) => s.mailboxId)).toEqual(['files']);
    expect(JSON.parse((await cli('tickets', 'list', '--mailbox', 'files', '--json')).stdout)).toEqual([]);
    expect((await cli('attachments', 'get', attachmentIds['clean.pdf@attach-clean.eml'] as string, '--out', join(dataDir, 'after'))).code).not.toBe(0);

    const tooEarly = JSON.parse((await cli('purge', 'run', '--json')).stdout) as { expiredItems: number; sweep: { mailboxes: number } };
    expect(tooEarly).toMatchObject({ expiredItems: 0, sweep: { mailboxes: 0 } });
    const at = new Date(Date.parse(status[0]?.purgeBy as string) - 12 * 3600 * 1000).toISOString();
    const run = JSON.parse((await cli('purge', 'run', '--now', at, '--json')).stdout) as { expiredItems: number };
    expect(run.expiredItems).toBeGreaterThan(10);
    const mailboxes = JSON.parse((await cli('mailboxes', 'list', '--json')).stdout) as Array<{ mailboxId: string; purgedAt?: string }>;
    expect(mailboxes.find((m) => m.mailboxId === 'files')?.purgedAt).toBeTruthy();
    expect(JSON.parse((await cli('tickets', 'list', '--json')).stdout)).toHaveLength(2); // the default mailbox is untouched
  });

  it('prints a readable table without --json and a usage error for bad arguments', async () => {
    const run = await cli('ingest', mail('plain-text.eml'));
    expect(run.stdout).toMatch(/STATUS[\s\S]*duplicate/);
    const bad = await cli('ingest', '--tenant', '../etc', mail('plain-text.eml'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--tenant');
    // Names an Object method has are commands like any other unknown name (it once ran toString).
    for (const name of ['nope', 'toString', 'constructor', '__proto__']) {
      const unknown = await cli(name);
      expect(unknown.code, name).toBe(2);
      expect(unknown.stderr, name).toContain(`unknown command "${name}"`);
    }
  });
});
