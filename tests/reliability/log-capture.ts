// Every log sink of the process, captured: process.stdout/stderr writes (the Powertools logger writes
// through a Console built on them; npm start's reporter and the CLI write to them directly) and the
// global console's methods (Powertools in POWERTOOLS_DEV mode, anything else). The Powertools
// logger is silent outside Lambda: `capture` opens it to DEBUG for its duration, and puts it back.
//
// Captures nest: the whole-file guard (tests/support/log-guard.ts) captures while a test captures its
// own. The sinks are patched once, for as long as any capture is open, and every open capture sees
// every line; a line reaches the real stream only if every open capture lets it through.
import { logger } from '../../shared/adapters/system/observability.js';

export interface LogCapture {
  /** Everything written so far, one entry per write or console call (empty with `onLine`). */
  readonly lines: string[];
  /** The captured lines holding `secret`, also as its URL- and JSON-escaped forms. */
  leaksOf(secret: string): string[];
  stop(): void;
}

export interface CaptureOptions {
  /** Whether a line also reaches the real stream or console: all lines, none (the default), or some. */
  passThrough?: boolean | ((line: string) => boolean);
  /** Sees each line as it is written, instead of keeping it: a whole file's logs can be large. */
  onLine?: (line: string) => void;
}

interface Sink {
  take(line: string): void;
  passes(line: string): boolean;
}

type Write = typeof process.stdout.write;
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

const open = new Set<Sink>();
let unpatch: (() => void) | null = null;

function deliver(line: string): boolean {
  let passes = true;
  for (const sink of open) {
    sink.take(line);
    passes &&= sink.passes(line);
  }
  return passes;
}

function patch(): () => void {
  const restore: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const line = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      if (deliver(line)) return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      if (callback) queueMicrotask(callback);
      return true;
    } as Write;
    restore.push(() => {
      stream.write = original;
    });
  }
  for (const method of CONSOLE_METHODS) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      if (deliver(args.map((a) => (typeof a === 'string' ? a : safeStringify(a))).join(' '))) original.apply(console, args);
    };
    restore.push(() => {
      console[method] = original;
    });
  }
  const level = logger.getLevelName();
  logger.setLogLevel('DEBUG');
  // injectLambdaContext puts the initial level (SILENT outside Lambda) back after every warm
  // invocation, through its sampling refresh: kept at DEBUG while captured.
  const refresh = Object.getOwnPropertyDescriptor(logger, 'refreshSampleRateCalculation');
  Object.defineProperty(logger, 'refreshSampleRateCalculation', { configurable: true, writable: true, value: () => undefined });
  restore.push(() => {
    if (refresh) Object.defineProperty(logger, 'refreshSampleRateCalculation', refresh);
    else delete (logger as unknown as Record<string, unknown>).refreshSampleRateCalculation;
    logger.setLogLevel(level);
  });
  return () => {
    for (const undo of restore.reverse()) undo();
  };
}

export function captureLogs(options: CaptureOptions = {}): LogCapture {
  const lines: string[] = [];
  const { passThrough = false, onLine } = options;
  const sink: Sink = {
    take: onLine ?? ((line) => void lines.push(line)),
    passes: typeof passThrough === 'function' ? passThrough : () => passThrough,
  };
  open.add(sink);
  unpatch ??= patch();
  return {
    lines,
    leaksOf(secret: string): string[] {
      const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
      return lines.filter((line) => [...forms].some((form) => line.includes(form)));
    },
    stop() {
      if (!open.delete(sink) || open.size > 0) return;
      unpatch?.();
      unpatch = null;
    },
  };
}

function safeStringify(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Values no log line may hold, each with where it came from (named in the failure message). */
export class Secrets {
  /** Value → where it came from. */
  readonly named = new Map<string, string>();

  /** Values shorter than `minLength` would match ordinary words of a log line and are not kept. */
  constructor(private readonly minLength: number) {}

  add(value: string | null | undefined, what: string): void {
    if (value && value.length >= this.minLength) this.named.set(value, what);
  }

  get size(): number {
    return this.named.size;
  }

  /** Each captured line holding one of them (in any form `leaksOf` knows), prefixed with its origin. */
  leaksIn(capture: LogCapture): string[] {
    return [...this.named].flatMap(([value, what]) => capture.leaksOf(value).map((line) => `${what}: ${line.trim().slice(0, 300)}`));
  }
}
