// Every log sink of the process, captured: process.stdout/stderr writes (the Powertools logger writes
// through a Console built on them; npm start's reporter and the CLI write to them directly) and the
// global console's methods (Powertools in POWERTOOLS_DEV mode, anything else). The Powertools
// logger is silent outside Lambda: `capture` opens it to DEBUG for its duration, and puts it back.
import { logger } from '../../shared/adapters/system/observability.js';

export interface LogCapture {
  /** Everything written so far, one entry per write or console call. */
  readonly lines: string[];
  /** The captured lines holding `secret`, also as its URL- and JSON-escaped forms. */
  leaksOf(secret: string): string[];
  stop(): void;
}

type Write = typeof process.stdout.write;
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

export function captureLogs(options: { passThrough?: boolean } = {}): LogCapture {
  const lines: string[] = [];
  const restore: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      if (options.passThrough) return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
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
      lines.push(args.map((a) => (typeof a === 'string' ? a : safeStringify(a))).join(' '));
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
  return {
    lines,
    leaksOf(secret: string): string[] {
      const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
      return lines.filter((line) => [...forms].some((form) => line.includes(form)));
    },
    stop() {
      for (const undo of restore.reverse()) undo();
      restore.length = 0;
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
