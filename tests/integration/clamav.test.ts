// The ClamdScanner against the real clamd of this test run (tests/support/global-setup.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ClamdScanner, parseReply } from '../../shared/adapters/clamav/clamd-scanner.js';
import { clamdConfig } from '../../shared/local/clamd.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { createMailParser } from '../../shared/domain/parse.js';
import type { ScanVerdict } from '../../shared/domain/ports.js';
import { clamdSocket } from '../support/clamd.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/attachments');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const scanner = () => new ClamdScanner({ socketPath: clamdSocket() });

/** A stream of `total` bytes that records how far it was read and how much it ever buffered. */
function meteredStream(total: number, fill = 0x41) {
  const chunk = Buffer.alloc(64 * 1024, fill);
  const stats = { produced: 0, maxBuffered: 0, ended: false };
  const stream = new Readable({
    highWaterMark: 256 * 1024,
    read() {
      stats.maxBuffered = Math.max(stats.maxBuffered, this.readableLength);
      if (stats.produced >= total) return void this.push(null);
      const size = Math.min(chunk.length, total - stats.produced);
      stats.produced += size;
      this.push(chunk.subarray(0, size));
    },
  });
  stream.once('end', () => (stats.ended = true));
  return { stream, stats };
}

describe('ClamdScanner with real clamd', () => {
  it('passes a clean PDF', async () => {
    expect(await scanner().scan(Readable.from([fixture('clean.pdf')]))).toEqual({ status: 'clean' });
  });

  it.each(['eicar.com.txt', 'eicar.zip', 'eicar-nested.zip'])('finds EICAR in %s', async (name) => {
    // Signatures from an unsigned local database carry clamd's ".UNOFFICIAL" suffix.
    expect(await scanner().scan(Readable.from([fixture(name)]))).toEqual({ status: 'infected', signature: 'Eicar-Test-Signature.UNOFFICIAL' });
  });

  it('holds an encrypted archive as unscanned, never clean', async () => {
    expect(await scanner().scan(Readable.from([fixture('encrypted.zip')]))).toEqual({ status: 'unscanned', reason: 'encrypted' });
  });

  it('holds an archive whose content exceeds the scan limit as unscanned', async () => {
    expect(await scanner().scan(Readable.from([fixture('over-scan-limit.zip')]))).toEqual({ status: 'unscanned', reason: 'size_limit' });
  });

  it('reports a stream over StreamMaxLength as unscanned and still reads it to the end', async () => {
    const { stream, stats } = meteredStream(70 * 1024 * 1024);
    expect(await scanner().scan(stream)).toEqual({ status: 'unscanned', reason: 'size_limit' });
    expect(stats.ended).toBe(true);
  });

  it('reports a missing clamd as unavailable and still reads the input to the end', async () => {
    const { stream, stats } = meteredStream(3 * 1024 * 1024);
    const verdict = await new ClamdScanner({ socketPath: '/nonexistent/clamd.sock' }).scan(stream);
    expect(verdict).toEqual({ status: 'unscanned', reason: 'scanner_unavailable' });
    expect(stats.ended).toBe(true);
  });

  it('streams 18 MB (just under the test MaxFileSize) through without buffering it', async () => {
    const { stream, stats } = meteredStream(18 * 1024 * 1024);
    expect(await scanner().scan(stream)).toEqual({ status: 'clean' });
    expect(stats.produced).toBe(18 * 1024 * 1024);
    expect(stats.maxBuffered).toBeLessThanOrEqual(512 * 1024);
  });

  it('detects the clamav-testfiles samples', async () => {
    const dir = '/usr/share/clamav-testfiles';
    const samples = readdirSync(dir).filter((f) => /\.(zip|7z|cab|tar\.gz|exe|pdf|rar)$/.test(f)).slice(0, 12);
    expect(samples.length).toBeGreaterThan(5);
    for (const name of samples) {
      const verdict = await scanner().scan(Readable.from([readFileSync(join(dir, name))]));
      expect(verdict, name).toEqual({ status: 'infected', signature: 'ClamAV-Test-File.clam-exe.UNOFFICIAL' });
    }
  });
});

describe('regressions', () => {
  it('a length prefix written under backpressure keeps its bytes (scan of a mailparser attachment stream)', async () => {
    // The scanner once skipped a chunk's bytes when the socket refused its length prefix, and clamd
    // then waited forever for them. mailparser's attachment streams hit that path reliably.
    const raw = readFileSync(join(import.meta.dirname, '../../bench/corpus/large-3.eml'));
    const verdicts: ScanVerdict[] = [];
    const parser = createMailParser(DEFAULT_LIMITS, {
      onAttachment: async (part) => void verdicts.push(await new ClamdScanner({ socketPath: clamdSocket(), timeoutMs: 10_000 }).scan(part.content)),
    });
    Readable.from([raw]).pipe(parser.sink);
    await parser.result;
    expect(verdicts).toEqual([{ status: 'clean' }]);
  });
});

describe('clamd configuration', () => {
  it('alerts on what it cannot inspect and accepts at least the attachment limit', () => {
    const conf = clamdConfig({ dir: '/x', socketPath: '/x/s', logFile: '/x/l', maxAttachmentBytes: 150 * 1024 * 1024 });
    for (const line of ['AlertExceedsMax yes', 'AlertEncrypted yes', 'AlertEncryptedArchive yes', 'AlertEncryptedDoc yes']) expect(conf).toContain(line);
    const streamMax = Number(/StreamMaxLength (\d+)/.exec(conf)?.[1]);
    expect(streamMax).toBeGreaterThanOrEqual(150 * 1024 * 1024);
    expect(Number(/MaxFileSize (\d+)/.exec(conf)?.[1])).toBeGreaterThanOrEqual(150 * 1024 * 1024);
    expect(Number(/MaxScanSize (\d+)/.exec(conf)?.[1])).toBe(streamMax);
  });

  it('maps clamd answers to verdicts', () => {
    expect(parseReply('stream: Heuristics.Limits.Exceeded.MaxRecursion FOUND')).toEqual({ status: 'unscanned', reason: 'recursion_limit' });
    expect(parseReply('INSTREAM size limit exceeded. ERROR')).toEqual({ status: 'unscanned', reason: 'size_limit' });
    expect(parseReply('stream: Win.Test.EICAR_HDB-1 FOUND')).toEqual({ status: 'infected', signature: 'Win.Test.EICAR_HDB-1' });
    expect(parseReply('garbage')).toEqual({ status: 'unscanned', reason: 'scanner_error' });
  });
});
