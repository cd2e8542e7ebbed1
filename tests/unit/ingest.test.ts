import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { DependencyUnavailable, IngestInProgress, MailboxDisconnected } from '../../shared/domain/errors.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository, SequentialIds } from '../support/memory.js';

const T = 'tenant-a';
const MB = 'mailbox-1';

function mail(headers: Record<string, string>, body = 'Hello, the printer is jammed again.'): Buffer {
  const lines = Object.entries({ 'MIME-Version': '1.0', 'Content-Type': 'text/plain; charset=utf-8', ...headers }).map(([k, v]) => `${k}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}\r\n`);
}

const original = mail({
  From: 'Alice <alice@customer.example>',
  To: 'support@helpdesk.example',
  Subject: 'Printer jammed',
  Date: 'Tue, 24 Nov 2026 09:00:00 +0000',
  'Message-ID': '<orig-1@customer.example>',
});

let repo: MemoryRepository;
let blobs: MemoryBlobStore;
let deps: IngestDeps;
let clock: ManualClock;
let scanner: EicarScanner;

beforeEach(async () => {
  repo = new MemoryRepository();
  blobs = new MemoryBlobStore();
  clock = new ManualClock();
  scanner = new EicarScanner();
  deps = { repo, blobs, keys: new MemoryKeyService(), scanner, clock, ids: new SequentialIds(), limits: DEFAULT_LIMITS };
  await repo.putMailbox({ tenantId: T, mailboxId: MB, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
});

const ingest = (raw: Buffer, extra: Partial<{ providerMessageId: string; providerThreadId: string }> = {}) =>
  ingestMessage(deps, Readable.from([raw]), { tenantId: T, mailboxId: MB, receivedAt: clock.now(), ...extra });

describe('ingestMessage', () => {
  it('creates a ticket with parsed fields, and stores raw and body encrypted', async () => {
    const result = await ingest(original);
    expect(result).toMatchObject({ status: 'created', subject: 'Printer jammed', from: { address: 'alice@customer.example', name: 'Alice' } });
    expect(result.ticketId).toBeTruthy();
    expect(repo.tickets.size).toBe(1);
    expect(blobs.objects.size).toBe(1); // the raw message; a small body travels sealed in the item
    expect([...repo.messages.values()][0]?.sealedBody).toBeInstanceOf(Uint8Array);
    for (const value of blobs.objects.values()) expect(value.toString('latin1')).not.toContain('printer is jammed');
  });

  it('threads a reply by In-Reply-To and appends it', async () => {
    const first = await ingest(original);
    clock.advance(60_000);
    const reply = await ingest(
      mail({ From: 'alice@customer.example', Subject: 'Re: Printer jammed', 'Message-ID': '<r1@customer.example>', 'In-Reply-To': '<orig-1@customer.example>' }),
    );
    expect(reply.status).toBe('appended');
    expect(reply.ticketId).toBe(first.ticketId);
    expect(reply.notices).toEqual([]);
  });

  it('threads by References alone and notes a sender new to the ticket', async () => {
    const first = await ingest(original);
    const reply = await ingest(
      mail({ From: 'carol@customer.example', Subject: 'Re: Printer jammed', 'Message-ID': '<c1@customer.example>', References: '<x@y> <orig-1@customer.example>' }),
    );
    expect(reply.ticketId).toBe(first.ticketId);
    expect(reply.notices.map((n) => n.code)).toContain('new_participant');
  });

  it('never merges on subject alone', async () => {
    const first = await ingest(original);
    const other = await ingest(mail({ From: 'bob@example.org', Subject: 'Printer jammed', 'Message-ID': '<bob-1@example.org>' }));
    expect(other.status).toBe('created');
    expect(other.ticketId).not.toBe(first.ticketId);
  });

  it('uses the provider thread only when the sender already takes part', async () => {
    const first = await ingest(original, { providerThreadId: 'thread-9' });
    const stranger = await ingest(mail({ From: 'mallory@example.net', Subject: 'hi', 'Message-ID': '<m1@example.net>' }), { providerThreadId: 'thread-9' });
    expect(stranger.status).toBe('created');
    const alice = await ingest(mail({ From: 'alice@customer.example', Subject: 'more', 'Message-ID': '<a2@customer.example>' }), { providerThreadId: 'thread-9' });
    expect(alice.ticketId).toBe(first.ticketId);
  });

  it('deduplicates the same raw bytes and takes back the second copy of the objects', async () => {
    const first = await ingest(original);
    const objectsBefore = blobs.objects.size;
    const second = await ingest(original);
    expect(second).toMatchObject({ status: 'duplicate', ticketId: first.ticketId, messageId: first.messageId, subject: 'Printer jammed' });
    expect(blobs.objects.size).toBe(objectsBefore);
    expect(repo.messages.size).toBe(1);
  });

  it('deduplicates an alias copy (other trace headers) but not a distinct message sharing the Message-ID', async () => {
    const first = await ingest(original);
    const alias = Buffer.concat([Buffer.from('Received: from relay.example by mx.example; Tue, 24 Nov 2026 09:00:02 +0000\r\nDelivered-To: help@helpdesk.example\r\n'), original]);
    expect((await ingest(alias)).status).toBe('duplicate');
    const impostor = mail(
      { From: 'bob@example.org', Subject: 'Other', Date: 'Tue, 24 Nov 2026 09:00:00 +0000', 'Message-ID': '<orig-1@customer.example>' },
      'A different body entirely.',
    );
    const result = await ingest(impostor);
    expect(result.status).not.toBe('duplicate');
    expect(result.ticketId).not.toBeNull();
    expect(first.ticketId).toBeTruthy();
  });

  it('short-circuits a known provider id without reading the stream', async () => {
    const first = await ingest(original, { providerMessageId: 'gm-1' });
    let read = false;
    const stream = new Readable({ read() { read = true; this.push(null); } });
    const again = await ingestMessage(deps, stream, { tenantId: T, mailboxId: MB, receivedAt: clock.now(), providerMessageId: 'gm-1' });
    expect(again).toMatchObject({ status: 'duplicate', ticketId: first.ticketId, subject: 'Printer jammed' });
    expect(read).toBe(false);
  });

  // Regression: a failure before receive() (the blind-index or provider-id lookup) left the stream
  // open, holding the provider's connection and, on Graph, one of the mailbox's four request slots.
  it.each([
    ['the blind index', () => { deps.keys.blindIndex = async () => { throw new DependencyUnavailable('KMS throttled'); }; }],
    ['the provider-id lookup', () => { repo.findByProviderId = async () => { throw new DependencyUnavailable('DynamoDB throttled'); }; }],
  ])('destroys the raw stream when %s fails before it is read', async (_what, breakIt) => {
    breakIt();
    const stream = new Readable({ read() {} });
    await expect(ingestMessage(deps, stream, { tenantId: T, mailboxId: MB, receivedAt: clock.now(), providerMessageId: 'gm-1' })).rejects.toBeInstanceOf(DependencyUnavailable);
    expect(stream.destroyed).toBe(true);
  });

  it.each([
    ['auto_submitted', { 'Auto-Submitted': 'auto-replied' }],
    ['precedence', { Precedence: 'bulk' }],
    ['autoreply_header', { 'X-Autoreply': 'yes' }],
    ['bounce', { 'Return-Path': '<>' }],
    ['loop', { 'X-Mail2ticket-Loop': 'helpdesk.example' }],
  ])('suppresses robots: %s', async (reason, headers) => {
    const result = await ingest(mail({ From: 'alice@customer.example', Subject: 'Away', 'Message-ID': `<${reason}@x>`, ...headers }));
    expect(result).toMatchObject({ status: 'suppressed', reason, ticketId: null });
    expect(repo.tickets.size).toBe(0);
    expect(repo.suppressed.size).toBe(1);
    // Regression: robots were linked to nobody, so data-subject requests never found them.
    const sender = await deps.keys.blindIndex(T, 'address', 'alice@customer.example');
    expect(await repo.listRequesterLinks(T, sender)).toEqual([{ tenantId: T, mailboxId: MB, ticketId: null, messageId: result.messageId }]);
  });

  it('keeps mail that only asks not to be auto-answered', async () => {
    const result = await ingest(mail({ From: 'forms@example.org', Subject: 'Form', 'Message-ID': '<f@x>', 'X-Auto-Response-Suppress': 'OOF, AutoReply', 'Auto-Submitted': 'no' }));
    expect(result.status).toBe('created');
  });

  it('keeps unreadable input with an unparsed notice', async () => {
    const result = await ingest(Buffer.from([0, 1, 2, 255, 254, 0, 13, 10, 13, 10]));
    expect(result.status).toBe('created');
    expect(result.notices.map((n) => n.code)).toContain('unparsed');
    expect([...blobs.objects.keys()].some((k) => k.includes('/raw/'))).toBe(true);
  });

  it('synthesizes a stable Message-ID when one is missing', async () => {
    const raw = mail({ From: 'alice@customer.example', Subject: 'no id' });
    const a = await ingest(raw);
    expect(a.notices.map((n) => n.code)).toContain('message_id_synthesized');
    expect((await ingest(raw)).status).toBe('duplicate');
  });

  it('scans attachments: infected bytes are not kept and the notice says so', async () => {
    const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
    const raw = Buffer.from(
      [
        'From: alice@customer.example',
        'Subject: files',
        'Message-ID: <att@x>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'see attached',
        '--b1',
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment; filename="virus.com"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from(eicar).toString('base64'),
        '--b1',
        'Content-Type: text/plain',
        'Content-Disposition: attachment; filename="notes.txt"',
        '',
        'harmless',
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const result = await ingest(raw);
    expect(result.attachments.map((a) => [a.filename, a.scan])).toEqual([
      ['virus.com', 'infected'],
      ['notes.txt', 'clean'],
    ]);
    expect(result.notices.map((n) => n.code)).toContain('attachment_infected');
    const infected = [...repo.attachments.values()].find((a) => a.scan === 'infected');
    expect(infected?.blobKey).toBeNull();
    expect(infected?.scanDetail).toBe('Eicar-Test-Signature');
  });

  it('holds attachments unscanned when the scanner is down', async () => {
    scanner.verdictOverride = { status: 'unscanned', reason: 'scanner_unavailable' };
    const raw = Buffer.from(
      'From: a@b.example\r\nSubject: s\r\nMessage-ID: <u@x>\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nbody\r\n--q\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF-1.4\r\n--q--\r\n',
    );
    const result = await ingest(raw);
    expect(result.attachments[0]?.scan).toBe('unscanned');
    expect(await repo.listHeldAttachments(T)).toHaveLength(1);
  });

  it('skips an attachment over the size limit with a notice', async () => {
    deps = { ...deps, limits: { ...DEFAULT_LIMITS, maxAttachmentBytes: 1000 } };
    const big = Buffer.alloc(5000, 'a').toString('base64');
    const raw = Buffer.from(
      `From: a@b.example\r\nSubject: s\r\nMessage-ID: <big@x>\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nbody\r\n--q\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${big}\r\n--q--\r\n`,
    );
    const result = await ingest(raw);
    expect(result.attachments[0]).toMatchObject({ filename: 'big.bin', scan: 'unscanned', size: 5000 });
    expect(result.notices.map((n) => n.code)).toContain('attachment_too_large');
    expect([...blobs.objects.keys()].some((k) => k.includes('/att/'))).toBe(false);
  });

  it('truncates a message over the size limit and says so', async () => {
    deps = { ...deps, limits: { ...DEFAULT_LIMITS, maxMessageBytes: 200 } };
    const result = await ingest(mail({ From: 'a@b.example', Subject: 'long', 'Message-ID': '<long@x>' }, 'x'.repeat(5000)));
    expect(result.notices.map((n) => n.code)).toContain('message_truncated');
  });

  it('refuses a disconnected mailbox and stores nothing', async () => {
    await repo.putMailbox({ tenantId: T, mailboxId: MB, provider: 'local', status: 'disconnected', createdAt: '2026-01-01T00:00:00Z' });
    await expect(ingest(original)).rejects.toBeInstanceOf(MailboxDisconnected);
    expect(blobs.objects.size).toBe(0);
  });

  it('a retry after a crash mid-write completes the same ticket once the lease ran out', async () => {
    repo.failNextWriteBeforeMessage = true;
    await expect(ingest(original)).rejects.toThrow('injected crash');
    expect(repo.messages.size).toBe(0);
    await expect(ingest(original)).rejects.toBeInstanceOf(IngestInProgress);
    clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
    const retried = await ingest(original);
    expect(retried.status).toBe('created');
    expect(repo.tickets.size).toBe(1);
    expect(repo.messages.size).toBe(1);
    expect((await ingest(original)).status).toBe('duplicate');
  });

  it('concurrent deliveries of one message yield one ticket', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => ingest(original)));
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : (r.reason as Error).name));
    expect(statuses.filter((s) => s === 'created')).toHaveLength(1);
    for (const s of statuses) expect(['created', 'duplicate', 'IngestInProgress']).toContain(s);
    expect(repo.tickets.size).toBe(1);
    expect(repo.messages.size).toBe(1);
  });
});
