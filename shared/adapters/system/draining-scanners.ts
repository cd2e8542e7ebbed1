// Scanners that give no verdict now. Both still read their input to the end, as the port demands,
// so the encrypted upload the bytes are tee'd into is never stalled.
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Scanner, ScanVerdict } from '../../domain/ports.js';

async function drain(content: Readable): Promise<void> {
  const sink = content.pipe(new PassThrough());
  sink.resume();
  await finished(sink);
}

/** AWS: the scanner function scans the stored object after the write; held as `pending` until then. */
export class DeferredScanner implements Scanner {
  async scan(content: Readable): Promise<ScanVerdict> {
    await drain(content);
    return { status: 'pending' };
  }
}

/** Local without ClamAV installed: held `unscanned` (never served) until a rescan passes. */
export class UnavailableScanner implements Scanner {
  async scan(content: Readable): Promise<ScanVerdict> {
    await drain(content);
    return { status: 'unscanned', reason: 'scanner_unavailable' };
  }
}
