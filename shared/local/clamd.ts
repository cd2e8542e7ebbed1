// Runs a real clamd for the local stack and the tests: our own config and socket in the data dir,
// our small signature database (assets/clamav), limits that never let a file pass as clean just for
// being too big, nested too deep or encrypted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ClamdOptions {
  dir: string;
  /** The attachment limit: clamd must accept at least this much of one stream. */
  maxAttachmentBytes?: number;
  /** Overrides for tests that prove the limits (default: at least the attachment limit). */
  maxScanBytes?: number;
  maxFileBytes?: number;
  maxRecursion?: number;
  databaseDir?: string;
}

export interface RunningClamd {
  socketPath: string;
  stop(): Promise<void>;
}

export const SIGNATURES_DIR = resolve(import.meta.dirname, '../../assets/clamav');
const CLAMD_CANDIDATES = ['/usr/sbin/clamd', '/usr/bin/clamd', '/usr/local/sbin/clamd'];
const MiB = 1024 * 1024;

export function findClamd(): string | null {
  return CLAMD_CANDIDATES.find((path) => existsSync(path)) ?? null;
}

export function clamdConfig(options: ClamdOptions & { socketPath: string; logFile: string }): string {
  const attachment = options.maxAttachmentBytes ?? 150 * MiB;
  // One MiB of slack over the limit: the stream is the decoded attachment, never more than the limit.
  const streamMax = attachment + MiB;
  // MaxScanSize bounds what clamd inspects inside one file, extracted archive content included. In
  // ClamAV 1.4 an archive member over MaxFileSize is skipped without an alert, but MaxScanSize does
  // alert: so content expanding past the attachment limit is held unscanned, never passed as clean.
  const scanMax = options.maxScanBytes ?? streamMax;
  const fileMax = options.maxFileBytes ?? streamMax;
  return [
    `LocalSocket ${options.socketPath}`,
    'LocalSocketMode 600',
    `DatabaseDirectory ${options.databaseDir ?? SIGNATURES_DIR}`,
    'Foreground yes',
    `LogFile ${options.logFile}`,
    'LogTime yes',
    // Anything clamd cannot fully inspect is reported, and the adapter maps it to `unscanned`.
    'AlertExceedsMax yes',
    'AlertEncrypted yes',
    'AlertEncryptedArchive yes',
    'AlertEncryptedDoc yes',
    `StreamMaxLength ${streamMax}`,
    `MaxScanSize ${scanMax}`,
    `MaxFileSize ${fileMax}`,
    `MaxRecursion ${options.maxRecursion ?? 16}`,
    'MaxFiles 10000',
    // clamd's clean cache scans identical archive members once and counts them once against the
    // limits, so nested zips of copies (a terabyte of zeros in 20 KB) passed as clean. Without the
    // cache every copy counts: the bomb reaches MaxScanSize and is held unscanned.
    'DisableCache yes',
    'ReadTimeout 120',
    'CommandReadTimeout 30',
    'MaxThreads 4',
    'SelfCheck 3600',
    '',
  ].join('\n');
}

/** Starts clamd; null (with a hint on stderr) when ClamAV is not installed. */
export async function startClamd(options: ClamdOptions): Promise<RunningClamd | null> {
  const binary = findClamd();
  if (!binary) {
    process.stderr.write('mail2ticket: ClamAV is not installed; attachments are held unscanned. Install it with: sudo sh scripts/ensure-system-deps\n');
    return null;
  }
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  // A unix socket path must stay under ~107 bytes; deep data dirs get a short temp dir instead.
  let socketDir = options.dir;
  let tempSocketDir: string | null = null;
  if (join(options.dir, 'clamd.sock').length > 100) socketDir = tempSocketDir = await mkdtemp(join(tmpdir(), 'm2t-clamd-'));
  const socketPath = join(socketDir, 'clamd.sock');
  await rm(socketPath, { force: true }); // a stale socket from a killed run
  const configPath = join(options.dir, 'clamd.conf');
  await writeFile(configPath, clamdConfig({ ...options, socketPath, logFile: join(options.dir, 'clamd.log') }), { mode: 0o600 });

  const child = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await terminate(child);
    await rm(socketPath, { force: true });
    if (tempSocketDir) await rm(tempSocketDir, { recursive: true, force: true });
  };
  try {
    await waitForPong(socketPath, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { socketPath, stop };
}

async function waitForPong(socketPath: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`clamd exited (${child.exitCode}): ${stderr().trim().split('\n').pop() ?? ''}`);
    if (await ping(socketPath)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('clamd did not answer PING within 60 s');
}

export function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = connect(socketPath);
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('close', () => resolvePing(reply.startsWith('PONG')));
    socket.on('error', () => resolvePing(false));
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
