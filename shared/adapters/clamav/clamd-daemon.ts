// clamd inside the scanner function: started at cold start from the definitions in the private bucket,
// on a unix socket in a scratch directory, and reached through the ordinary ClamdScanner. Loading the
// official definitions takes longer than Lambda's init phase allows, so the start runs in the
// background and the first invocation waits for clamd's PONG (bounded). A clamd that died (OOM on a
// hostile file, a crash) is started again before the next batch; until then every scan is an
// `unscanned` verdict, never a rejection.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../../domain/limits.js';
import type { BlobStore, Clock, Scanner } from '../../domain/ports.js';
import { ClamdScanner } from './clamd-scanner.js';
import { definitionsAgeHours, downloadDefinitions, newestBuildTime, readManifest } from './definitions.js';

export interface ClamdDaemonOptions {
  /** The definitions bucket (objects under `clamav/`). */
  definitions: Pick<BlobStore, 'get' | 'list'>;
  /** A private scratch directory, short enough for a socket path (in Lambda, /tmp/clamav). */
  workDir: string;
  /** Default /usr/sbin/clamd. */
  clamdPath?: string;
  /** clamd accepts at least this much of one stream (default: the default attachment limit). */
  maxAttachmentBytes?: number;
  /** How long a start may take until PONG (default 150 s: the official definitions load in tens of seconds). */
  readyTimeoutMs?: number;
  /** Per-scan timeout handed to ClamdScanner (default 120 s). */
  scanTimeoutMs?: number;
  clock: Clock;
}

export interface DefinitionsInfo {
  files: string[];
  /** Newest build time among the containers' headers, else the manifest's upload time; null when neither. */
  asOf: Date | null;
  ageHours: number | null;
}

const MiB = 1024 * 1024;

export function clamdDaemonConfig(options: { socketPath: string; databaseDir: string; tempDir: string; maxAttachmentBytes: number }): string {
  // One MiB of slack: the stream is the decoded attachment, never more than the limit. MaxScanSize also
  // bounds extracted archive content and alerts past it, so such content is held, never passed as clean.
  const max = options.maxAttachmentBytes + MiB;
  return [
    `LocalSocket ${options.socketPath}`,
    'LocalSocketMode 600',
    `DatabaseDirectory ${options.databaseDir}`,
    `TemporaryDirectory ${options.tempDir}`,
    'Foreground yes',
    'LogTime yes',
    'AlertExceedsMax yes',
    'AlertEncrypted yes',
    'AlertEncryptedArchive yes',
    'AlertEncryptedDoc yes',
    `StreamMaxLength ${max}`,
    `MaxScanSize ${max}`,
    `MaxFileSize ${max}`,
    'MaxRecursion 16',
    'MaxFiles 10000',
    // The clean cache counts identical archive members once: nested zips of copies would pass as clean.
    'DisableCache yes',
    'ReadTimeout 120',
    'CommandReadTimeout 30',
    // One batch is scanned one attachment at a time.
    'MaxThreads 2',
    // The definitions never change under a running function (a new cold start brings new ones), so no
    // periodic reload and no second copy of the database in memory.
    'SelfCheck 0',
    'ConcurrentDatabaseReload no',
    '',
  ].join('\n');
}

export class ClamdDaemon {
  readonly scanner: Scanner;
  readonly socketPath: string;
  private readonly databaseDir: string;
  private readonly configPath: string;
  private child: ChildProcess | null = null;
  private starting: Promise<DefinitionsInfo>;

  /** Starts downloading the definitions and clamd now; `ensureRunning` waits for them. */
  static start(options: ClamdDaemonOptions): ClamdDaemon {
    return new ClamdDaemon(options);
  }

  private constructor(private readonly options: ClamdDaemonOptions) {
    this.socketPath = join(options.workDir, 'clamd.sock');
    this.databaseDir = join(options.workDir, 'db');
    this.configPath = join(options.workDir, 'clamd.conf');
    this.scanner = new ClamdScanner({ socketPath: this.socketPath, timeoutMs: options.scanTimeoutMs ?? 120_000 });
    this.starting = this.startFromScratch();
  }

  /** Whether the clamd process is alive (it may still be loading). */
  isRunning(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Resolves once clamd answers PING, starting it again first if it died; rejects when it cannot be
   * had (definitions missing, clamd exiting, no PONG in time). Resolves with what it loaded.
   */
  async ensureRunning(): Promise<DefinitionsInfo> {
    // A failed start (a download hiccup, a restart that did not come up) is tried again from scratch.
    const info = await this.starting.catch(() => (this.starting = this.startFromScratch()));
    if (!this.isRunning()) {
      this.starting = this.spawnClamd().then(() => info);
      this.starting.catch(() => undefined);
      await this.starting;
    }
    return info;
  }

  private startFromScratch(): Promise<DefinitionsInfo> {
    const started = this.prepare().then(async (info) => {
      await this.spawnClamd();
      return info;
    });
    // Awaited by ensureRunning; never an unhandled rejection in the meantime.
    started.catch(() => undefined);
    return started;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.socketPath, { force: true });
  }

  /** The pid of the running clamd (tests kill it to prove the failure path). */
  get pid(): number | undefined {
    return this.isRunning() ? this.child?.pid : undefined;
  }

  private async prepare(): Promise<DefinitionsInfo> {
    const { workDir } = this.options;
    await mkdir(this.databaseDir, { recursive: true, mode: 0o700 });
    await mkdir(join(workDir, 'tmp'), { recursive: true, mode: 0o700 });
    const files = await downloadDefinitions(this.options.definitions, this.databaseDir);
    if (files.length === 0) throw new Error('no ClamAV definitions under clamav/ in the definitions bucket');
    const built = await newestBuildTime(this.databaseDir, files);
    const asOf = built ?? (await readManifest(this.options.definitions).then((m) => (m ? new Date(m.updatedAt) : null)));
    const maxAttachmentBytes = Math.max(this.options.maxAttachmentBytes ?? 0, DEFAULT_LIMITS.maxAttachmentBytes);
    await writeFile(
      this.configPath,
      clamdDaemonConfig({ socketPath: this.socketPath, databaseDir: this.databaseDir, tempDir: join(workDir, 'tmp'), maxAttachmentBytes }),
      { mode: 0o600 },
    );
    return { files, asOf, ageHours: asOf ? definitionsAgeHours({ builtAt: asOf }, this.options.clock.now()) : null };
  }

  private async spawnClamd(): Promise<void> {
    await rm(this.socketPath, { force: true }); // a stale socket of a clamd that died
    const child = spawn(this.options.clamdPath ?? '/usr/sbin/clamd', ['-c', this.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    let spawnError: string | null = null;
    child.on('error', (error: NodeJS.ErrnoException) => (spawnError = error.code ?? 'spawn failed'));
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));

    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 150_000);
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`clamd could not be started (${spawnError})`);
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`clamd exited (${child.exitCode ?? child.signalCode}): ${lastLine(stderr)}`);
      if (await ping(this.socketPath)) return;
      await delay(100);
    }
    child.kill('SIGKILL');
    throw new Error('clamd did not answer PING in time');
  }
}

export function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (data: Buffer) => (reply += data.toString('latin1')));
    socket.on('close', () => resolve(reply.startsWith('PONG')));
    socket.on('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
