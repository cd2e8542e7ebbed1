import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { MimeGuard, type MimeGuardLimits } from '../../shared/domain/mime-guard.js';

const DIR = join(import.meta.dirname, '../fixtures/mail');
const LIMITS: MimeGuardLimits = { maxNestingDepth: 30, maxParts: 500, maxHeaderLineBytes: 16 * 1024 };

async function guard(raw: Buffer, chunkSize: number, limits = LIMITS) {
  const g = new MimeGuard(limits);
  const parts: Buffer[] = [];
  for (let i = 0; i < raw.length; i += chunkSize) parts.push(raw.subarray(i, i + chunkSize));
  const out = buffer(Readable.from(parts).pipe(g));
  return { output: await out, notices: g.notices };
}

describe('MimeGuard', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.eml'));

  it.each(files)('gives the parser the same bytes however %s is chunked', async (file) => {
    const raw = readFileSync(join(DIR, file));
    const whole = await guard(raw, Math.max(1, raw.length));
    for (const size of [1, 7, 64, 1000]) {
      const chunked = await guard(raw, size);
      expect(chunked.output.equals(whole.output), `chunk size ${size}`).toBe(true);
      expect(chunked.notices).toEqual(whole.notices);
    }
  });

  it('passes ordinary mail through unchanged', async () => {
    const raw = readFileSync(join(DIR, 'gmail-html-alternative.eml'));
    expect((await guard(raw, 100)).output.equals(raw)).toBe(true);
  });

  it('cuts a 1 MB header line and says so once', async () => {
    const raw = Buffer.from(`Subject: hi\r\nX-Junk: ${'a'.repeat(1024 * 1024)}\r\nFrom: a@b.example\r\n\r\nbody\r\n`);
    const { output, notices } = await guard(raw, 4096);
    expect(output.length).toBeLessThan(20 * 1024);
    expect(output.toString()).toContain('From: a@b.example\r\n\r\nbody');
    expect(notices.map((n) => n.code)).toEqual(['header_too_large']);
  });

  it('hands the parser 8-bit header lines that are not UTF-8 as UTF-8, read as Windows-1252, and leaves UTF-8 and bodies alone', async () => {
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    const raw = Buffer.concat([
      latin1('Subject: Caf\u00e9 cr\u00e8me \u0080\r\n'),
      Buffer.from('X-Already: na\u00efve \u2713\r\n', 'utf8'),
      latin1('From: a@b.example\r\n\r\nCaf\u00e9 in the body stays as it came\r\n'),
    ]);
    for (const size of [1, 5, raw.length]) {
      const { output } = await guard(raw, size);
      expect(output.toString('utf8')).toContain('Subject: Café crème €\r\n');
      expect(output.toString('utf8')).toContain('X-Already: naïve ✓\r\n');
      expect(output.subarray(output.indexOf('\r\n\r\n')).equals(raw.subarray(raw.indexOf('\r\n\r\n')))).toBe(true);
    }
  });

  it('ends the parser input at 1,000-deep nesting with one notice', async () => {
    let raw = 'From: a@b.example\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n';
    for (let i = 1; i < 1000; i++) raw += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary="b${i}"\r\n\r\n`;
    const { output, notices } = await guard(Buffer.from(raw), 333);
    expect(notices.map((n) => n.code)).toEqual(['nesting_too_deep']);
    expect(output.length).toBeLessThan(raw.length / 10);
  });
});
