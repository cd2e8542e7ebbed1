// Sits between the raw stream and mailparser and enforces the structural limits mailparser lacks or
// enforces too bluntly: multipart nesting depth and part count (the parser's input ends there, so it
// still delivers everything before it, text included), and over-long header lines (cut, so one
// 1 MB line does not cost the whole header block; a folded header counts as one line, so its folds
// past the limit are dropped). It also hands the parser legacy 8-bit header lines as UTF-8 (see
// headerLine). Only the parser's view changes; the stored raw
// message keeps every byte. Body bytes pass through untouched; only lines that may be boundaries
// are looked at.
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import type { Notice } from './model.js';

export interface MimeGuardLimits {
  maxNestingDepth: number;
  maxParts: number;
  /** A single header line is cut to this many bytes. */
  maxHeaderLineBytes: number;
}

const WINDOWS_1252 = new TextDecoder('windows-1252');
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const NEWLINE = Buffer.from('\n');
const LF_DASH_DASH = Buffer.from('\n--');

function isDashDash(data: Buffer, at: number): boolean {
  return data[at] === 0x2d && data[at + 1] === 0x2d;
}
/** A partial line held back between chunks is never longer than this in the body. */
const BODY_CARRY_MAX = 1024;

export class MimeGuard extends Transform {
  private inHeaders = true;
  private carry: Buffer = Buffer.alloc(0);
  /** The carried bytes continue a line that began in an earlier chunk. */
  private carryIsContinuation = false;
  private headerLineBytes = 0;
  /** Bytes of the header being read, its folds included. */
  private logicalHeaderBytes = 0;
  private logicalHeaderCut = false;
  /** The rest of the current physical line is a dropped fold. */
  private droppingFold = false;
  private contentType = '';
  private collectingContentType = false;
  private readonly boundaries: string[] = [];
  private parts = 1;
  private cut = false;
  private truncatedHeaderLines = 0;
  readonly notices: Notice[] = [];
  private out: Buffer[] = [];

  constructor(private readonly limits: MimeGuardLimits) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.cut) return callback();
    let data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    let start = 0;
    while (start < data.length && !this.cut) {
      const continuation = this.carryIsContinuation && start === 0;
      if (!this.inHeaders && !(isDashDash(data, start) && !continuation)) {
        // Body bytes pass in bulk up to the next line that starts with "--".
        const candidate = data.indexOf(LF_DASH_DASH, start);
        const end = candidate === -1 ? data.lastIndexOf(LF) : candidate;
        if (end < start) break;
        this.output(data.subarray(start, end + 1));
        this.carryIsContinuation = false;
        start = end + 1;
        continue;
      }
      const newline = data.indexOf(LF, start);
      if (newline === -1) break;
      const line = data.subarray(start, newline + 1);
      this.carryIsContinuation = false;
      if (this.inHeaders) this.headerLine(line, continuation);
      else this.bodyLine(line, continuation);
      start = newline + 1;
    }
    if (!this.cut && start < data.length) this.holdPartialLine(data.subarray(start));
    data = Buffer.alloc(0);
    if (!this.cut) this.flushOut();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.cut && this.carry.length) {
      if (this.inHeaders) this.headerLine(this.carry, this.carryIsContinuation);
      else this.output(this.carry);
      this.flushOut();
    }
    if (this.truncatedHeaderLines > 0) {
      this.notices.push({
        code: 'header_too_large',
        detail: `${this.truncatedHeaderLines} header line(s) longer than ${this.limits.maxHeaderLineBytes} bytes were cut for parsing; the raw message keeps them whole`,
      });
    }
    callback();
  }

  private holdPartialLine(rest: Buffer): void {
    if (this.inHeaders) {
      if (this.carryIsContinuation ? this.droppingFold : this.headerLineBytes === 0 && this.isDroppedFold(rest)) {
        this.droppingFold = true;
        this.carryIsContinuation = true;
        return;
      }
      if (this.carryIsContinuation || this.headerLineBytes > 0) {
        // The rest of a line already cut: drop it.
        this.emitHeaderPiece(rest, Math.max(0, this.limits.maxHeaderLineBytes - this.headerLineBytes));
        this.carryIsContinuation = true;
      } else if (rest.length <= this.limits.maxHeaderLineBytes) {
        this.carry = Buffer.from(rest); // a header line in the making: parsed once it is whole
      } else {
        // Too long to ever matter: pass on its start, cut the rest as it comes.
        this.emitHeaderPiece(rest, this.limits.maxHeaderLineBytes);
        this.carryIsContinuation = true;
      }
      return;
    }
    if (rest.length > BODY_CARRY_MAX || (!this.carryIsContinuation && rest[0] !== 0x2d)) {
      // Not the start of a "--boundary" line (or far too long to be one): pass it on now.
      this.output(rest);
      this.carryIsContinuation = true;
      return;
    }
    this.carry = Buffer.from(rest);
  }

  private emitHeaderPiece(piece: Buffer, room: number): void {
    if (piece.length <= room) {
      this.output(piece);
      this.headerLineBytes += piece.length;
      return;
    }
    if (room > 0) this.output(piece.subarray(0, room));
    if (this.headerLineBytes <= this.limits.maxHeaderLineBytes) this.truncatedHeaderLines++;
    this.headerLineBytes = this.limits.maxHeaderLineBytes + 1;
  }

  /** A fold (a line starting with white space) of a header already at the limit: never parsed. */
  private isDroppedFold(line: Buffer): boolean {
    if ((line[0] !== SP && line[0] !== HT) || this.logicalHeaderBytes < this.limits.maxHeaderLineBytes) return false;
    if (!this.logicalHeaderCut) this.truncatedHeaderLines++;
    this.logicalHeaderCut = true;
    return true;
  }

  private headerLine(line: Buffer, continuation: boolean): void {
    const endsLine = line[line.length - 1] === LF;
    if (continuation ? this.droppingFold : this.isDroppedFold(line)) {
      // Neither the fold nor its newline reaches the parser: a bare newline would end the headers.
      this.droppingFold = !endsLine;
      return;
    }
    if (!continuation) {
      this.headerLineBytes = 0;
      if (line[0] !== SP && line[0] !== HT) {
        this.logicalHeaderBytes = 0;
        this.logicalHeaderCut = false;
      }
    }
    const body = endsLine ? line.subarray(0, line.length - 1) : line;
    const room = Math.max(0, this.limits.maxHeaderLineBytes - this.headerLineBytes);
    const wasCut = this.headerLineBytes > this.limits.maxHeaderLineBytes || body.length > room;
    if (!continuation && !wasCut && !isUtf8(body)) {
      // Raw 8-bit header bytes that are not UTF-8 (RFC 6532) come from legacy clients writing
      // Windows-1252 / Latin-1 without encoded words; read as UTF-8 they became U+FFFD. The parser
      // gets them as UTF-8; the raw copy keeps the bytes as they came.
      this.output(Buffer.from(WINDOWS_1252.decode(body), 'utf8'));
      this.headerLineBytes += body.length;
    } else {
      this.emitHeaderPiece(body, room);
    }
    if (endsLine) {
      this.output(NEWLINE);
      this.logicalHeaderBytes += this.headerLineBytes;
      this.headerLineBytes = 0;
    }
    if (continuation || wasCut) return;
    const text = body.toString('latin1').replace(/\r$/, '');
    if (text === '') return this.endOfHeaders();
    if (/^[ \t]/.test(text)) {
      if (this.collectingContentType) this.contentType += ` ${text.trim()}`;
      return;
    }
    this.collectingContentType = /^content-type\s*:/i.test(text);
    if (this.collectingContentType) this.contentType = text.slice(text.indexOf(':') + 1);
  }

  private endOfHeaders(): void {
    this.inHeaders = false;
    this.logicalHeaderBytes = 0;
    this.logicalHeaderCut = false;
    this.collectingContentType = false;
    const match = /^\s*multipart\/[^;]*;(?:.*;)?\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/is.exec(this.contentType);
    this.contentType = '';
    const boundary = match?.[1] ?? match?.[2];
    if (!boundary) return;
    this.boundaries.push(boundary);
    if (this.boundaries.length > this.limits.maxNestingDepth) {
      this.stop({
        code: 'nesting_too_deep',
        detail: `MIME parts nest more than ${this.limits.maxNestingDepth} levels deep; parts from there on were not parsed, the raw message is kept`,
      });
    }
  }

  private bodyLine(line: Buffer, continuation: boolean): void {
    if (!continuation && line[0] === 0x2d && line[1] === 0x2d) {
      const text = line.toString('latin1').trimEnd();
      for (let i = this.boundaries.length - 1; i >= 0; i--) {
        const boundary = this.boundaries[i];
        if (text === `--${boundary}--`) {
          this.boundaries.length = i;
          break;
        }
        if (text === `--${boundary}`) {
          this.boundaries.length = i + 1;
          if (++this.parts > this.limits.maxParts) {
            this.stop({
              code: 'too_many_parts',
              detail: `the message has more than ${this.limits.maxParts} MIME parts; parts from there on were not parsed, the raw message is kept`,
            });
            return;
          }
          this.output(line);
          this.inHeaders = true;
          return;
        }
      }
    }
    this.output(line);
  }

  /** Ends what the parser sees here; the rest is swallowed. */
  private stop(notice: Notice): void {
    this.notices.push(notice);
    this.cut = true;
    this.flushOut();
    this.push(null);
  }

  /** Output is gathered per input chunk: one push per chunk, not one per line, keeps the parser fast. */
  private output(piece: Buffer): void {
    if (piece.length) this.out.push(piece);
  }

  private flushOut(): void {
    if (this.out.length === 0) return;
    this.push(this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out));
    this.out = [];
  }
}
