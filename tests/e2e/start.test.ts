// `npm start`'s main job, run as a child process: health, a dropped .eml becomes a ticket the CLI
// (attached to the running stack) can list, Ctrl-C stops everything and a restart resumes the data.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
let dataDir: string;
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
}

function start(): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'shared/local/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, MAIL2TICKET_DATA_DIR: dataDir, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const healthy = () => until('healthz', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined));

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  return exited;
}

async function ticketsViaCli(): Promise<Array<{ subject: string }>> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/mail2ticket.mjs'), 'tickets', 'list', '--json'], {
    cwd: ROOT,
    env: { ...process.env, MAIL2TICKET_DATA_DIR: dataDir },
  });
  return JSON.parse(stdout) as Array<{ subject: string }>;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-start-'));
  port = await freePort();
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('turns dropped mail into tickets, stops cleanly and resumes its data', async () => {
    const first = start();
    await healthy();
    await copyFile(join(ROOT, 'tests/fixtures/mail/plain-text.eml'), join(dataDir, 'inbox/default/plain-text.eml'));
    const tickets = await until('the ticket', async () => {
      const list = await ticketsViaCli();
      return list.length === 1 ? list : undefined;
    });
    expect(tickets[0]?.subject).toBe('Printer on floor 3 is jammed');
    expect(await readdir(join(dataDir, 'inbox/default'))).toEqual([]); // the plaintext copy is gone
    expect(await stop(first)).toBe(0);
    expect(await readdir(dataDir)).not.toContain('stack.json');

    const second = start();
    await healthy();
    expect((await ticketsViaCli()).map((t) => t.subject)).toEqual(['Printer on floor 3 is jammed']);
    expect(await stop(second)).toBe(0);
  });
});
