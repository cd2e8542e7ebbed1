// Defects the MIME fuzzer (fuzz.test.ts) found, each pinned by a test named after what broke.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS, type IngestLimits } from '../../shared/domain/limits.js';
import { MimeGuard } from '../../shared/domain/mime-guard.js';
import type { MessageFields } from '../../shared/domain/model.js';
import { createMailParser } from '../../shared/domain/parse.js';
import { fieldsContext, unseal } from '../../shared/domain/sealed-fields.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository, SequentialIds } from '../support/memory.js';

const T = 'tenant-r';
const MB = 'mailbox-r';

async function freshDeps(limits: IngestLimits = DEFAULT_LIMITS): Promise<IngestDeps & { repo: MemoryRepository; blobs: MemoryBlobStore; keys: MemoryKeyService }> {
  const repo = new MemoryRepository();
  const clock = new ManualClock();
  await repo.putMailbox({ tenantId: T, mailboxId: MB, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
  return { repo, blobs: new MemoryBlobStore(), keys: new MemoryKeyService(), scanner: new EicarScanner(), clock, ids: new SequentialIds(), limits };
}

const ingestBytes = (deps: IngestDeps, raw: Buffer, chunkSize = raw.length) => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < raw.length; i += chunkSize) chunks.push(raw.subarray(i, i + chunkSize));
  return ingestMessage(deps, Readable.from(chunks), { tenantId: T, mailboxId: MB, receivedAt: deps.clock.now() });
};

/** Objects in the store that no record refers to. */
function orphans(deps: Awaited<ReturnType<typeof freshDeps>>): string[] {
  const referenced = new Set<string>();
  for (const m of deps.repo.messages.values()) [m.rawKey, m.bodyKey].forEach((k) => k && referenced.add(k));
  for (const s of deps.repo.suppressed.values()) referenced.add(s.rawKey);
  for (const a of deps.repo.attachments.values()) if (a.blobKey) referenced.add(a.blobKey);
  return [...deps.blobs.objects.keys()].filter((k) => !referenced.has(k));
}

function withAttachment(headers: string[], attachment: string, trailer: string): Buffer {
  return Buffer.from(
    [
      ...headers,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="x"',
      '',
      '--x',
      'Content-Type: text/plain',
      '',
      'See the attached file.',
      '--x',
      'Content-Type: application/octet-stream',
      'Content-Disposition: attachment; filename="log.bin"',
      '',
      attachment,
      trailer,
    ].join('\r\n'),
  );
}

// Found by seed 3, case 280: a flipped byte turned the hour "09" into "O9". mailparser answers a
// Date it cannot read with the wall-clock time, and the date is part of the message's fingerprint.
const unreadableDate = Buffer.from(
  [
    'From: Taro <taro@example.net>',
    'To: support@helpdesk.example',
    'Subject: printer',
    'Message-ID: <bad-date-1@example.net>',
    'Date: Thu, 6 Mar 2025 O9:39:58 +0900',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'The printer is jammed.',
    '',
  ].join('\r\n'),
);

// Found by the hostile case "a 1 MB header of folded continuation lines": the MimeGuard cut each
// physical line at 16 KB, but a header folded over 27,000 short lines passed whole, went past
// mailparser's header limit, and the message lost every header (From, Subject) to `unparsed`.
const foldedHeader = Buffer.from(
  `From: Alice <alice@customer.example>\r\nSubject: folded\r\nX-Folded: a\r\n${' a folded continuation line of a header\r\n'.repeat(27_000)}` +
    'Message-ID: <folded-1@customer.example>\r\nContent-Type: text/plain\r\n\r\nThe body.\r\n',
);

describe('fuzz regressions', () => {
  it('a 1 MB folded header keeps From and Subject and yields notice header_too_large', async () => {
    const deps = await freshDeps();
    const result = await ingestMessage(deps, Readable.from([foldedHeader]), { tenantId: T, mailboxId: MB, receivedAt: deps.clock.now() });
    expect(result).toMatchObject({ status: 'created', subject: 'folded', from: { address: 'alice@customer.example' }, internetMessageId: 'folded-1@customer.example' });
    expect(result.notices.map((n) => n.code)).toEqual(['header_too_large']);
    const [message] = [...deps.repo.messages.values()];
    const raw = await deps.keys.decrypt(deps.blobs.objects.get(message?.rawKey as string) as Buffer, { tenantId: T, mailboxId: MB, purpose: 'raw' });
    expect(Buffer.from(raw).equals(foldedHeader)).toBe(true);
  });

  it('the folds the MimeGuard drops are the same however the bytes are chunked', async () => {
    const guarded = async (size: number) => {
      const guard = new MimeGuard({ maxNestingDepth: 30, maxParts: 500, maxHeaderLineBytes: 16 * 1024 });
      const parts: Buffer[] = [];
      for (let i = 0; i < foldedHeader.length; i += size) parts.push(foldedHeader.subarray(i, i + size));
      const output = await buffer(Readable.from(parts).pipe(guard));
      return { output, notices: guard.notices };
    };
    const whole = await guarded(foldedHeader.length);
    expect(whole.output.length).toBeLessThan(40 * 1024);
    expect(whole.output.toString('latin1')).toMatch(/\r\nMessage-ID: <folded-1@customer.example>\r\nContent-Type: text\/plain\r\n\r\nThe body\.\r\n$/);
    expect(whole.notices.map((n) => n.code)).toEqual(['header_too_large']);
    for (const size of [7, 40, 41, 4096]) {
      const chunked = await guarded(size);
      expect(chunked.output.equals(whole.output), `chunk size ${size}`).toBe(true);
      expect(chunked.notices).toEqual(whole.notices);
    }
  });

  it('an unreadable Date header is no date, not the time of parsing', async () => {
    const parser = createMailParser(DEFAULT_LIMITS, { onAttachment: async () => undefined });
    Readable.from([unreadableDate]).pipe(parser.sink);
    const mail = await parser.result;
    expect(mail.readable).toBe(true);
    expect(mail.date).toBeNull();
  });

  it('an unreadable Date header does not make the same bytes a new ticket on every delivery', async () => {
    const deps = await freshDeps();
    const ingest = () => ingestMessage(deps, Readable.from([unreadableDate]), { tenantId: T, mailboxId: MB, receivedAt: deps.clock.now() });
    const first = await ingest();
    await sleep(5); // the wall clock moves on between the two deliveries
    const second = await ingest();
    expect(first.status).toBe('created');
    expect(second).toMatchObject({ status: 'duplicate', ticketId: first.ticketId, messageId: first.messageId });
    expect(deps.repo.tickets.size).toBe(1);
    const [message] = [...deps.repo.messages.values()];
    const fields = await unseal<MessageFields>(deps.keys, fieldsContext(T, MB), message?.sealed as Uint8Array);
    expect(fields.date).toBeNull();
  });

  it('a readable Date header is still read', async () => {
    const parser = createMailParser(DEFAULT_LIMITS, { onAttachment: async () => undefined });
    Readable.from([Buffer.from(unreadableDate.toString('latin1').replace('O9:39', '09:39'), 'latin1')]).pipe(parser.sink);
    expect((await parser.result).date).toBe('2025-03-06T00:39:58.000Z');
  });

  // Found by seed 20261202, case 400 (tight limits): a message whose body is itself an attachment
  // (no multipart). mailparser ends once its input has, while that attachment is still being
  // stored, so receive() returned first and the attachment reached the result after the notices
  // were made: over maxAttachmentBytes, kept out of the store, and no attachment_too_large.
  it('an attachment that is the whole message is stored before the parse ends, so an oversized one yields notice attachment_too_large', async () => {
    const deps = await freshDeps({ ...DEFAULT_LIMITS, maxAttachmentBytes: 64 });
    const raw = Buffer.from(
      [
        'From: scanner@customer.example',
        'Message-ID: <scan-1@customer.example>',
        'Content-Type: application/zip; name="scan.zip"',
        'Content-Disposition: attachment; filename="scan.zip"',
        '',
        'z'.repeat(4096),
        '',
      ].join('\r\n'),
    );
    const result = await ingestBytes(deps, raw);
    expect(result.attachments).toMatchObject([{ filename: 'scan.zip', size: 4098, scan: 'unscanned' }]);
    expect(result.notices.map((n) => n.code)).toEqual(['attachment_too_large']);
    const [message] = [...deps.repo.messages.values()];
    expect(message?.noticeCodes).toEqual(['attachment_too_large']);
  });

  // Found by the hostile case "1 MB of header lines in a body part after an attachment" once the
  // parse waited for its attachments (above): after a parser error (a part header over
  // maxHeaderBytes) the open attachment's stream never ends, so the wait hung; cutting it off then
  // crashed the process with an unhandled 'error' event on the scanner's copy. Before, the same
  // attachment was left streaming for ever, unseen.
  it('a parser error while an attachment is open neither hangs nor crashes, and keeps nothing of the attachment', async () => {
    const deps = await freshDeps({ ...DEFAULT_LIMITS, maxHeaderBytes: 1024 });
    const raw = withAttachment(
      ['From: a@customer.example', 'Subject: cut off', 'Message-ID: <cut-1@customer.example>'],
      'y\r\n'.repeat(100_000), // long enough that the consumer still reads it when the error comes
      `--x\r\n${'X-Filler: 0123456789abcdef\r\n'.repeat(200)}\r\nnever read\r\n--x--\r\n`,
    );
    const result = await ingestBytes(deps, raw, 64 * 1024);
    expect(result).toMatchObject({ status: 'created', subject: 'cut off' });
    expect(result.notices.map((n) => n.code)).toContain('header_too_large');
    expect(orphans(deps)).toEqual([]);
    const [message] = [...deps.repo.messages.values()];
    const stored = await deps.keys.decrypt(deps.blobs.objects.get(message?.rawKey as string) as Buffer, { tenantId: T, mailboxId: MB, purpose: 'raw' });
    expect(Buffer.from(stored).equals(raw)).toBe(true);
  });

  // Found by seed 20261202, case 242: an autoreply with an attachment is suppressed, but the
  // attachment stored while the message streamed stayed in the bucket with nothing pointing at it.
  it('a suppressed autoreply leaves no attachment blob behind', async () => {
    const deps = await freshDeps();
    const result = await ingestBytes(
      deps,
      withAttachment(['From: kari@example.net', 'Subject: Out of office', 'Message-ID: <ooo-1@example.net>', 'Auto-Submitted: auto-replied'], 'away', '--x--\r\n'),
    );
    expect(result.status).toBe('suppressed');
    expect(orphans(deps)).toEqual([]);
    expect(deps.blobs.objects.size).toBe(1); // the raw message
  });
});
