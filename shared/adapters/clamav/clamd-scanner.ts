// Scanner on clamd's INSTREAM command (a unix socket or TCP): the bytes stream through in
// length-prefixed chunks with backpressure, never buffered whole. Whatever happens to clamd, the
// input is read to its end (the same bytes are being uploaded beside it) and trouble becomes an
// `unscanned` verdict: never a false `clean`, never a rejected promise.
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Scanner, ScanVerdict } from '../../domain/ports.js';

export interface ClamdScannerOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  timeoutMs?: number;
}

const MAX_CHUNK = 64 * 1024;

export class ClamdScanner implements Scanner {
  constructor(private readonly options: ClamdScannerOptions) {
    if (!options.socketPath && !(options.host && options.port)) throw new Error('ClamdScanner needs a socketPath or host and port');
  }

  scan(content: Readable): Promise<ScanVerdict> {
    return new Promise((resolve) => {
      let verdict: ScanVerdict | null = null;
      let inputEnded = false;
      let reply = '';
      const socket: Socket = this.options.socketPath
        ? connect(this.options.socketPath)
        : connect(this.options.port as number, this.options.host as string);

      const settle = (v: ScanVerdict) => {
        verdict ??= v;
        if (verdict !== v) return;
        clearTimeout(timer);
        socket.destroy();
        content.resume(); // keep draining what clamd no longer wants
        finish();
      };
      const finish = () => {
        if (verdict && inputEnded) resolve(verdict);
      };
      const timer = setTimeout(() => settle({ status: 'unscanned', reason: 'scanner_timeout' }), this.options.timeoutMs ?? 60_000);

      // Written at once (the socket queues it until connected) so it precedes every chunk.
      socket.write('zINSTREAM\0');
      socket.on('data', (data: Buffer) => {
        reply += data.toString('latin1');
        if (reply.includes('\0') || reply.length > 4096) settle(parseReply(reply.replace(/\0.*$/s, '')));
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        const unavailable = ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK'].includes(error.code ?? '');
        settle({ status: 'unscanned', reason: unavailable ? 'scanner_unavailable' : 'scanner_error' });
      });
      socket.on('close', () => {
        if (!verdict) settle(reply ? parseReply(reply) : { status: 'unscanned', reason: 'scanner_error' });
      });

      content.on('data', (chunk: Buffer) => {
        if (verdict || socket.destroyed) return;
        let writable = true;
        for (let offset = 0; offset < chunk.length; offset += MAX_CHUNK) {
          const piece = chunk.subarray(offset, offset + MAX_CHUNK);
          const header = Buffer.alloc(4);
          header.writeUInt32BE(piece.length);
          // Both writes always happen: a length prefix without its bytes would desynchronise clamd.
          const headerAccepted = socket.write(header);
          const pieceAccepted = socket.write(piece);
          writable = headerAccepted && pieceAccepted && writable;
        }
        if (!writable) {
          content.pause();
          socket.once('drain', () => content.resume());
        }
      });
      content.once('end', () => {
        inputEnded = true;
        if (!verdict && !socket.destroyed) socket.write(Buffer.alloc(4)); // zero length: end of stream
        finish();
      });
      content.once('error', () => {
        inputEnded = true;
        settle({ status: 'unscanned', reason: 'scanner_error' });
      });
    });
  }
}

/** Maps clamd's one-line answer to a verdict. Limit and encryption alerts are not malware. */
export function parseReply(line: string): ScanVerdict {
  const text = line.trim();
  if (/^stream: OK$/.test(text)) return { status: 'clean' };
  const found = /^stream: (.+) FOUND$/.exec(text);
  if (found) {
    const signature = found[1] as string;
    if (/^Heuristics\.Limits\.Exceeded\.(MaxRecursion|MaxFiles)/.test(signature)) return { status: 'unscanned', reason: 'recursion_limit' };
    if (/^Heuristics\.Limits\.Exceeded/.test(signature)) return { status: 'unscanned', reason: 'size_limit' };
    if (/^Heuristics\.Encrypted/.test(signature)) return { status: 'unscanned', reason: 'encrypted' };
    return { status: 'infected', signature };
  }
  if (/size limit exceeded/i.test(text)) return { status: 'unscanned', reason: 'size_limit' };
  return { status: 'unscanned', reason: 'scanner_error' };
}
