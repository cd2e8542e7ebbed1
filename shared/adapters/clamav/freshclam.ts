// freshclam, run once per refresh with a config of our own in a scratch directory: it brings the
// directory's definitions up to date (diffs where it can) and exits. No daemon to notify: the scanner
// functions pick the new definitions up from the bucket at their next cold start.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { DefinitionsFetcher } from './definitions.js';

export interface FreshclamOptions {
  /** Default /usr/bin/freshclam. */
  binary?: string;
  /** Where the config file goes (a private scratch directory). */
  workDir: string;
  /** The public mirror (default database.clamav.net). */
  mirror?: string;
  /** A private mirror URL instead of the public one (no DNS version check): tests, air-gapped setups. */
  privateMirror?: string;
  /** Attempts per mirror before giving up (default 3; freshclam waits 5 s between them). */
  maxAttempts?: number;
  /** Kills a run that takes longer (default 10 minutes). */
  timeoutMs?: number;
}

export function freshclamConfig(options: FreshclamOptions & { databaseDir: string }): string {
  const owner = currentUser();
  return [
    `DatabaseDirectory ${options.databaseDir}`,
    // freshclam run as root would switch to this user; elsewhere it is ignored.
    ...(owner ? [`DatabaseOwner ${owner}`] : []),
    ...(options.privateMirror ? [`PrivateMirror ${options.privateMirror}`, 'DNSDatabaseInfo no'] : [`DatabaseMirror ${options.mirror ?? 'database.clamav.net'}`]),
    'ScriptedUpdates yes',
    'Bytecode yes',
    // A new database is loaded once before it replaces the old one: a broken download is never uploaded.
    'TestDatabases yes',
    `MaxAttempts ${options.maxAttempts ?? 3}`,
    'ConnectTimeout 30',
    'ReceiveTimeout 120',
    'LogTime yes',
    '',
  ].join('\n');
}

export class FreshclamRunner implements DefinitionsFetcher {
  constructor(private readonly options: FreshclamOptions) {}

  async update(dir: string): Promise<void> {
    const configPath = join(this.options.workDir, 'freshclam.conf');
    await writeFile(configPath, freshclamConfig({ ...this.options, databaseDir: dir }), { mode: 0o600 });
    const binary = this.options.binary ?? '/usr/bin/freshclam';
    const { code, output } = await run(binary, [`--config-file=${configPath}`, '--stdout', '--no-warnings'], this.options.timeoutMs ?? 600_000);
    // Its output names only mirrors, files and versions: the last lines say why it failed.
    if (code !== 0) throw new Error(`freshclam exited ${code}: ${lastLines(output, 3)}`);
  }
}

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8192));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: (error as NodeJS.ErrnoException).code ?? 'spawn_failed', output });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'killed', output });
    });
  });
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

function currentUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null; // no passwd entry (some sandboxes): freshclam then runs as whoever it is
  }
}
