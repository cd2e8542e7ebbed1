// Runs the local stack's servers (dynalite, s3rver, clamd) in a process of their own — the
// `npm start` stack — and attaches to it, so the process being measured does only the pipeline's
// work, as a Lambda does with DynamoDB, S3 and the scanner elsewhere. On two cores both processes
// still share the machine.
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalConfig } from '../shared/config.js';
import { openLocalStack, type LocalStack } from '../shared/local/stack.js';

const ROOT = join(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

export async function withStackServer<T>(fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'm2t-bench-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'shared/local/start.ts')], {
    cwd: ROOT,
    // Storage and scanner only: the sandbox's fake providers, pollers and timers would compete for the
    // two cores with the pipeline being measured.
    env: { ...process.env, MAIL2TICKET_DATA_DIR: dataDir, PORT: String(await freePort()), MAIL2TICKET_SANDBOX: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (await access(join(dataDir, 'stack.json')).then(() => true, () => false)) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('the local stack did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }));
    try {
      return await fn(stack);
    } finally {
      await stack.stop();
    }
  } finally {
    child.kill('SIGINT');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}
