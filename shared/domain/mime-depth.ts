// Watches the MIME structure of a raw message as it streams and reports when multipart nesting
// passes a limit. mailparser has no depth bound of its own; deep nesting costs it memory and time.
import { Writable } from 'node:stream';

const MAX_TRACKED_LINE = 8 * 1024; // boundary and Content-Type lines are short; the rest is skipped

export class MimeDepthWatcher extends Writable {
  private carry = '';
  private inHeaders = true;
  private contentType = '';
  private collectingContentType = false;
  private readonly boundaries: string[] = [];
  maxDepthSeen = 0;

  constructor(
    private readonly maxDepth: number,
    private readonly onExceeded: (depth: number) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const text = this.carry + chunk.toString('latin1');
    const lines = text.split('\n');
    this.carry = (lines.pop() ?? '').slice(0, MAX_TRACKED_LINE);
    for (const line of lines) this.line(line.replace(/\r$/, ''));
    callback();
  }

  override _final(callback: () => void): void {
    if (this.carry) this.line(this.carry);
    callback();
  }

  private line(line: string): void {
    if (this.inHeaders) return this.headerLine(line);
    if (!line.startsWith('--')) return;
    for (let i = this.boundaries.length - 1; i >= 0; i--) {
      const boundary = this.boundaries[i];
      if (line.trimEnd() === `--${boundary}--`) {
        this.boundaries.length = i;
        return;
      }
      if (line.trimEnd() === `--${boundary}`) {
        this.boundaries.length = i + 1;
        this.inHeaders = true;
        return;
      }
    }
  }

  private headerLine(line: string): void {
    if (line === '') {
      this.inHeaders = false;
      this.collectingContentType = false;
      const boundary = /^\s*multipart\/[^;]*;(?:.*;)?\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/is.exec(this.contentType);
      this.contentType = '';
      const value = boundary?.[1] ?? boundary?.[2];
      if (value) {
        this.boundaries.push(value);
        this.maxDepthSeen = Math.max(this.maxDepthSeen, this.boundaries.length);
        if (this.boundaries.length > this.maxDepth) this.onExceeded(this.boundaries.length);
      }
      return;
    }
    if (/^[ \t]/.test(line)) {
      if (this.collectingContentType) this.contentType += ` ${line.trim()}`.slice(0, MAX_TRACKED_LINE);
      return;
    }
    this.collectingContentType = /^content-type\s*:/i.test(line);
    if (this.collectingContentType) this.contentType = line.slice(line.indexOf(':') + 1).slice(0, MAX_TRACKED_LINE);
  }
}
