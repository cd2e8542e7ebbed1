// The Gmail connector's pure parts: which history records are inbox arrivals, how long to back off,
// how a push envelope decodes, how the raw field streams out of Gmail's JSON, reply headers.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { GmailRawFieldDecoder } from '../../shared/adapters/gmail/raw-field-decoder.js';
import { retryAfterSeconds, translateGoogleError } from '../../shared/adapters/gmail/google-errors.js';
import { replyReferences, replySubject } from '../../shared/domain/compose-reply.js';
import { backoffDelayMs, DEFAULT_BACKOFF, withBackoff } from '../../shared/domain/connectors/backoff.js';
import { parseSyncJob } from '../../shared/domain/connectors/sync-job.js';
import { decodePush } from '../../shared/domain/gmail/push.js';
import { inboxArrivals } from '../../shared/domain/gmail/sync.js';
import { CursorExpired, ProviderMisconfigured, ProviderNotFound, ProviderThrottled, ReauthorizationRequired } from '../../shared/domain/provider-errors.js';

const EXCLUDED = ['SENT', 'DRAFT', 'SPAM', 'TRASH'];
const ref = (id: string, labelIds: string[]) => ({ id, threadId: `t-${id}`, labelIds });

describe('inboxArrivals', () => {
  it('takes messages added to the inbox and messages that gain INBOX, once each, in history order', () => {
    const arrivals = inboxArrivals(
      [
        { id: '10', messagesAdded: [ref('a', ['INBOX', 'UNREAD']), ref('sent', ['SENT']), ref('draft', ['DRAFT'])], labelsAdded: [] },
        { id: '11', messagesAdded: [ref('spam', ['SPAM'])], labelsAdded: [{ message: ref('a', ['INBOX', 'STARRED']), labelIds: ['STARRED'] }] },
        { id: '12', messagesAdded: [], labelsAdded: [{ message: ref('rescued', ['INBOX']), labelIds: ['INBOX'] }, { message: ref('a', ['INBOX']), labelIds: ['INBOX'] }] },
        { id: '13', messagesAdded: [ref('trashed', ['INBOX', 'TRASH'])], labelsAdded: [] },
      ],
      EXCLUDED,
    );
    expect(arrivals.map((m) => m.id)).toEqual(['a', 'rescued']);
  });

  it('honours a configured exclusion list', () => {
    const records = [{ id: '1', messagesAdded: [ref('promo', ['INBOX', 'CATEGORY_PROMOTIONS'])], labelsAdded: [] }];
    expect(inboxArrivals(records, EXCLUDED)).toHaveLength(1);
    expect(inboxArrivals(records, [...EXCLUDED, 'CATEGORY_PROMOTIONS'])).toHaveLength(0);
  });
});

describe('backoff', () => {
  it('never waits less than Retry-After, grows exponentially otherwise, and is capped', () => {
    expect(backoffDelayMs(DEFAULT_BACKOFF, 0, 7, () => 0)).toBe(7000);
    expect(backoffDelayMs(DEFAULT_BACKOFF, 0, undefined, () => 1)).toBe(500);
    expect(backoffDelayMs(DEFAULT_BACKOFF, 3, undefined, () => 1)).toBe(4000);
    expect(backoffDelayMs(DEFAULT_BACKOFF, 30, undefined, () => 1)).toBe(DEFAULT_BACKOFF.capMs);
    expect(backoffDelayMs(DEFAULT_BACKOFF, 3, undefined, () => 0)).toBe(2000);
  });

  it('retries short throttles in place and hands long ones back with the wait still owed', async () => {
    const waits: number[] = [];
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls < 3) throw new ProviderThrottled('busy', 1);
      return 'ok';
    };
    const policy = { attempts: 4, baseMs: 10, capMs: 100, maxInlineWaitMs: 2_000 };
    expect(await withBackoff(flaky, policy, async (ms) => void waits.push(ms))).toBe('ok');
    expect(waits).toEqual([1000, 1000]);

    const long = withBackoff(async () => Promise.reject(new ProviderThrottled('slow down', 120)), policy, async () => undefined);
    await expect(long).rejects.toMatchObject({ retryAfterSeconds: 120 });
    await expect(withBackoff(async () => Promise.reject(new Error('bug')), policy)).rejects.toThrow('bug');
  });
});

describe('decodePush', () => {
  const envelope = (data: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: '2070443601311540', publishTime: '2026-12-02T10:00:00.000Z', ...extra }, subscription: 'projects/p/subscriptions/s' });

  it('reads the address, the Pub/Sub message id and the publish time', () => {
    expect(decodePush(envelope({ emailAddress: 'support@acme.example', historyId: 9876543210 }))).toEqual({
      emailAddress: 'support@acme.example',
      messageId: '2070443601311540',
      publishTime: '2026-12-02T10:00:00.000Z',
    });
  });

  it('rejects what is not a Gmail notification', () => {
    expect(decodePush('nope')).toBeUndefined();
    expect(decodePush(envelope({ historyId: 1 }))).toBeUndefined();
    expect(decodePush(envelope({ emailAddress: 'x@y.z' }, { messageId: 'bad id with spaces' }))).toBeUndefined();
    expect(decodePush(JSON.stringify({ message: { data: '%%%', messageId: '1' } }))).toBeUndefined();
  });
});

describe('parseSyncJob', () => {
  it('accepts jobs naming a mailbox and rejects anything else', () => {
    expect(parseSyncJob('{"tenantId":"acme","mailboxId":"support","reason":"push","notifiedAt":"2026-12-02T10:00:00Z"}')).toMatchObject({ reason: 'push' });
    expect(() => parseSyncJob('{"tenantId":"acme","mailboxId":"../x","reason":"push"}')).toThrow(/mailboxId/);
    expect(() => parseSyncJob('{"tenantId":"acme","mailboxId":"support","reason":"other"}')).toThrow(/reason/);
    expect(() => parseSyncJob('[')).toThrow(/JSON/);
  });
});

describe('GmailRawFieldDecoder', () => {
  const message = Buffer.concat([Buffer.from('From: a@b.c\r\nSubject: caf\xc3\xa9\r\n\r\n', 'latin1'), Buffer.alloc(5000, 0xfe), Buffer.from([0, 1, 2])]);
  const json = Buffer.from(
    JSON.stringify({ id: '18c1', threadId: '18c1', labelIds: ['INBOX'], snippet: 'say \\"raw\\":\\"x\\" here "raw":"', payload: { raw: 'nested' }, raw: message.toString('base64url') + '=', historyId: '5' }),
  );

  it('decodes the top-level raw field byte for byte, however the JSON is chunked', async () => {
    for (const size of [1, 2, 3, 5, 7, 64, 4096, json.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < json.length; i += size) chunks.push(json.subarray(i, i + size));
      const decoded = await buffer(Readable.from(chunks).pipe(new GmailRawFieldDecoder()));
      expect(decoded.equals(message), `chunk size ${size}`).toBe(true);
    }
  });

  it('fails on a response without raw, a truncated raw, or characters outside base64url', async () => {
    const decode = (text: string) => buffer(Readable.from([Buffer.from(text)]).pipe(new GmailRawFieldDecoder()));
    await expect(decode('{"id":"1"}')).rejects.toThrow(/no raw field/);
    await expect(decode('{"id":"1","raw":"QUJD')).rejects.toThrow(/ended early/);
    await expect(decode('{"raw":"QU\\u0042D"}')).rejects.toThrow(/base64url/);
  });
});

describe('translateGoogleError', () => {
  const gaxios = (status: number | undefined, data?: unknown, headers?: Record<string, string>) => ({ status, response: status ? { status, data, headers: new Headers(headers) } : undefined });

  it('maps Google failures to what the domain decides on', () => {
    expect(translateGoogleError(gaxios(429, undefined, { 'retry-after': '30' }))).toMatchObject({ retryAfterSeconds: 30 });
    expect(translateGoogleError(gaxios(429))).toBeInstanceOf(ProviderThrottled);
    expect(translateGoogleError(gaxios(403, { error: { errors: [{ reason: 'userRateLimitExceeded' }] } }))).toBeInstanceOf(ProviderThrottled);
    expect(translateGoogleError(gaxios(503))).toBeInstanceOf(ProviderThrottled);
    expect(translateGoogleError(gaxios(undefined))).toBeInstanceOf(ProviderThrottled);
    expect(translateGoogleError(gaxios(400, { error: 'invalid_grant' }))).toBeInstanceOf(ReauthorizationRequired);
    // Regression: our own client refused (a wrong secret) disconnected every mailbox as reauthorization required.
    expect(translateGoogleError(gaxios(401, { error: 'invalid_client', error_description: 'Unauthorized' }))).toBeInstanceOf(ProviderMisconfigured);
    expect(translateGoogleError(gaxios(400, { error: 'unauthorized_client' }))).toBeInstanceOf(ProviderMisconfigured);
    expect(translateGoogleError(gaxios(401, { error: 'invalid_client' }))).toMatchObject({ retryable: true });
    expect(translateGoogleError(gaxios(404), { notFound: 'history' })).toBeInstanceOf(CursorExpired);
    expect(translateGoogleError(gaxios(404), { notFound: 'message' })).toBeInstanceOf(ProviderNotFound);
    expect(translateGoogleError(gaxios(403, { error: { errors: [{ reason: 'insufficientPermissions' }] } }))).not.toBeInstanceOf(ProviderThrottled);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-02T10:00:00Z');
    expect(retryAfterSeconds(new Headers({ 'retry-after': '12' }), now)).toBe(12);
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'Wed, 02 Dec 2026 10:01:00 GMT' }), now)).toBe(60);
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterSeconds({ 'retry-after': '3' }, now)).toBe(3);
  });
});

describe('reply headers', () => {
  it('adds one Re: and keeps References bounded with the thread root first', () => {
    expect(replySubject('Printer jammed')).toBe('Re: Printer jammed');
    expect(replySubject('RE: Printer jammed')).toBe('RE: Printer jammed');
    expect(replySubject('SV: Skrivaren')).toBe('SV: Skrivaren');
    const refs = Array.from({ length: 30 }, (_, i) => `r${i}@x`);
    const bounded = replyReferences(refs, 'last@x');
    expect(bounded).toHaveLength(20);
    expect(bounded[0]).toBe('r0@x');
    expect(bounded.at(-1)).toBe('last@x');
    expect(replyReferences(['a@x'], 'a@x')).toEqual(['a@x']);
  });
});
