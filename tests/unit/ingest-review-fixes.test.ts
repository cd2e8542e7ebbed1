// Regression tests for the defects a review of the ingest domain reproduced: HTML-only multiparts
// without text, Message-IDs carrying comments, Auto-Submitted comments, sender-less mail merging,
// long References chains losing their root, and a takeover writing the wrong ticket.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { extractMessageIds, messageIdFromHeader } from '../../shared/domain/message-ids.js';
import type { StoredBody } from '../../shared/domain/model.js';
import { MAX_HTML_TO_TEXT_CHARS } from '../../shared/domain/parse.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository, SequentialIds } from '../support/memory.js';

const T = 'tenant-a';
const MB = 'mailbox-1';
const FIXTURES = join(import.meta.dirname, '../fixtures/html-only');

let repo: MemoryRepository;
let blobs: MemoryBlobStore;
let keys: MemoryKeyService;
let clock: ManualClock;
let deps: IngestDeps;

beforeEach(async () => {
  repo = new MemoryRepository();
  blobs = new MemoryBlobStore();
  keys = new MemoryKeyService();
  clock = new ManualClock();
  deps = { repo, blobs, keys, scanner: new EicarScanner(), clock, ids: new SequentialIds(), limits: DEFAULT_LIMITS };
  await repo.putMailbox({ tenantId: T, mailboxId: MB, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
});

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));
const ingest = (raw: Buffer, extra: Partial<{ providerThreadId: string }> = {}) =>
  ingestMessage(deps, Readable.from([raw]), { tenantId: T, mailboxId: MB, receivedAt: clock.now(), ...extra });

function message(headers: string[], body = 'Hello, the printer is jammed again.'): Buffer {
  return crlf(`${[...headers, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8'].join('\n')}\n\n${body}\n`);
}

async function storedBody(messageId: string): Promise<StoredBody> {
  const record = [...repo.messages.values()].find((m) => m.messageId === messageId);
  if (!record) throw new Error(`message ${messageId} not stored`);
  const ciphertext = record.sealedBody ?? blobs.objects.get(record.bodyKey ?? '');
  if (!ciphertext) throw new Error(`body of ${messageId} not stored`);
  return JSON.parse(Buffer.from(await keys.decrypt(ciphertext, { tenantId: T, mailboxId: MB, purpose: 'body' })).toString('utf8')) as StoredBody;
}

describe('HTML-only mail inside a multipart gets a text body', () => {
  it.each([
    ['mixed-html-pdf.eml', 'PHRASE-MIXED-4d2e', ['invoice-2026-118.pdf']],
    ['related-html-image.eml', 'PHRASE-RELATED-91ab', ['screenshot.png']],
    ['alternative-html-only.eml', 'PHRASE-ALT-6c07', []],
  ])('%s', async (file, phrase, attachments) => {
    const result = await ingest(readFileSync(join(FIXTURES, file)));
    expect(result.status).toBe('created');
    expect(result.attachments.map((a) => a.filename)).toEqual(attachments);
    const body = await storedBody(result.messageId);
    expect(body.html).toContain(phrase);
    expect(body.text).toContain(phrase);
    expect(body.text).not.toMatch(/<[a-z]/i);
  });

  it('leaves the text empty for HTML over the conversion bound, and keeps the HTML', async () => {
    const html = `<p>${'x'.repeat(MAX_HTML_TO_TEXT_CHARS)}</p>`;
    const raw = crlf(
      `From: a@customer.example\nTo: support@helpdesk.example\nSubject: big\nMessage-ID: <big-html@customer.example>\nMIME-Version: 1.0\n` +
        `Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html; charset=utf-8\n\n${html}\n--b--\n`,
    );
    const result = await ingest(raw);
    const body = await storedBody(result.messageId);
    expect(body.text).toBe('');
    expect(body.html?.length).toBeGreaterThan(MAX_HTML_TO_TEXT_CHARS);
    // Regression: the empty text was silent; a limit that skips something is a notice.
    expect(result.notices).toEqual([{ code: 'text_not_derived', detail: expect.stringMatching(/^no plain-text version: HTML too long .*; the HTML version is kept$/) }]);
  });

  it('says so for a root HTML part over the bound too, which is no longer converted however long', async () => {
    const html = `<p>${'y'.repeat(MAX_HTML_TO_TEXT_CHARS)}</p>`;
    const raw = crlf(`From: a@customer.example\nTo: support@helpdesk.example\nSubject: big\nMessage-ID: <big-root@customer.example>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n${html}\n`);
    const result = await ingest(raw);
    expect((await storedBody(result.messageId)).text).toBe('');
    expect(result.notices.map((n) => n.code)).toEqual(['text_not_derived']);
  });

  it('says so for HTML nested too deep to convert, root or inside a multipart', async () => {
    const deep = `${'<div>'.repeat(5000)}deep${'</div>'.repeat(5000)}`;
    const root = crlf(`From: a@customer.example\nSubject: deep\nMessage-ID: <deep-root@customer.example>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n${deep}\n`);
    const nested = crlf(
      `From: a@customer.example\nSubject: deep\nMessage-ID: <deep-nested@customer.example>\nMIME-Version: 1.0\n` +
        `Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html; charset=utf-8\n\n${deep}\n--b--\n`,
    );
    for (const raw of [root, nested]) {
      const result = await ingest(raw);
      expect((await storedBody(result.messageId)).text).toBe('');
      expect(result.notices).toEqual([{ code: 'text_not_derived', detail: expect.stringContaining('nested deeper') }]);
    }
  });

  it('gives no notice for HTML that converts to no text (an image alone)', async () => {
    const raw = crlf(
      `From: a@customer.example\nSubject: pic\nMessage-ID: <pic-only@customer.example>\nMIME-Version: 1.0\n` +
        `Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html; charset=utf-8\n\n<p><img src="cid:logo"></p>\n--b--\n`,
    );
    const result = await ingest(raw);
    expect(result.notices).toEqual([]);
  });
});

describe('a Message-ID with a comment or further tokens', () => {
  it('stores the bracketed id, so a reply naming it threads', async () => {
    const first = await ingest(message(['From: a@customer.example', 'Subject: A', 'Message-ID: <abc@x.com> (sent by foo)', 'Date: Tue, 24 Nov 2026 09:00:00 +0000']));
    expect(first.internetMessageId).toBe('abc@x.com');
    clock.advance(60_000);
    const reply = await ingest(message(['From: a@customer.example', 'Subject: Re: A', 'Message-ID: <abc2@x.com>', 'In-Reply-To: <abc@x.com>']));
    expect(reply).toMatchObject({ status: 'appended', ticketId: first.ticketId });
  });

  it('takes the first of two ids', async () => {
    const result = await ingest(message(['From: b@customer.example', 'Subject: B', 'Message-ID: <b1@x.com> <b2@x.com>']));
    expect(result.internetMessageId).toBe('b1@x.com');
  });

  it('never yields CR or LF from an encoded-word Message-ID', async () => {
    const evil = Buffer.from('x>\r\nBcc: victim@evil.example\r\nX-A: <y').toString('base64');
    const result = await ingest(message(['From: a@customer.example', 'Subject: E', `Message-ID: <=?UTF-8?B?${evil}?=@x.com>`]));
    expect(result.internetMessageId).not.toMatch(/[\r\n\s]/);
    expect(result.internetMessageId).not.toBe('');
  });

  it.each([
    ['<abc@x.com> (sent by foo)', 'abc@x.com'],
    ['(comment) <abc@x.com>', 'abc@x.com'],
    ['abc@x.com (sent by foo)', 'abc@x.com'],
    ['<abc@x.com', 'abc@x.com'],
    ['12345', '12345'],
    ['<>', null],
    ['', null],
    ['a\u0000b@x.com', null],
  ])('messageIdFromHeader(%j) is %j', (value, want) => {
    expect(messageIdFromHeader(value)).toBe(want);
  });

  it('extracts no id holding a control character', () => {
    expect(extractMessageIds('<a\u0000b@x.com> <ok@x.com>')).toEqual(['ok@x.com']);
  });
});

describe('Auto-Submitted with a comment', () => {
  it.each(['no (human)', '(sent by a person) no', 'No', ' no ; x=y'])('keeps "Auto-Submitted: %s"', async (value) => {
    const result = await ingest(message(['From: d@customer.example', `Subject: ${value}`, `Message-ID: <as-${value.length}@customer.example>`, `Auto-Submitted: ${value}`]));
    expect(result.status).toBe('created');
  });

  it.each(['auto-replied (vacation)', 'Auto-Generated', '(robot) auto-replied; owner-email="x@y"'])('suppresses "Auto-Submitted: %s"', async (value) => {
    const result = await ingest(message(['From: d@customer.example', `Subject: ${value}`, `Message-ID: <as-${value.length}@customer.example>`, `Auto-Submitted: ${value}`]));
    expect(result).toMatchObject({ status: 'suppressed', reason: 'auto_submitted' });
  });
});

describe('an automatic reply with an attachment', () => {
  it('is recognised from its raw headers before its parts stream: nothing scanned or stored but the raw', async () => {
    let scans = 0;
    const scanner = new EicarScanner();
    deps = { ...deps, scanner: { scan: (content) => (scans++, scanner.scan(content)) } };
    const raw = crlf(
      [
        'From: colleague@customer.example',
        'To: support@helpdesk.example',
        'Subject: Out of office',
        'Message-ID: <ooo-1@customer.example>',
        'Auto-Submitted: auto-replied',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'I am away until Monday.',
        '--b',
        'Content-Type: image/png',
        'Content-Disposition: attachment; filename=signature.png',
        'Content-Transfer-Encoding: base64',
        '',
        'iVBORw0KGgo=',
        '--b--',
        '',
      ].join('\n'),
    );
    const result = await ingest(raw);
    expect(result).toMatchObject({ status: 'suppressed', reason: 'auto_submitted' });
    expect(scans).toBe(0);
    expect([...blobs.objects.keys()].filter((key) => key.includes('/att/'))).toEqual([]);
  });
});

describe('a message without a sender address takes part in nothing', () => {
  it.each([
    ['no From at all', []],
    ['an empty group', ['From: undisclosed-recipients:;']],
  ])('two unrelated messages in one provider thread stay apart (%s)', async (_label, from) => {
    const first = await ingest(message(['To: support@helpdesk.example', 'Subject: Alert', 'Message-ID: <n1@x.com>'], 'Disk full on host A'), { providerThreadId: 'T1' });
    const second = await ingest(message([...from, 'To: support@helpdesk.example', 'Subject: Alert', 'Message-ID: <n2@y.com>'], 'Payroll question'), { providerThreadId: 'T1' });
    expect(first.status).toBe('created');
    expect(second.status).toBe('created');
    expect(second.ticketId).not.toBe(first.ticketId);
  });

  it('records no participant for it', async () => {
    const result = await ingest(message(['To: support@helpdesk.example', 'Subject: Alert', 'Message-ID: <n3@x.com>'], 'Disk full on host B'));
    expect(repo.tickets.get(`${T}/${result.ticketId}`)?.participantIndexes).toEqual([]);
    const reply = await ingest(message(['To: support@helpdesk.example', 'Subject: Re: Alert', 'Message-ID: <n4@x.com>', 'In-Reply-To: <n3@x.com>'], 'and host C'));
    expect(reply).toMatchObject({ status: 'appended', ticketId: result.ticketId });
    expect(repo.tickets.get(`${T}/${result.ticketId}`)?.participantIndexes).toEqual([]);
  });

  it('still joins a provider thread when the sender takes part', async () => {
    const first = await ingest(message(['From: a@customer.example', 'Subject: Alert', 'Message-ID: <p1@x.com>']), { providerThreadId: 'T2' });
    const second = await ingest(message(['From: a@customer.example', 'Subject: Alert again', 'Message-ID: <p2@x.com>'], 'more'), { providerThreadId: 'T2' });
    expect(second).toMatchObject({ status: 'appended', ticketId: first.ticketId });
  });
});

describe('a long References chain', () => {
  it('still follows the root when more than 20 unknown ids follow it', async () => {
    const root = await ingest(message(['From: a@customer.example', 'Subject: Root', 'Message-ID: <root@x.com>']));
    const refs = ['<root@x.com>', ...Array.from({ length: 25 }, (_, i) => `<int${i}@x.com>`)].join('\n ');
    const reply = await ingest(
      message(['From: b@customer.example', 'Subject: Re: Root', 'Message-ID: <lr@x.com>', 'In-Reply-To: <int24@x.com>', `References: ${refs}`], 'reply'),
    );
    expect(reply).toMatchObject({ status: 'appended', ticketId: root.ticketId });
  });

  it('looks up at most 20 ids', async () => {
    let lookups = 0;
    const find = repo.findTicketsByMessageIdIndex.bind(repo);
    repo.findTicketsByMessageIdIndex = async (...args) => {
      lookups++;
      return find(...args);
    };
    const refs = Array.from({ length: 60 }, (_, i) => `<unknown${i}@x.com>`).join('\n ');
    const result = await ingest(message(['From: b@customer.example', 'Subject: Re: ?', 'Message-ID: <lr2@x.com>', `References: ${refs}`]));
    expect(result.status).toBe('created');
    expect(lookups).toBe(20);
  });
});

describe('a takeover retry', () => {
  it('updates the ticket its claim names, not the one this pass threaded to', async () => {
    const mk = (from: string, id: string, extra: string[] = []) =>
      message([`From: ${from}`, 'To: support@helpdesk.example', `Subject: s ${id}`, `Message-ID: <${id}>`, ...extra, 'Date: Tue, 24 Nov 2026 09:00:00 +0000'], `b ${id} ${from}`);
    // Two tickets whose first messages share a Message-ID.
    const x = await ingest(mk('alice@a.example', 'shared@dev'));
    clock.advance(1000);
    const y = await ingest(mk('bob@b.example', 'shared@dev'));
    expect(y.ticketId).not.toBe(x.ticketId);
    clock.advance(1000);
    await ingest(mk('alice@a.example', 'a2@a.example', ['In-Reply-To: <shared@dev>'])); // X is the newest
    // Carol's reply claims ticket X, then fails on the body encryption (a throttled KMS, say).
    const encrypt = keys.encrypt.bind(keys);
    let failOnce = true;
    keys.encrypt = async (plaintext, context) => {
      if (failOnce && context.purpose === 'body') {
        failOnce = false;
        throw new Error('KMS throttled');
      }
      return encrypt(plaintext, context);
    };
    const carol = mk('carol@c.example', 'c1@c.example', ['In-Reply-To: <shared@dev>']);
    await expect(ingest(carol)).rejects.toThrow('KMS throttled');
    clock.advance(60_000);
    await ingest(mk('bob@b.example', 'b2@b.example', ['In-Reply-To: <shared@dev>'])); // now Y is the newest
    const yBefore = [...repo.tickets.values()].find((t) => t.ticketId === y.ticketId);
    const yBeforeState = { participantIndexes: [...(yBefore?.participantIndexes ?? [])], lastActivityAt: yBefore?.lastActivityAt };
    clock.advance(DEFAULT_LIMITS.claimLeaseSeconds * 1000 + 1000); // the lease ran out

    const retry = await ingest(carol);
    expect(retry).toMatchObject({ status: 'appended', ticketId: x.ticketId });
    const carolIndex = await keys.blindIndex(T, 'address', 'carol@c.example');
    const ticketX = [...repo.tickets.values()].find((t) => t.ticketId === x.ticketId);
    const ticketY = [...repo.tickets.values()].find((t) => t.ticketId === y.ticketId);
    expect(ticketX?.participantIndexes).toContain(carolIndex);
    expect(ticketX?.lastActivityAt).toBe(clock.now().toISOString());
    expect({ participantIndexes: ticketY?.participantIndexes, lastActivityAt: ticketY?.lastActivityAt }).toEqual(yBeforeState);
    expect(ticketY?.participantIndexes).not.toContain(carolIndex);
  });
});

describe('a bounce from a sender without a domain', () => {
  it.each([['MAILER-DAEMON'], ['Mail Delivery System <MAILER-DAEMON>'], ['"postmaster" (the mail system)']])('From: %s is a bounce, no ticket', async (from) => {
    const result = await ingest(message([`From: ${from}`, 'To: support@helpdesk.example', 'Subject: Undelivered Mail Returned to Sender', `Message-ID: <bare-${from.length}@mx.example>`]));
    expect(result).toMatchObject({ status: 'suppressed', reason: 'bounce' });
    expect(repo.tickets.size).toBe(0);
  });

  it('leaves a person whose display name is a bounce word alone', async () => {
    const result = await ingest(message(['From: postmaster <pat@customer.example>', 'To: support@helpdesk.example', 'Subject: help', 'Message-ID: <pat@customer.example>']));
    expect(result.status).toBe('created');
  });
});

describe('headers written in a legacy 8-bit charset without encoded words', () => {
  it('reads subject, names and filenames as Windows-1252, not as U+FFFD; the raw keeps the bytes', async () => {
    const raw = Buffer.from(
      [
        'From: Ren\u00e9e M\u00fcller <renee@customer.example>',
        'To: support@helpdesk.example',
        'Subject: Caf\u00e9 cr\u00e8me',
        'Message-ID: <latin1-headers@customer.example>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain; charset=iso-8859-1',
        '',
        'Bonjour',
        '--b',
        'Content-Type: application/pdf',
        'Content-Disposition: attachment; filename="r\u00e9sum\u00e9.pdf"',
        '',
        '%PDF-1.4',
        '--b--',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const result = await ingest(raw);
    expect(result.subject).toBe('Café crème');
    expect(result.from).toEqual({ address: 'renee@customer.example', name: 'Renée Müller' });
    expect(result.attachments.map((a) => a.filename)).toEqual(['résumé.pdf']);
    expect(JSON.stringify(result)).not.toContain('\ufffd');
  });
});
