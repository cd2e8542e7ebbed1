// Issue 10: every reliability test file runs with every log sink captured, and when the file ends no
// line the product logged may hold a message subject or body line of the fixture corpus, an address,
// a token, a bearer credential, a JWT, a PEM key, a Graph clientState or an OAuth code/state.
//
// Sinks: this process's stdout/stderr and console (tests/reliability/log-capture.ts, the Powertools
// logger opened to DEBUG), plus stderr and stdout of the child processes the tests spawn, where the
// test pipes them (child_process.spawn is wrapped; a child whose stream is 'ignore' is out of reach).
//
// Product lines are checked strictly: every line from a child process, and every line whose writer
// (the caller of console, the stream or the Powertools logger) lies outside tests/: the functions,
// the reporter, the CLI, the sandbox fakes, libraries. A line a test writes itself (its own
// console.info of an address, or a canary it logs on purpose) is its own business.
import type * as childProcess from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, expect } from 'vitest';
import type { LogCapture } from '../reliability/log-capture.js';

const ROOT = join(import.meta.dirname, '../..');
const GUARDED = join(ROOT, 'tests', 'reliability') + sep;
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'mail');
const SELF = [join(ROOT, 'tests/support/log-guard.ts'), join(ROOT, 'tests/reliability/log-capture.ts')];
/** How many findings a failing file names (the rest are counted): the message never dumps the logs. */
const SHOWN = 10;

export interface Finding {
  pattern: string;
  origin: string;
  line: string;
}

/** Shapes that never belong in a product log line, whatever the test did. */
export const LEAK_PATTERNS: ReadonlyArray<{ name: string; regex: RegExp }> = [
  { name: 'e-mail address', regex: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/ },
  { name: 'e-mail address (URL-encoded)', regex: /[A-Za-z0-9._+-]+%40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/i },
  { name: 'Google access token', regex: /ya29\./ },
  { name: 'Google refresh token', regex: /1\/\/0/ },
  // A credential after the scheme; "Bearer token missing" is a fine thing to log.
  { name: 'bearer credential', regex: /Bearer\s+[A-Za-z0-9._~+/-]{12,}/i },
  { name: 'JWT', regex: /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/ },
  { name: 'PEM', regex: /-----BEGIN/ },
  { name: 'Graph clientState value', regex: /clientState\\?["']?\s*[:=]\s*\\?["']?[^\s"'\\,}&]{4,}/i },
  { name: 'OAuth code/state in a query', regex: /[?&](?:code|state)=[^&\s"'\\]{4,}/ },
];

/**
 * What of the fixture corpus would be recognisable in a log: each mail's Subject (raw header and
 * decoded, reply prefixes off), the manifest's body phrase and the first long body lines. Short
 * values would match ordinary words, so only long or distinctive ones are kept.
 */
export async function corpusCanaries(): Promise<Map<string, string>> {
  const canaries = new Map<string, string>();
  const add = (value: string | undefined, what: string, min: number) => {
    const v = value?.replace(/\s+/g, ' ').trim();
    // Rules and signatures ("________") are no one's content: a canary has words in it.
    if (v && v.length >= min && (v.match(/\p{L}/gu)?.length ?? 0) >= 8 && !canaries.has(v)) canaries.set(v, what);
  };
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'MANIFEST.json'), 'utf8')) as Array<{ file: string; expect: { bodyPhrase?: string } }>;
  for (const entry of manifest) add(entry.expect.bodyPhrase, `${entry.file}: body phrase`, 8);
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.eml')).sort()) {
    const raw = readFileSync(join(FIXTURES, file));
    const header = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(raw.subarray(0, 64 * 1024).toString('latin1'))?.[1];
    if (header && /=\?/.test(header)) add(header.replace(/\r?\n/g, ''), `${file}: Subject header`, 12);
    const parsed = await (await import('mailparser')).simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
    add(stripPrefixes(parsed.subject ?? ''), `${file}: subject`, 12);
    const bodyLines = (parsed.text ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length >= 30 && !l.startsWith('>') && !/^(on .* wrote:|-+ ?(original|forwarded) message)/i.test(l));
    for (const line of bodyLines.slice(0, 3)) add(line.slice(0, 60), `${file}: body line`, 30);
  }
  return canaries;
}

function stripPrefixes(subject: string): string {
  return subject.replace(/^(?:\s*(?:re|fwd?|fw|aw|sv|automatic reply|auto reply|read|undeliverable)\s*:\s*)+/i, '');
}

/** The forms a value takes in a log line: as is, JSON-escaped, URL-encoded. */
function forms(value: string): string[] {
  return [...new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)])];
}

export function isPowertoolsLine(line: string): boolean {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('"level"')) return false;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return typeof parsed.level === 'string' && typeof parsed.service === 'string';
  } catch {
    return false;
  }
}

/**
 * Who wrote the line: the first caller past the guard, node's console and stream internals and the
 * Powertools logger. A test calling the logger or console itself is the test; the product's code,
 * or a library's (a middleware logging the event, say), is the product.
 */
function callerOrigin(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const frame of stack.split('\n').slice(1)) {
    const file = /(?:\(|at )(?:file:\/\/)?(\/[^():]+):\d+:\d+\)?$/.exec(frame.trim())?.[1];
    if (!file || SELF.includes(file) || file.includes(`${sep}@aws-lambda-powertools${sep}logger${sep}`)) continue;
    return file.startsWith(ROOT) ? relative(ROOT, file) : file;
  }
  return 'unknown caller';
}

export class LeakScanner {
  readonly findings: Finding[] = [];
  count = 0;
  scanned = 0;
  private readonly needles: Array<{ form: string; what: string }>;

  constructor(canaries: Map<string, string>) {
    this.needles = [...canaries].flatMap(([value, what]) => forms(value).map((form) => ({ form, what })));
  }

  /** Checks every physical line of a captured chunk; `origin` names who wrote it. */
  scan(chunk: string, origin: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      this.scanned++;
      const hit = this.match(line);
      if (!hit) continue;
      this.count++;
      if (this.findings.length < SHOWN) this.findings.push({ pattern: hit.pattern, origin, line: around(line, hit.at) });
    }
  }

  private match(line: string): { pattern: string; at: number } | null {
    for (const { name, regex } of LEAK_PATTERNS) {
      const m = regex.exec(line);
      if (m) return { pattern: name, at: m.index };
    }
    for (const { form, what } of this.needles) {
      const at = line.indexOf(form);
      if (at >= 0) return { pattern: what, at };
    }
    return null;
  }
}

/** The offending part of a line, with some context: long JSON lines would hide it past a plain cut. */
function around(line: string, at: number): string {
  const start = Math.max(0, at - 100);
  const end = Math.min(line.length, at + 140);
  return `${start > 0 ? '…' : ''}${line.slice(start, end).trim()}${end < line.length ? '…' : ''}`;
}

/** Every chunk a spawned child writes to a stream the test piped, also handed to `onChunk`. */
function watchChildren(onChunk: (chunk: string, origin: string) => void): () => void {
  // The module object behind `import { spawn } from 'node:child_process'`: replacing its property and
  // syncing the builtin's ESM exports reaches the tests' (and helpers') already-bound imports.
  const cjs = createRequire(import.meta.url)('node:child_process') as typeof childProcess;
  const original = cjs.spawn;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const child = (original as (...a: unknown[]) => childProcess.ChildProcess).apply(this, args);
    const script = Array.isArray(args[1]) ? (args[1] as unknown[]).find((a): a is string => typeof a === 'string' && /\.[cm]?[jt]s$/.test(a)) : undefined;
    const name = `child process ${basename(String(args[0]))}${script ? ` ${relative(ROOT, script)}` : ''}`;
    for (const [stream, label] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as Array<[Readable | null, string]>) {
      // A test that reads the stream in paused mode would lose data to a flowing listener: only
      // streams the test already consumes with 'data' listeners are joined (checked on the next tick).
      if (!stream) continue;
      setImmediate(() => {
        if (stream.listenerCount('data') > 0 || stream.readableFlowing) stream.on('data', (data: Buffer | string) => onChunk(String(data), `${name} (${label})`));
      });
    }
    return child;
  };
  cjs.spawn = wrapped as typeof cjs.spawn;
  syncBuiltinESMExports();
  return () => {
    cjs.spawn = original;
    syncBuiltinESMExports();
  };
}

const testFile = expect.getState().testPath ?? '';
if (testFile.startsWith(GUARDED)) {
  const file = relative(ROOT, testFile);
  const pending: Array<{ chunk: string; origin: string }> = [];
  let scanner: LeakScanner | null = null;
  const take = (chunk: string, origin: string) => (scanner ? scanner.scan(chunk, origin) : pending.push({ chunk, origin }));
  // Opened before the test file is imported, so what it logs while loading is seen too; the corpus
  // is read in beforeAll, and what came before is scanned then.
  // Imported here: the other tiers' files do not load the logger or the mail parser for nothing.
  const { captureLogs } = await import('../reliability/log-capture.js');
  const capture: LogCapture = captureLogs({
    // Product JSON lines are only written because the capture opened the logger: they stay off the
    // terminal as before. Everything else reaches it unchanged.
    passThrough: (line) => !isPowertoolsLine(line),
    onLine: (line) => {
      const origin = callerOrigin();
      if (!origin.startsWith(`tests${sep}`)) take(line, isPowertoolsLine(line) ? `Powertools logger, from ${origin}` : origin);
    },
  });
  const unwatch = watchChildren(take);

  beforeAll(async () => {
    scanner = new LeakScanner(await corpusCanaries());
    for (const { chunk, origin } of pending.splice(0)) scanner.scan(chunk, origin);
  });
  afterAll(() => {
    capture.stop();
    unwatch();
    const found = scanner;
    if (!found || found.count === 0) return;
    const shown = found.findings.map((f) => `  - ${f.pattern} (${f.origin}): ${f.line}`).join('\n');
    const more = found.count > found.findings.length ? `\n  … and ${found.count - found.findings.length} more` : '';
    throw new Error(`log guard: ${file}: ${found.count} product log line(s) leak message content or credentials:\n${shown}${more}`);
  });
}
