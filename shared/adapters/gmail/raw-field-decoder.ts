// Gmail's `messages.get?format=raw` answers JSON whose `raw` field holds the whole RFC 822 message in
// base64url. Buffering that JSON would cost three copies of a 30 MB message; this transform reads
// the JSON as it streams, finds the top-level `raw` string and emits its decoded bytes, so memory
// stays flat whatever the message size. The other fields (id, labels, snippet) are skipped.
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]
const KEY_MAX = 8;
// Node's decoder skips what it does not know; a corrupted body must fail instead.
const BASE64URL = /^[A-Za-z0-9_\-+/=]*$/;

type State = 'json' | 'string' | 'escape' | 'awaitValue' | 'raw' | 'done';

export class GmailRawFieldDecoder extends Transform {
  private state: State = 'json';
  private depth = 0;
  /** The current top-level string, kept only while it could still be the key `raw`. */
  private key = '';
  private keyTooLong = false;
  private lastString: string | null = null;
  /** base64url characters not yet decoded (fewer than 4). */
  private carry = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state !== 'done') {
      callback(new Error(this.state === 'raw' ? 'Gmail raw message ended early' : 'Gmail response has no raw field'));
      return;
    }
    callback();
  }

  private consume(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'raw') {
        const end = chunk.indexOf(QUOTE, i);
        const stop = end === -1 ? chunk.length : end;
        this.decode(chunk.subarray(i, stop).toString('latin1'));
        if (end === -1) return;
        this.finishRaw();
        i = end + 1;
        continue;
      }
      if (this.state === 'done') return;
      const byte = chunk[i++]!;
      switch (this.state) {
        case 'string':
          if (byte === BACKSLASH) this.state = 'escape';
          else if (byte === QUOTE) this.endString();
          else if (this.depth === 1 && !this.keyTooLong) {
            if (this.key.length >= KEY_MAX) this.keyTooLong = true;
            else this.key += String.fromCharCode(byte);
          }
          break;
        case 'escape':
          this.keyTooLong = true; // an escaped key is never `raw`
          this.state = 'string';
          break;
        case 'awaitValue':
          if (byte === QUOTE) this.state = 'raw';
          else if (byte > 0x20) this.state = 'json'; // `raw` not followed by a string: ignore it
          if (this.state === 'json') i--;
          break;
        default:
          if (byte === QUOTE) {
            this.state = 'string';
            this.key = '';
            this.keyTooLong = false;
          } else if (OPEN.has(byte)) {
            this.depth++;
            this.lastString = null;
          } else if (CLOSE.has(byte)) {
            this.depth--;
          } else if (byte === COLON && this.depth === 1 && this.lastString === 'raw') {
            this.state = 'awaitValue';
          } else if (byte > 0x20 && byte !== COLON) {
            this.lastString = null;
          }
      }
    }
  }

  private endString(): void {
    this.state = 'json';
    this.lastString = this.depth === 1 && !this.keyTooLong ? this.key : null;
  }

  private decode(text: string): void {
    if (!BASE64URL.test(text)) throw new Error('Gmail raw field is not valid base64url');
    const all = this.carry + text;
    const usable = all.length - (all.length % 4);
    if (usable > 0) {
      const bytes = Buffer.from(all.slice(0, usable), 'base64url');
      if (bytes.length > 0) this.push(bytes);
    }
    this.carry = all.slice(usable);
  }

  private finishRaw(): void {
    if (this.carry.length > 0) {
      const tail = this.carry.replace(/=+$/, '');
      if (tail.length === 1) throw new Error('Gmail raw field is not valid base64url');
      this.push(Buffer.from(tail, 'base64url'));
      this.carry = '';
    }
    this.state = 'done';
  }
}
