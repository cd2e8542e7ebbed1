// `npm start` as the e2e tests run it: a child process on a free port and its own data dir, the CLI
// as separate child processes against it, and clean stops.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/mail2ticket.mjs');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it yields a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export class NpmStartHarness {
  dataDir = '';
  port = 0;
  private readonly children: ChildProcess[] = [];
  private readonly outputs = new WeakMap<ChildProcess, string>();

  constructor(private readonly env: Record<string, string> = {}) {}

  readonly setup = async (prefix: string): Promise<void> => {
    this.dataDir = await mkdtemp(join(tmpdir(), prefix));
    this.port = await freePort();
  };

  readonly teardown = async (): Promise<void> => {
    for (const child of this.children) await this.stop(child);
    await rm(this.dataDir, { recursive: true, force: true });
  };

  /** As `npm start` runs it, with MAIL2TICKET_SANDBOX left for start.ts to default. */
  readonly start = (): ChildProcess => {
    const { MAIL2TICKET_SANDBOX: _sandbox, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'shared/local/start.ts'], {
      cwd: ROOT,
      env: { ...env, MAIL2TICKET_DATA_DIR: this.dataDir, PORT: String(this.port), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.outputs.set(child, '');
    const collect = (chunk: Buffer) => void this.outputs.set(child, (this.outputs.get(child) ?? '') + chunk.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.children.push(child);
    return child;
  };

  readonly outputOf = (child: ChildProcess): string => this.outputs.get(child) ?? '';

  readonly healthy = () => until('healthz', async () => ((await fetch(`http://127.0.0.1:${this.port}/healthz`)).status === 200 ? true : undefined), 60_000);

  readonly stop = async (child: ChildProcess): Promise<number | null> => {
    if (child.exitCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    return exited;
  };

  readonly cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, MAIL2TICKET_DATA_DIR: this.dataDir } }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      });
    });

  /** A CLI command with `--json` that must succeed silently on stderr. */
  readonly json = async <T>(...args: string[]): Promise<T> => {
    const result = await this.cli(...args, '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as T;
  };
}
