// The Gmail commands end to end as an operator runs them (child processes of the bin, on the real
// local stack), against the fake Gmail through the real Google client libraries: connect with a
// refresh token, sync, reply, disconnect (watch stopped, token revoked at Google).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGmail } from '../../shared/sandbox/fake-gmail.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/mail2ticket.mjs');
const MAILBOX = 'help@shop.example';
let dataDir: string;
let fake: FakeGmail;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        MAIL2TICKET_DATA_DIR: dataDir,
        MAIL2TICKET_GOOGLE_CLIENT_ID: 'cli-client',
        MAIL2TICKET_GOOGLE_CLIENT_SECRET: 'cli-secret',
        MAIL2TICKET_GMAIL_ROOT_URL: fake.url,
        MAIL2TICKET_GOOGLE_TOKEN_URL: fake.tokenUrl,
        MAIL2TICKET_GOOGLE_REVOKE_URL: fake.revokeUrl,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-gmail-cli-'));
  fake = new FakeGmail({ clientId: 'cli-client', clientSecret: 'cli-secret' });
  await fake.start();
  fake.addMailbox(MAILBOX, { refreshToken: 'cli-refresh-token' });
});
afterAll(async () => {
  await fake.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('gmail commands', { timeout: 180_000 }, () => {
  it('connects, syncs, replies and disconnects a Gmail mailbox', async () => {
    const tokenFile = join(dataDir, 'refresh-token');
    await writeFile(tokenFile, 'cli-refresh-token\n', { mode: 0o600 });
    const connected = await cli('mailboxes', 'connect-gmail', 'shop', '--refresh-token-file', tokenFile, '--json');
    expect(connected.stderr).toBe('');
    expect(connected.code).toBe(0);
    const mailbox = JSON.parse(connected.stdout) as { provider: string; status: string; connection: Record<string, unknown> };
    expect(mailbox).toMatchObject({ provider: 'gmail', status: 'connected' });
    // Operators never see the sealed token or the address index.
    expect(Object.keys(mailbox.connection)).not.toContain('sealedCredentials');
    expect(connected.stdout).not.toContain('cli-refresh-token');

    fake.deliver(MAILBOX, Buffer.from('From: Bob <bob@customer.example>\r\nTo: help@shop.example\r\nSubject: Where is my parcel?\r\nMessage-ID: <parcel-1@customer.example>\r\n\r\nIt has been a week.\r\n'));
    const synced = await cli('mailboxes', 'sync', 'shop', '--json');
    expect(synced.code).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({ outcome: 'synced', mode: 'history', added: 1 });

    const list = JSON.parse((await cli('tickets', 'list', '--mailbox', 'shop', '--json')).stdout) as Array<{ ticketId: string; subject: string }>;
    expect(list.map((t) => t.subject)).toEqual(['Where is my parcel?']);

    const body = join(dataDir, 'reply.txt');
    await writeFile(body, 'It left our warehouse today.\n');
    const replied = await cli('replies', 'send', list[0]!.ticketId, '--body-file', body, '--json');
    expect(replied.stderr).toBe('');
    expect(replied.code).toBe(0);
    expect(JSON.parse(replied.stdout)).toMatchObject({ status: 'sent' });
    expect(fake.sent(MAILBOX)).toHaveLength(1);

    const listed = await cli('mailboxes', 'list');
    expect(listed.stdout).toMatch(/shop\s+gmail\s+connected/);

    const disconnected = await cli('mailboxes', 'disconnect', 'shop');
    expect(disconnected.code).toBe(0);
    expect(fake.count('POST', '/stop')).toBe(1);
    expect(fake.count('POST', '/revoke')).toBe(1);
    expect(fake.watches(MAILBOX)).toBeUndefined();
  });

  it('says how to configure Google when no OAuth client is set', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, 'mailboxes', 'sync', 'shop'], {
      cwd: ROOT,
      env: { ...process.env, MAIL2TICKET_DATA_DIR: dataDir, MAIL2TICKET_GOOGLE_CLIENT_ID: '', MAIL2TICKET_GOOGLE_CLIENT_SECRET: '' },
    }).catch((error: { stdout: string; stderr: string }) => error);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/MAIL2TICKET_GOOGLE_CLIENT_ID/);
  });
});
