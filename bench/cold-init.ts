// Cold start of a bundled handler against a baseline's: each run a fresh node process (plain node,
// no TypeScript loader) imports the bundle and invokes it once (cold-init-child.mjs). The Node
// bootstrap before the import is the same for both and left out. Runs alternate between the two so
// drift on a shared machine hits both alike, and the ratio is taken pair by pair; one run of each
// first warms the file cache, unmeasured.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const CHILD = join(import.meta.dirname, 'cold-init-child.mjs');

export interface ColdInitSide {
  bundle: string;
  /** The whole environment of the child: nothing of this process's leaks in. */
  env: Record<string, string>;
  /** A fresh event for each invocation. */
  event: () => unknown;
  /** The status every invocation must answer; 204 unless given. */
  expectedStatus?: number;
}

export interface ColdInitTimes {
  importMs: number;
  invokeMs: number;
}

export interface ColdInitResult {
  /** Median over the runs of (import + first invoke) of the subject ÷ the baseline's, run by run. */
  ratio: number;
  subject: ColdInitTimes;
  baseline: ColdInitTimes;
  runs: number;
  /** Invocations of each side, the unmeasured warm-up included. */
  invocations: number;
}

export async function measureColdInit(options: { subject: ColdInitSide; baseline: ColdInitSide; runs: number }): Promise<ColdInitResult> {
  const subject: ColdInitTimes[] = [];
  const baseline: ColdInitTimes[] = [];
  await coldStart(options.subject);
  await coldStart(options.baseline);
  for (let i = 0; i < options.runs; i++) {
    subject.push(await coldStart(options.subject));
    baseline.push(await coldStart(options.baseline));
  }
  const total = (t: ColdInitTimes) => t.importMs + t.invokeMs;
  // Each subject run over the baseline run right after it, then the median of those ratios: a pair
  // shares the machine's state of the moment, so drift between pairs cancels out.
  const ratios = subject.map((s, i) => total(s) / total(baseline[i] as ColdInitTimes));
  return {
    ratio: median(ratios),
    subject: { importMs: median(subject.map((t) => t.importMs)), invokeMs: median(subject.map((t) => t.invokeMs)) },
    baseline: { importMs: median(baseline.map((t) => t.importMs)), invokeMs: median(baseline.map((t) => t.invokeMs)) },
    runs: options.runs,
    invocations: options.runs + 1,
  };
}

/** One fresh process: import `side.bundle`, invoke it once with `side.event()`, check its status. */
export async function coldStart(side: ColdInitSide): Promise<ColdInitTimes> {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, side.bundle, JSON.stringify(side.event())], {
    env: side.env,
    maxBuffer: 4 * 1024 * 1024,
    timeout: 60_000,
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('BENCH_RESULT ')) throw new Error(`cold start of ${side.bundle} reported no result: ${stdout.slice(-500)}`);
  const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as ColdInitTimes & { statusCode?: number };
  const expected = side.expectedStatus ?? 204;
  if (result.statusCode !== expected) {
    throw new Error(
      `cold start of ${side.bundle} answered ${result.statusCode} instead of ${expected}` +
        (result.statusCode === 401 ? ' (is MAIL2TICKET_SANDBOX_JWKS read by functions/gmail-push/compose.ts?)' : ''),
    );
  }
  return { importMs: result.importMs, invokeMs: result.invokeMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
