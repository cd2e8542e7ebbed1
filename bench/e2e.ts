// End-to-end latency of the product as `npm start` runs it: ten sandbox mailboxes (five Gmail, five
// Microsoft 365) receive twenty messages each, the mailboxes in parallel and each mailbox's messages one
// after another; a message's latency runs from its delivery into the fake provider — whose push or
// change notification to the webhook follows at once — until `tickets list` shows its ticket (the same
// read, through the stack npm start published). Everything in between is the real path: webhook,
// FIFO queue on fauxqs, sync worker, raw fetch, ingest, clamd.
//
// - e2e.push_to_ticket_p50_ms / e2e.push_to_ticket_p95_ms (target p95 < 1000).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalConfig } from '../shared/config.js';
import type { StackEndpoints } from '../shared/local/stack.js';
import { openLocalStack } from '../shared/local/stack.js';
import { SANDBOX_CONTROL_HEADER, type SandboxMailbox } from '../shared/local/sandbox/endpoints.js';
import type { Metric } from './ingest.js';

const ROOT = join(import.meta.dirname, '..');
const MAILBOXES_PER_PROVIDER = 5;
const MESSAGES_PER_MAILBOX = 20;
// Ten mailboxes polling share the machine with what they measure: often enough, no more.
const POLL_MS = 50;
const TIMEOUT_MS = 30_000;

export async function runE2eBenchmarks(): Promise<Metric[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'm2t-bench-e2e-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'shared/local/start.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MAIL2TICKET_DATA_DIR: dataDir,
      PORT: String(port),
      MAIL2TICKET_SANDBOX: '1',
      MAIL2TICKET_SANDBOX_MAILBOXES: String(MAILBOXES_PER_PROVIDER),
      // The safety sync must not be what brings the mail in: the benchmark measures the push path.
      MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS: '3600',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => void (errors = (errors + chunk.toString()).slice(-4000)));
  try {
    await healthy(port, child, () => errors);
    const endpoints = JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8')) as StackEndpoints;
    const sandbox = endpoints.sandbox;
    if (!sandbox) throw new Error('npm start published no sandbox');
    const mailboxes = [...sandbox.gmail.mailboxes.map((m) => ({ ...m, provider: 'gmail' as const })), ...sandbox.graph.mailboxes.map((m) => ({ ...m, provider: 'graph' as const }))];
    if (mailboxes.length !== 2 * MAILBOXES_PER_PROVIDER) throw new Error(`expected ${2 * MAILBOXES_PER_PROVIDER} sandbox mailboxes, got ${mailboxes.length}`);
    // `tickets list`'s read, through the running stack (attached, as the CLI attaches).
    const stack = await openLocalStack({ ...loadLocalConfig({ ...process.env, MAIL2TICKET_DATA_DIR: dataDir, PORT: String(port) }) });
    try {
      const latencies = (await Promise.all(mailboxes.map((m) => measureMailbox(sandbox.controlUrl, m, (owner) => stack.deps.repo.listTickets(owner.tenantId, owner.mailboxId).then((t) => t.length))))).flat();
      latencies.sort((a, b) => a - b);
      return [
        { metric: 'e2e.push_to_ticket_p50_ms', value: round(percentile(latencies, 0.5)), unit: 'ms' },
        { metric: 'e2e.push_to_ticket_p95_ms', value: round(percentile(latencies, 0.95)), unit: 'ms' },
      ];
    } finally {
      await stack.stop();
    }
  } finally {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureMailbox(controlUrl: string, mailbox: SandboxMailbox & { provider: 'gmail' | 'graph' }, ticketCount: (owner: SandboxMailbox) => Promise<number>): Promise<number[]> {
  const latencies: number[] = [];
  const before = await ticketCount(mailbox);
  for (let i = 1; i <= MESSAGES_PER_MAILBOX; i++) {
    const raw = message(mailbox.address, i);
    const started = performance.now();
    const response = await fetch(`${controlUrl}/${mailbox.provider}/messages?mailbox=${encodeURIComponent(mailbox.address)}`, {
      method: 'POST',
      headers: { [SANDBOX_CONTROL_HEADER]: '1', 'content-type': 'message/rfc822' },
      body: raw,
    });
    if (!response.ok) throw new Error(`the sandbox refused a delivery to ${mailbox.address}: HTTP ${response.status}`);
    await response.arrayBuffer();
    for (;;) {
      if ((await ticketCount(mailbox)) >= before + i) break;
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`message ${i} to ${mailbox.address} became no ticket within ${TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    latencies.push(performance.now() - started);
  }
  return latencies;
}

/** A new conversation each time (unique subject and Message-ID), so each message makes a ticket. */
function message(to: string, n: number): Buffer {
  const id = randomBytes(8).toString('hex');
  return Buffer.from(
    [`From: Bench ${n} <bench${n}@customer.example>`, `To: ${to}`, `Subject: Benchmark ${id}`, `Message-ID: <${id}@customer.example>`, `Date: ${new Date().toUTCString()}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', `Message ${n} of the end-to-end benchmark.`, ''].join('\r\n'),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

const round = (value: number) => Math.round(value * 10) / 10;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function healthy(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}): ${output()}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200).catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`npm start was not healthy within 2 minutes: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}
