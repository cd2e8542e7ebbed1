// Seeded MIME fuzzing for ingestMessage: fast-check arbitraries that mutate the fixture corpus
// (byte flips, truncations, boundary-line damage, header explosions, charset swaps, NUL bytes,
// transfer-encoding garbage, deep nesting, part-count explosions), the fixed hostile cases the
// reliability suite names, built here rather than checked in, and the one checker the fuzz test and
// the benchmark both run every case through. A case is a descriptor until it runs, so 2,000 of
// them cost no memory; the same seed always yields the same cases in the same order.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { ingestMessage, type IngestDeps, type IngestResult } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS, type IngestLimits } from '../../shared/domain/limits.js';
import type { NoticeCode } from '../../shared/domain/model.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository, SequentialIds } from '../support/memory.js';

export const DEFAULT_FUZZ_SEED = 20261202;
export const DEFAULT_FUZZ_CASES = 2000;
/** Every generated message stays under this; only the named 1 MB-header cases go past it. */
export const MAX_CASE_BYTES = 2 * 1024 * 1024;
/** A case that takes longer than this to resolve counts as a hang. */
export const CASE_DEADLINE_MS = 5000;

const MAIL_DIR = join(import.meta.dirname, '../fixtures/mail');
const ATTACHMENT_DIR = join(import.meta.dirname, '../fixtures/attachments');

export interface FuzzCase {
  /** What was done to which message, enough to rebuild it by hand. */
  label: string;
  raw: Buffer;
  /** The stream hands the bytes over in chunks of this size. */
  chunkSize: number;
  /** The limits it is ingested under (DEFAULT_LIMITS without). */
  limits?: IngestLimits;
  /** Notices this case must carry (only for cases built to hit a limit). */
  expectNotices?: NoticeCode[];
  /** Notices this case must not carry (e.g. `unparsed` where a limit should have saved the headers). */
  forbidNotices?: NoticeCode[];
}

// ---------------------------------------------------------------------------------------------
// The corpus

export interface CorpusMessage {
  file: string;
  raw: Buffer;
}

let corpusCache: CorpusMessage[] | undefined;
export function loadCorpus(): CorpusMessage[] {
  corpusCache ??= readdirSync(MAIL_DIR)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((file) => ({ file, raw: readFileSync(join(MAIL_DIR, file)) }));
  return corpusCache;
}

// ---------------------------------------------------------------------------------------------
// Byte helpers (latin1 maps every byte to one char and back, so regexes can work on raw bytes)

const str = (b: Buffer) => b.toString('latin1');
const bytes = (s: string) => Buffer.from(s, 'latin1');

/** Offset just past the blank line ending the top header block, or the end. */
function headerEnd(s: string): number {
  const m = /\r?\n\r?\n/.exec(s);
  return m ? m.index + m[0].length : s.length;
}

/** Offsets where each line starts. */
function lineStarts(s: string): number[] {
  const starts = [0];
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) if (i + 1 < s.length) starts.push(i + 1);
  return starts;
}

/** The top-level header lines other than the MIME ones, so a rebuilt message keeps its identity. */
function identityHeaders(s: string): string {
  const head = s.slice(0, headerEnd(s)).replace(/\r?\n\r?\n$/, '');
  const kept: string[] = [];
  let keep = false;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      if (keep) kept.push(line);
      continue;
    }
    keep = !/^(content-|mime-version)/i.test(line);
    if (keep) kept.push(line);
  }
  return kept.length ? `${kept.join('\r\n')}\r\n` : '';
}

function at<T>(items: readonly T[], index: number): T {
  return items[index % items.length] as T;
}

// ---------------------------------------------------------------------------------------------
// Mutations

export interface Mutation {
  label: string;
  apply(raw: Buffer, corpus: CorpusMessage[]): Buffer;
}

const mutation = (label: string, apply: Mutation['apply']): Mutation => ({ label, apply });

export const BAD_CHARSETS = [
  'x-unknown-charset-42',
  'utf-7',
  'UTF-16',
  'utf-16le',
  'UTF-32BE',
  'iso-2022-jp',
  'gb18030',
  'big5-hkscs',
  'ebcdic-cp-us',
  'ISO-8859-99',
  'windows-1258',
  'koi8-u',
  '',
  '"',
  '"utf-8',
  'utf-8\0',
  '../../etc/passwd',
  'x'.repeat(1000),
  'csUnicode11UTF7',
  '%%%',
] as const;

const CTE_VALUES = ['base64', 'quoted-printable', 'x-uuencode', 'uuencode', 'binary', '7bit', 'BASE64 garbage', '', 'x-garbage', 'base64; base64', '\0', 'q', 'b'] as const;

const byteFlips = fc
  .array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 32 })
  .map((flips) =>
    mutation(`flip ${flips.length} byte(s)`, (raw) => {
      const out = Buffer.from(raw);
      if (out.length) for (const [position, value] of flips) out[position % out.length] = value;
      return out;
    }),
  );

const truncation = fc.nat().map((position) => mutation(`truncate at ${position}`, (raw) => raw.subarray(0, raw.length ? position % raw.length : 0)));

const boundaryDamage = fc
  .record({ pick: fc.nat(), op: fc.constantFrom('duplicate', 'remove', 'close', 'strip', 'swap-all-closes'), times: fc.integer({ min: 1, max: 200 }) })
  .map(({ pick, op, times }) =>
    mutation(`boundary ${op} #${pick} x${times}`, (raw) => {
      const s = str(raw);
      const starts = lineStarts(s).filter((i) => s.startsWith('--', i));
      if (op === 'swap-all-closes') return bytes(s.replace(/^(--[^\r\n]+?)--(\r?\n|$)/gm, '$1$2'));
      if (starts.length === 0) return raw;
      const start = at(starts, pick);
      const lineEnd = s.indexOf('\n', start);
      const end = lineEnd === -1 ? s.length : lineEnd + 1;
      const line = s.slice(start, end);
      switch (op) {
        case 'duplicate':
          return bytes(s.slice(0, start) + line.repeat(times) + s.slice(end));
        case 'remove':
          return bytes(s.slice(0, start) + s.slice(end));
        case 'close':
          return bytes(`${s.slice(0, start)}${line.replace(/(\r?\n)?$/, '--$1')}${s.slice(end)}`);
        default:
          return bytes(s.slice(0, start) + line.slice(2) + s.slice(end));
      }
    }),
  );

const headerExplosion = fc
  .record({
    kind: fc.constantFrom('long-with-colon', 'long-no-colon', 'many-lines', 'long-folded', 'long-in-part', 'many-in-part', 'long-subject'),
    size: fc.integer({ min: 1024, max: 320 * 1024 }),
    pick: fc.nat(),
  })
  .map(({ kind, size, pick }) =>
    mutation(`header ${kind} ${size}B`, (raw) => {
      const s = str(raw);
      let text: string;
      switch (kind) {
        case 'long-with-colon':
          text = `X-Long: ${'a'.repeat(size)}\r\n`;
          break;
        case 'long-no-colon':
          text = `${'b'.repeat(size)}\r\n`;
          break;
        case 'many-lines':
          text = Array.from({ length: Math.ceil(size / 24) }, (_, i) => `X-Field-${i}: value\r\n`).join('');
          break;
        case 'long-folded':
          text = `X-Folded: start\r\n${' continued-value-of-the-folded-header\r\n'.repeat(Math.ceil(size / 38))}`;
          break;
        case 'long-subject':
          text = `Subject: ${'=?utf-8?B?w6nDqMOgw7k=?= '.repeat(Math.ceil(size / 25))}\r\n`;
          break;
        default: {
          // Into the header block of some body part, if there is one.
          const parts = lineStarts(s).filter((i) => s.startsWith('--', i));
          if (parts.length) {
            const start = at(parts, pick);
            const lineEnd = s.indexOf('\n', start);
            const insertAt = lineEnd === -1 ? s.length : lineEnd + 1;
            const text = kind === 'many-in-part' ? Array.from({ length: Math.ceil(size / 24) }, (_, i) => `X-Part-${i}: value\r\n`).join('') : `X-Part-Long: ${'c'.repeat(size)}\r\n`;
            return bytes(s.slice(0, insertAt) + text + s.slice(insertAt));
          }
          text = `X-Long: ${'c'.repeat(size)}\r\n`;
        }
      }
      // After some header line of the top block (position 0 included).
      const headStarts = lineStarts(s).filter((i) => i < headerEnd(s));
      const insertAt = headStarts.length ? at(headStarts, pick) : 0;
      return bytes(s.slice(0, insertAt) + text + s.slice(insertAt));
    }),
  );

const charsetSwap = fc
  .record({ label: fc.constantFrom(...BAD_CHARSETS), where: fc.constantFrom('content-type', 'encoded-word', 'rfc2231') })
  .map(({ label, where }) =>
    mutation(`charset ${where} -> ${JSON.stringify(label.slice(0, 20))}`, (raw) => {
      const s = str(raw);
      if (where === 'content-type') {
        const swapped = s.replace(/charset\s*=\s*("[^"]*"|[^\s;]+)/gi, `charset=${label}`);
        return bytes(swapped === s ? s.replace(/^(content-type:[^\r\n]*)/im, `$1; charset=${label}`) : swapped);
      }
      if (where === 'encoded-word') {
        const word = `=?${label}?B?${Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28, 0xe2, 0x82]).toString('base64')}?= =?${label}?Q?=E9=00=FF?=`;
        const swapped = s.replace(/^(subject|from):[^\r\n]*/im, (_m, name: string) => `${name}: ${word} <x@y.example>`);
        return bytes(swapped === s ? `Subject: ${word}\r\n${s}` : swapped);
      }
      return bytes(s.replace(/filename\s*=\s*("[^"]*"|[^\s;]+)/gi, `filename*=${label}''%FF%00%C3%28.txt`));
    }),
  );

const nulInjection = fc
  .record({ positions: fc.array(fc.nat(), { minLength: 1, maxLength: 64 }), run: fc.integer({ min: 1, max: 4096 }), where: fc.constantFrom('anywhere', 'header-names', 'line-ends') })
  .map(({ positions, run, where }) =>
    mutation(`NUL ${where} x${positions.length} run ${run}`, (raw) => {
      const s = str(raw);
      if (where === 'header-names') return bytes(s.replace(/^([A-Za-z-]+):/gm, (_m, name: string) => `${name.slice(0, 2)}\0${name.slice(2)}:`));
      if (where === 'line-ends') return bytes(s.replace(/\r\n/g, (m, offset: number) => (offset % 3 === 0 ? '\0\n' : m)));
      let out = s;
      for (const position of positions.slice(0, 8)) {
        const i = out.length ? position % out.length : 0;
        out = out.slice(0, i) + '\0'.repeat(Math.min(run, 256)) + out.slice(i);
      }
      return bytes(out);
    }),
  );

const transferEncodingGarbage = fc
  .record({ value: fc.constantFrom(...CTE_VALUES), noise: fc.constantFrom('none', 'bad-base64', 'bad-qp', 'uuencode-begin') })
  .map(({ value, noise }) =>
    mutation(`CTE ${JSON.stringify(value)} noise ${noise}`, (raw) => {
      let s = str(raw).replace(/^content-transfer-encoding:[^\r\n]*/gim, `Content-Transfer-Encoding: ${value}`);
      if (!/^content-transfer-encoding:/im.test(s)) s = `Content-Transfer-Encoding: ${value}\r\n${s}`;
      const bodyAt = headerEnd(s);
      const noiseText = noise === 'bad-base64' ? '!!!@@@====AAAA=\r\n%%%%\r\n' : noise === 'bad-qp' ? '=ZZ=\r\n=0=\r\n=\r\n=E' : noise === 'uuencode-begin' ? 'begin 644 x.bin\r\nM!!!!\r\n' : '';
      return bytes(s.slice(0, bodyAt) + noiseText + s.slice(bodyAt));
    }),
  );

/** The message's own headers over `depth` nested multiparts, its body at the bottom. */
const deepNesting = fc
  .record({ depth: fc.integer({ min: 2, max: 1200 }), close: fc.boolean() })
  .map(({ depth, close }) =>
    mutation(`nest ${depth} deep${close ? ' closed' : ''}`, (raw) => {
      const s = str(raw);
      let out = `${identityHeaders(s)}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="n0"\r\n\r\n`;
      for (let i = 1; i < depth; i++) out += `--n${i - 1}\r\nContent-Type: multipart/mixed; boundary="n${i}"\r\n\r\n`;
      out += `--n${depth - 1}\r\nContent-Type: text/plain\r\n\r\n${s.slice(headerEnd(s), headerEnd(s) + 4096)}\r\n`;
      if (close) for (let i = depth - 1; i >= 0; i--) out += `--n${i}--\r\n`;
      return bytes(out);
    }),
  );

/** The message's own headers over one multipart of `count` tiny parts. */
const partExplosion = fc
  .record({ count: fc.oneof(fc.integer({ min: 10, max: 600 }), fc.integer({ min: 600, max: 12000 })), attach: fc.boolean(), close: fc.boolean() })
  .map(({ count, attach, close }) =>
    mutation(`${count} parts${attach ? ' as attachments' : ''}`, (raw) => bytes(manyParts(identityHeaders(str(raw)), count, attach, close))),
  );

const lineEndings = fc.constantFrom('lf', 'cr', 'mixed').map((kind) =>
  mutation(`line endings ${kind}`, (raw) => {
    const s = str(raw);
    if (kind === 'lf') return bytes(s.replace(/\r\n/g, '\n'));
    if (kind === 'cr') return bytes(s.replace(/\r?\n/g, '\r'));
    return bytes(s.replace(/\r?\n/g, (_m, offset: number) => (offset % 2 ? '\n' : '\r\n')));
  }),
);

const splice = fc
  .record({ other: fc.nat(), from: fc.nat(), length: fc.integer({ min: 1, max: 8192 }), to: fc.nat() })
  .map(({ other, from, length, to }) =>
    mutation(`splice ${length}B of corpus #${other}`, (raw, corpus) => {
      const donor = at(corpus, other).raw;
      if (donor.length === 0) return raw;
      const start = from % donor.length;
      const insertAt = raw.length ? to % raw.length : 0;
      return Buffer.concat([raw.subarray(0, insertAt), donor.subarray(start, start + length), raw.subarray(insertAt)]);
    }),
  );

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: byteFlips },
  { weight: 4, arbitrary: truncation },
  { weight: 4, arbitrary: boundaryDamage },
  { weight: 2, arbitrary: headerExplosion },
  { weight: 4, arbitrary: charsetSwap },
  { weight: 4, arbitrary: nulInjection },
  { weight: 4, arbitrary: transferEncodingGarbage },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: partExplosion },
  { weight: 2, arbitrary: lineEndings },
  { weight: 3, arbitrary: splice },
);

// ---------------------------------------------------------------------------------------------
// Cases

interface CaseDescriptor {
  base: { corpus: number } | { random: Uint8Array };
  mutations: Mutation[];
  chunkSize: number;
  limits: IngestLimits | null;
}

/** Tight limits, so the limit paths run on small messages too. */
const tightLimits: fc.Arbitrary<IngestLimits> = fc.record({
  maxMessageBytes: fc.integer({ min: 256, max: 64 * 1024 }),
  maxAttachmentBytes: fc.integer({ min: 1, max: 16 * 1024 }),
  maxAttachments: fc.integer({ min: 0, max: 5 }),
  maxHeaderBytes: fc.integer({ min: 256, max: 8 * 1024 }),
  maxParts: fc.integer({ min: 1, max: 20 }),
  maxNestingDepth: fc.integer({ min: 1, max: 5 }),
  claimLeaseSeconds: fc.constant(DEFAULT_LIMITS.claimLeaseSeconds),
});

const caseArbitrary: fc.Arbitrary<CaseDescriptor> = fc.record({
  base: fc.oneof(
    { weight: 15, arbitrary: fc.nat().map((corpus) => ({ corpus })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8192 }).map((random) => ({ random })) },
  ),
  mutations: fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 }),
  chunkSize: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 70_000 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  limits: fc.option(tightLimits, { freq: 3 }),
});

/** Case `index` of the run seeded with `seed`: the same pair always builds the same bytes. */
function buildCase(descriptor: CaseDescriptor, corpus: CorpusMessage[]): FuzzCase {
  const base = 'corpus' in descriptor.base ? at(corpus, descriptor.base.corpus) : { file: 'random bytes', raw: Buffer.from(descriptor.base.random) };
  let raw = base.raw;
  for (const m of descriptor.mutations) {
    raw = m.apply(raw, corpus);
    if (raw.length > MAX_CASE_BYTES) raw = raw.subarray(0, MAX_CASE_BYTES);
  }
  // Never more than ~4,000 chunks: tiny chunks over a big message test nothing new, only time.
  const chunkSize = Math.max(descriptor.chunkSize, Math.ceil(raw.length / 4000), 1);
  const chunks = `chunks of ${chunkSize === Number.MAX_SAFE_INTEGER ? 'all' : chunkSize}`;
  const limits = descriptor.limits ? ` | limits ${JSON.stringify(descriptor.limits)}` : '';
  return {
    label: `${base.file} | ${descriptor.mutations.map((m) => m.label).join(' | ')} | ${chunks}${limits}`,
    raw,
    chunkSize,
    ...(descriptor.limits ? { limits: descriptor.limits } : {}),
  };
}

/** `count` mutated corpus messages, built one at a time as they are iterated. */
export function* fuzzCases(seed: number, count: number): Generator<FuzzCase> {
  const corpus = loadCorpus();
  const descriptors = fc.sample(caseArbitrary, { seed, numRuns: count });
  for (const descriptor of descriptors) yield buildCase(descriptor, corpus);
}

// ---------------------------------------------------------------------------------------------
// Fixed hostile cases

const BASE_HEADERS = [
  'From: Mallory <mallory@hostile.example>',
  'To: support@helpdesk.example',
  'Subject: hostile',
  'Date: Wed, 2 Dec 2026 10:00:00 +0000',
  'Message-ID: <hostile-@hostile.example>',
  'MIME-Version: 1.0',
].join('\r\n');

const headers = (id: string) => `${BASE_HEADERS.replace('hostile-@', `${id}@`)}\r\n`;

function manyParts(head: string, count: number, attach: boolean, close: boolean): string {
  let out = `${head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n`;
  for (let i = 0; i < count; i++) {
    out += attach
      ? `--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="a${i}.bin"\r\n\r\npart ${i}\r\n`
      : `--p\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
  }
  return close ? `${out}--p--\r\n` : out;
}

/** A minimal zip (one deflated entry per name). */
function zip(entries: Array<{ name: string; data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name);
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, compressed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** 16 MB of zeros, then four levels of 16 copies each: about 1 TB once fully unpacked. */
function nestedZipBomb(): Buffer {
  let layer = zip([{ name: 'zeros.bin', data: Buffer.alloc(16 * 1024 * 1024) }]);
  for (let level = 1; level <= 4; level++) {
    layer = zip(Array.from({ length: 16 }, (_, i) => ({ name: `l${level}-${i}.zip`, data: layer })));
  }
  return layer;
}

function withAttachments(id: string, files: Array<{ name: string; data: Buffer; type?: string }>): string {
  let out = `${headers(id)}Content-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n`;
  for (const { name, data, type } of files) {
    out += `--z\r\nContent-Type: ${type ?? 'application/zip'}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
    out += `${data.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`;
  }
  return `${out}--z--\r\n`;
}

const MB = 1024 * 1024;

/** The named hostile messages of the reliability suite, each with the notices it must carry. */
export function hostileCases(): FuzzCase[] {
  const attachmentFixture = (file: string) => readFileSync(join(ATTACHMENT_DIR, file));
  const cases: Array<Omit<FuzzCase, 'chunkSize'> & { chunkSize?: number }> = [
    {
      label: 'decompression bomb: nested zips (16 MB of zeros, 4 levels of 16 copies) as an attachment',
      raw: bytes(withAttachments('zip-bomb', [{ name: 'bomb.zip', data: nestedZipBomb() }])),
    },
    {
      label: 'decompression bombs from the fixtures: over-scan-limit.zip, eicar-nested.zip, encrypted.zip',
      raw: bytes(
        withAttachments('zip-fixtures', ['over-scan-limit.zip', 'eicar-nested.zip', 'encrypted.zip'].map((name) => ({ name, data: attachmentFixture(name) }))),
      ),
      expectNotices: ['attachment_infected'],
    },
    { label: '10,000 MIME parts', raw: bytes(manyParts(headers('parts-10k'), 10_000, false, true)), expectNotices: ['too_many_parts'] },
    { label: '10,000 MIME parts, all attachments', raw: bytes(manyParts(headers('attach-10k'), 10_000, true, true)), expectNotices: ['too_many_parts'] },
    {
      label: '10,000 MIME parts, no closing delimiter, 1-byte chunks',
      raw: bytes(manyParts(headers('parts-10k-open'), 10_000, false, false)),
      chunkSize: 1,
      expectNotices: ['too_many_parts'],
    },
    { label: '1,000-deep multipart nesting', raw: bytes(nested(headers('deep-1000'), 1000, true)), expectNotices: ['nesting_too_deep'] },
    { label: '1,000-deep multipart nesting, never closed', raw: bytes(nested(headers('deep-1000-open'), 1000, false)), expectNotices: ['nesting_too_deep'] },
    {
      label: 'a 1 MB header line with a colon',
      raw: bytes(`${headers('hdr-colon')}X-Junk: ${'a'.repeat(MB)}\r\nContent-Type: text/plain\r\n\r\nbody\r\n`),
      expectNotices: ['header_too_large'],
      forbidNotices: ['unparsed'],
    },
    {
      label: 'a 1 MB header line without a colon',
      raw: bytes(`${headers('hdr-nocolon')}${'a'.repeat(MB)}\r\nContent-Type: text/plain\r\n\r\nbody\r\n`),
      expectNotices: ['header_too_large'],
      forbidNotices: ['unparsed'],
    },
    { label: 'a 1 MB first line and nothing else', raw: bytes('x'.repeat(MB)), expectNotices: ['header_too_large'] },
    {
      label: 'a 1 MB header line inside a body part',
      raw: bytes(`${headers('hdr-part')}Content-Type: multipart/mixed; boundary="h"\r\n\r\n--h\r\nX-Junk: ${'p'.repeat(MB)}\r\nContent-Type: text/plain\r\n\r\nbody\r\n--h--\r\n`),
      expectNotices: ['header_too_large'],
      forbidNotices: ['unparsed'],
    },
    {
      label: 'a 1 MB header of folded continuation lines',
      raw: bytes(`${headers('hdr-folded')}X-Folded: a\r\n${' folded continuation line of a header\r\n'.repeat(Math.ceil(MB / 38))}Content-Type: text/plain\r\n\r\nbody\r\n`),
      expectNotices: ['header_too_large'],
      forbidNotices: ['unparsed'],
    },
    {
      label: '1 MB of header lines in a body part after an attachment',
      raw: bytes(
        `${headers('hdr-part-many')}Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="first.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
          `${Buffer.alloc(300 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--m\r\n${Array.from({ length: 40_000 }, (_, i) => `X-F${i}: v\r\n`).join('')}Content-Type: text/plain\r\n\r\nbody\r\n` +
          `--m\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="after.bin"\r\n\r\nafter\r\n--m--\r\n`,
      ),
      expectNotices: ['header_too_large'],
    },
    {
      label: '1 MB of header lines (40,000 short fields)',
      raw: bytes(`${headers('hdr-many')}${Array.from({ length: 40_000 }, (_, i) => `X-F${i}: v\r\n`).join('')}Content-Type: text/plain\r\n\r\nbody\r\n`),
      expectNotices: ['header_too_large'],
    },
    ...BAD_CHARSETS.map((label) => ({
      label: `invalid charset ${JSON.stringify(label.slice(0, 24))} everywhere`,
      raw: bytes(
        `${headers(`charset-${crc32(label)}`).replace('Subject: hostile', `Subject: =?${label}?B?/+7/AEHDKA==?=`)}Content-Type: multipart/mixed; boundary="c"\r\n\r\n` +
          `--c\r\nContent-Type: text/plain; charset="${label}"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xff\xfe\x00caf\xe9 \x1b$B\r\n` +
          `--c\r\nContent-Type: text/html; charset=${label}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=FF=00=E9</p>\r\n` +
          `--c\r\nContent-Type: text/plain; name*=${label}''%FF%00.txt\r\nContent-Disposition: attachment; filename*=${label}''%FF%00.txt\r\n\r\nx\r\n--c--\r\n`,
      ),
    })),
    { label: 'NUL bytes in header names, values, boundary and body', raw: bytes(`${headers('nul').replace('Subject: hostile', 'Sub\0ject: ho\0stile')}Content-Type: multipart/mixed; boundary="a\0b"\r\n\r\n--a\0b\r\nContent-Type: text/plain\r\n\r\n\0\0\0body\0\r\n--a\0b--\r\n`) },
    { label: '1 MB of NUL bytes', raw: Buffer.alloc(MB) },
    { label: 'NUL-terminated lines instead of CRLF', raw: bytes(`${headers('nul-lines')}Content-Type: text/plain\r\n\r\nbody\r\n`.replace(/\r\n/g, '\0')) },
    { label: 'an empty message', raw: Buffer.alloc(0) },
    { label: 'nothing but blank lines', raw: bytes('\r\n'.repeat(10_000)) },
    { label: 'an empty boundary parameter', raw: bytes(`${headers('empty-boundary')}Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\nContent-Type: text/plain\r\n\r\nx\r\n----\r\n`) },
    {
      label: 'base64 and quoted-printable garbage',
      raw: bytes(`${headers('cte-garbage')}Content-Type: multipart/mixed; boundary="g"\r\n\r\n--g\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!@@@***\x00\xff====AAA\r\n--g\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=0=\r\n=\r\n--g\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\nContent-Disposition: attachment\r\n\r\nbegin 644 x\r\nM!!!\r\n--g--\r\n`),
    },
  ];
  return cases.map((c) => ({ chunkSize: 64 * 1024, ...c }));
}

function nested(head: string, depth: number, close: boolean): string {
  let out = `${head}Content-Type: multipart/mixed; boundary="b0"\r\n\r\n`;
  for (let i = 1; i < depth; i++) out += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary="b${i}"\r\n\r\n`;
  out += `--b${depth - 1}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n`;
  if (close) for (let i = depth - 1; i >= 0; i--) out += `--b${i}--\r\n`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The checker

export const INGEST_STATUSES = ['created', 'appended', 'duplicate', 'suppressed'] as const;

const NOTICE_CODES = new Set<string>([
  'unparsed',
  'message_truncated',
  'header_too_large',
  'too_many_parts',
  'nesting_too_deep',
  'attachment_too_large',
  'too_many_attachments',
  'attachment_infected',
  'attachment_unscanned',
  'message_id_synthesized',
  'new_participant',
] satisfies NoticeCode[]);

export interface CaseOutcome {
  ms: number;
  status: string | null;
  notices: NoticeCode[];
  /** Why the case failed (a crash, a hang, a lost raw, an unclear status), or null. */
  failure: string | null;
}

const TENANT = 'fuzz';
const MAILBOX = 'fuzz-mailbox';

async function freshDeps(limits: IngestLimits): Promise<IngestDeps & { repo: MemoryRepository; blobs: MemoryBlobStore; keys: MemoryKeyService }> {
  const repo = new MemoryRepository();
  const clock = new ManualClock();
  await repo.putMailbox({ tenantId: TENANT, mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
  return { repo, blobs: new MemoryBlobStore(), keys: new MemoryKeyService(), scanner: new EicarScanner(), clock, ids: new SequentialIds(), limits };
}

function chunked(raw: Buffer, size: number): Readable {
  if (size >= raw.length) return Readable.from([raw]);
  const parts: Buffer[] = [];
  for (let i = 0; i < raw.length; i += size) parts.push(raw.subarray(i, i + size));
  return Readable.from(parts);
}

type Deadline = { timedOut: true };

/** Runs one case through ingestMessage against fresh in-memory ports and checks every promise. */
export async function checkCase(c: FuzzCase, options: { deadlineMs?: number; reingest?: boolean; limits?: IngestLimits } = {}): Promise<CaseOutcome> {
  const deadlineMs = options.deadlineMs ?? CASE_DEADLINE_MS;
  const deps = await freshDeps(options.limits ?? c.limits ?? DEFAULT_LIMITS);
  const started = performance.now();
  const ingest = () => ingestMessage(deps, chunked(c.raw, c.chunkSize), { tenantId: TENANT, mailboxId: MAILBOX, receivedAt: deps.clock.now() });

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Deadline>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), deadlineMs);
  });
  let result: IngestResult | Deadline;
  try {
    result = await Promise.race([ingest(), deadline]);
  } catch (error) {
    return { ms: performance.now() - started, status: null, notices: [], failure: `crash: ingestMessage rejected: ${describe(error)}` };
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - started;
  if ('timedOut' in result) return { ms, status: null, notices: [], failure: `hang: no result after ${deadlineMs} ms` };
  const notices = result.notices.map((n) => n.code);
  const outcome = (failure: string | null): CaseOutcome => ({ ms, status: result.status, notices, failure });
  // A synchronous stall blocks the timer too; the clock still tells.
  if (ms > deadlineMs) return outcome(`hang: took ${Math.round(ms)} ms (deadline ${deadlineMs} ms)`);
  if (!INGEST_STATUSES.includes(result.status)) return outcome(`unclear status: ${JSON.stringify(result.status)}`);
  if (result.status === 'duplicate') return outcome('unclear status: duplicate in an empty mailbox');
  const unclear = result.notices.find((n) => !NOTICE_CODES.has(n.code) || typeof n.detail !== 'string' || n.detail === '');
  if (unclear) return outcome(`unclear status: notice ${JSON.stringify(unclear)}`);

  // Past maxMessageBytes the rest is discarded by design, with a notice; the kept part is exact.
  const kept = notices.includes('message_truncated') ? c.raw.subarray(0, deps.limits.maxMessageBytes) : c.raw;
  if (kept.length < c.raw.length && c.raw.length <= deps.limits.maxMessageBytes) return outcome('unclear status: message_truncated on a message within the limit');
  const lost = await rawProblem(deps, result, kept);
  if (lost) return outcome(lost);
  const orphans = orphanBlobs(deps);
  if (orphans.length) return outcome(`${orphans.length} orphan blob(s) nothing refers to, e.g. ${orphans[0]}`);
  if (result.internetMessageId.endsWith('@synthesized.mail2ticket.invalid') && !c.raw.includes(result.internetMessageId)) {
    if (!notices.includes('message_id_synthesized') && !notices.includes('unparsed')) {
      return outcome('unclear status: a synthesized Message-ID without notice message_id_synthesized or unparsed');
    }
  }
  if (result.attachments.length > deps.limits.maxAttachments) return outcome(`limit without notice: ${result.attachments.length} attachments kept`);
  if (c.raw.length > deps.limits.maxMessageBytes && !notices.includes('message_truncated')) return outcome('limit without notice: over maxMessageBytes without message_truncated');
  const oversized = result.attachments.filter((a) => a.size > deps.limits.maxAttachmentBytes);
  if (oversized.length && !notices.includes('attachment_too_large')) return outcome(`limit without notice: ${oversized.length} attachment(s) over maxAttachmentBytes`);
  const missing = (c.expectNotices ?? []).filter((code) => !notices.includes(code));
  if (missing.length) return outcome(`limit without notice: expected ${missing.join(', ')}, got [${notices.join(', ')}]`);
  const unwanted = (c.forbidNotices ?? []).filter((code) => notices.includes(code));
  if (unwanted.length) return outcome(`unexpected notice ${unwanted.join(', ')}: a limit should have kept the rest readable`);

  if (options.reingest) {
    // The same bytes again: a duplicate of the first, whose raw stays.
    let again: IngestResult;
    try {
      again = await ingest();
    } catch (error) {
      return outcome(`crash: the second ingestion rejected: ${describe(error)}`);
    }
    if (again.status !== 'duplicate') return outcome(`unclear status: the same bytes again gave ${again.status}, not duplicate`);
    const lostAgain = await rawProblem(deps, result, kept);
    if (lostAgain) return outcome(`after the duplicate: ${lostAgain}`);
  }
  return outcome(null);
}

/** Null when the raw blob of `result` exists and decrypts to exactly `raw`; otherwise what is wrong. */
async function rawProblem(deps: Awaited<ReturnType<typeof freshDeps>>, result: IngestResult, raw: Buffer): Promise<string | null> {
  const record =
    result.status === 'suppressed'
      ? [...deps.repo.suppressed.values()].find((s) => s.messageId === result.messageId)
      : [...deps.repo.messages.values()].find((m) => m.messageId === result.messageId);
  if (!record) return `lost raw: no ${result.status === 'suppressed' ? 'suppressed record' : 'message record'} for ${result.messageId}`;
  const ciphertext = record.rawKey === null ? undefined : deps.blobs.objects.get(record.rawKey);
  if (!ciphertext) return `lost raw: no object at ${record.rawKey}`;
  const plaintext = await deps.keys.decrypt(ciphertext, { tenantId: TENANT, mailboxId: MAILBOX, purpose: 'raw' });
  if (!Buffer.from(plaintext).equals(raw)) return `lost raw: the stored raw has ${plaintext.length} bytes, the input ${raw.length}, and they differ`;
  return null;
}

/** Stored objects no record points at (left behind by a pass that did not clean up). */
function orphanBlobs(deps: Awaited<ReturnType<typeof freshDeps>>): string[] {
  const referenced = new Set<string>();
  for (const m of deps.repo.messages.values()) {
    if (m.rawKey) referenced.add(m.rawKey);
    if (m.bodyKey) referenced.add(m.bodyKey);
  }
  for (const s of deps.repo.suppressed.values()) referenced.add(s.rawKey);
  for (const a of deps.repo.attachments.values()) if (a.blobKey) referenced.add(a.blobKey);
  return [...deps.blobs.objects.keys()].filter((key) => !referenced.has(key));
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}${error.stack ? ` @ ${error.stack.split('\n').slice(1, 3).join(' ').trim()}` : ''}`;
  return String(error);
}

export interface FuzzRun {
  seed: number;
  cases: number;
  failures: Array<{ index: number; label: string; failure: string }>;
  slowest: { index: number; label: string; ms: number };
  ms: number;
}

/** `count` seeded mutations, run one at a time; every tenth is ingested twice (the second must be a duplicate). */
export async function runFuzz(seed: number, count: number, options: { only?: number; onCase?: (index: number, c: FuzzCase, o: CaseOutcome) => void } = {}): Promise<FuzzRun> {
  const started = performance.now();
  const run: FuzzRun = { seed, cases: 0, failures: [], slowest: { index: -1, label: '', ms: 0 }, ms: 0 };
  let index = 0;
  for (const c of fuzzCases(seed, count)) {
    const i = index++;
    if (options.only !== undefined && i !== options.only) continue;
    const outcome = await checkCase(c, { reingest: i % 10 === 0 });
    run.cases++;
    options.onCase?.(i, c, outcome);
    if (outcome.failure) run.failures.push({ index: i, label: c.label, failure: outcome.failure });
    if (outcome.ms > run.slowest.ms) run.slowest = { index: i, label: c.label, ms: outcome.ms };
  }
  run.ms = performance.now() - started;
  return run;
}
