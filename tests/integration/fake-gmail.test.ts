// The fake Gmail and Pub/Sub push emitter, driven through the real clients: @googleapis/gmail with
// google-auth-library's OAuth2Client pointed at the fake's token endpoint, and jose verifying push
// tokens. If these pass, an adapter tested against the fake is speaking Google's wire format.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGmail, fakeRefreshToken } from '../../shared/sandbox/fake-gmail.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';

const MiB = 1024 * 1024;
const CLIENT = { clientId: 'test-client.apps.googleusercontent.com', clientSecret: 'test-secret' };

/** What gaxios rejects with, as far as these tests look at it. */
interface ClientError {
  message: string;
  code?: string | number;
  response?: { status: number; data: unknown; headers: Headers };
}

let fake: FakeGmail;
let mailboxCount = 0;

beforeAll(async () => {
  fake = new FakeGmail(CLIENT);
  await fake.start();
});
afterAll(async () => {
  await fake.stop();
});
afterEach(() => {
  expect(fake.errors).toEqual([]);
});

/** A fresh mailbox per test, so history and counters never leak between tests. */
function newMailbox(server = fake): { email: string; refreshToken: string } {
  mailboxCount += 1;
  const email = `Support${mailboxCount}@Example.com`;
  const refreshToken = fakeRefreshToken();
  server.addMailbox(email, { refreshToken });
  return { email: email.toLowerCase(), refreshToken };
}

function clientFor(refreshToken: string, server = fake, options: { timeout?: number } = {}): { api: gmail_v1.Gmail; auth: OAuth2Client } {
  const auth = new OAuth2Client({ ...CLIENT, endpoints: { oauth2TokenUrl: server.tokenUrl, oauth2RevokeUrl: server.revokeUrl } });
  auth.setCredentials({ refresh_token: refreshToken });
  const api = gmail({ version: 'v1', auth, rootUrl: `${server.url}/`, retry: false, ...(options.timeout ? { timeout: options.timeout } : {}) });
  return { api, auth };
}

function mail(fields: { messageId: string; subject?: string; inReplyTo?: string; body?: string }): Buffer {
  const lines = [
    'From: Ada <ada@example.net>',
    'To: support@example.com',
    `Subject: ${fields.subject ?? 'Printer on fire'}`,
    `Message-ID: <${fields.messageId}>`,
    ...(fields.inReplyTo ? [`In-Reply-To: <${fields.inReplyTo}>`, `References: <${fields.inReplyTo}>`] : []),
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    fields.body ?? 'It is on fire again.',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    return error as ClientError;
  }
  throw new Error('expected the call to fail');
}

const errorBody = (error: ClientError) => (error.response?.data as { error: { code: number; status: string; errors: Array<{ reason: string; domain: string }> } }).error;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('auth', () => {
  it('refreshes at the fake token endpoint once, then sends the bearer on every API call', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const tokensBefore = fake.count('POST', '/token');
    const first = await api.users.getProfile({ userId: 'me' });
    const second = await api.users.getProfile({ userId: email });
    expect(first.data).toEqual({ emailAddress: email, messagesTotal: 0, threadsTotal: 0, historyId: '1000' });
    expect(second.data.emailAddress).toBe(email);
    expect(fake.count('POST', '/token') - tokensBefore).toBe(1);
  });

  it('answers 401 UNAUTHENTICATED without a valid bearer, and 403 for another mailbox', async () => {
    const { refreshToken } = newMailbox();
    const bare = await fetch(`${fake.url}/gmail/v1/users/me/profile`, { headers: { authorization: 'Bearer ya29.not-issued' } });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toContain('invalid_token');
    expect(((await bare.json()) as { error: { status: string; errors: Array<{ reason: string }> } }).error).toMatchObject({ status: 'UNAUTHENTICATED', errors: [{ reason: 'authError' }] });

    const other = newMailbox();
    const error = await failure(clientFor(refreshToken).api.users.getProfile({ userId: other.email }));
    expect(error.response?.status).toBe(403);
  });

  it('surfaces invalid_grant from the token endpoint once the grant is revoked', async () => {
    const { email, refreshToken } = newMailbox();
    await clientFor(refreshToken).api.users.getProfile({ userId: 'me' });
    fake.revokeRefreshToken(email);
    const error = await failure(clientFor(refreshToken).api.users.getProfile({ userId: 'me' }));
    expect(error.response?.status).toBe(400);
    expect(error.response?.data).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
  });

  it('revokes through OAuth2Client.revokeToken at the fake /revoke endpoint', async () => {
    const { refreshToken } = newMailbox();
    const { auth } = clientFor(refreshToken);
    const revoked = await auth.revokeToken(refreshToken);
    expect(revoked.status).toBe(200);
    const error = await failure(clientFor(refreshToken).api.users.getProfile({ userId: 'me' }));
    expect((error.response?.data as { error: string }).error).toBe('invalid_grant');
    const again = await failure(auth.revokeToken(refreshToken));
    expect(again.response?.status).toBe(400);
    expect(again.response?.data).toEqual({ error: 'invalid_token', error_description: 'Token expired or revoked' });
  });

  it('exchanges an authorization code with a PKCE S256 verifier, once', async () => {
    const { email } = newMailbox();
    const verifier = randomBytes(48).toString('base64url');
    const redirectUri = 'http://localhost:8787/oauth/google/callback';
    const code = fake.issueAuthorizationCode(email, { codeChallenge: createHash('sha256').update(verifier).digest('base64url'), redirectUri });
    const auth = new OAuth2Client({ ...CLIENT, redirectUri, endpoints: { oauth2TokenUrl: fake.tokenUrl } });

    const wrong = await failure(auth.getToken({ code, codeVerifier: `${verifier}x` }));
    expect(wrong.response?.data).toEqual({ error: 'invalid_grant', error_description: 'Invalid code verifier.' });

    const { tokens } = await auth.getToken({ code, codeVerifier: verifier });
    expect(tokens.refresh_token).toMatch(/^1\/\/0/);
    expect(tokens.token_type).toBe('Bearer');
    const { data } = await clientFor(tokens.refresh_token as string).api.users.getProfile({ userId: 'me' });
    expect(data.emailAddress).toBe(email);

    const reused = await failure(auth.getToken({ code, codeVerifier: verifier }));
    expect((reused.response?.data as { error: string }).error).toBe('invalid_grant');
  });

  it('checks the OAuth client like Google when configured with one', async () => {
    const { refreshToken } = newMailbox();
    const auth = new OAuth2Client({ clientId: CLIENT.clientId, clientSecret: 'wrong', endpoints: { oauth2TokenUrl: fake.tokenUrl } });
    auth.setCredentials({ refresh_token: refreshToken });
    const error = await failure(auth.getAccessToken());
    expect(error.response?.status).toBe(401);
    expect(error.response?.data).toEqual({ error: 'invalid_client', error_description: 'Unauthorized' });
  });
});

describe('history', () => {
  it('pages with a small maxResults, filters by type, and reports the current historyId', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const start = (await api.users.getProfile({ userId: 'me' })).data.historyId as string;
    const delivered = [1, 2, 3, 4, 5].map((n) => fake.deliver(email, mail({ messageId: `m${n}@example.net` })));
    fake.addLabels(email, delivered[0]!.id, ['Label_7']);
    fake.removeLabels(email, delivered[1]!.id, ['UNREAD']);
    fake.deleteMessage(email, delivered[4]!.id);
    const current = fake.historyId(email);

    const added: string[] = [];
    const recordIds: bigint[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const { data } = await api.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'], maxResults: 2, ...(pageToken ? { pageToken } : {}) });
      pages += 1;
      expect(pages).toBeLessThanOrEqual(3); // a page token that never advances must fail, not spin
      expect(data.historyId).toBe(current);
      for (const record of data.history ?? []) {
        recordIds.push(BigInt(record.id as string));
        expect(record.messages).toEqual([{ id: record.messagesAdded?.[0]?.message?.id, threadId: record.messagesAdded?.[0]?.message?.threadId }]);
        added.push(...(record.messagesAdded ?? []).map((a) => a.message?.id as string));
        expect(record.messagesAdded?.[0]?.message?.labelIds).toEqual(['INBOX', 'UNREAD']);
      }
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);

    expect(added).toEqual(delivered.map((d) => d.id));
    expect(pages).toBe(3);
    expect(recordIds).toEqual([...recordIds].sort((a, b) => (a < b ? -1 : 1)));

    const { data: all } = await api.users.history.list({ userId: 'me', startHistoryId: start });
    expect(all.history?.map((r) => Object.keys(r).find((k) => k !== 'id' && k !== 'messages'))).toEqual([
      ...delivered.map(() => 'messagesAdded'),
      'labelsAdded',
      'labelsRemoved',
      'messagesDeleted',
    ]);
    expect(all.history?.[5]?.labelsAdded).toEqual([{ message: { id: delivered[0]!.id, threadId: delivered[0]!.threadId, labelIds: ['INBOX', 'UNREAD', 'Label_7'] }, labelIds: ['Label_7'] }]);
    expect(all.history?.[7]?.messagesDeleted?.[0]?.message?.id).toBe(delivered[4]!.id);

    const { data: labelled } = await api.users.history.list({ userId: 'me', startHistoryId: start, labelId: 'Label_7' });
    expect(labelled.history?.map((r) => r.id)).toEqual([all.history?.[5]?.id]);
  });

  it('answers 404 notFound for a startHistoryId older than the history Google kept', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const old = fake.deliver(email, mail({ messageId: 'old@example.net' })).historyId;
    fake.deliver(email, mail({ messageId: 'new@example.net' }));
    fake.expireHistory(email);

    const error = await failure(api.users.history.list({ userId: 'me', startHistoryId: old }));
    expect(error.response?.status).toBe(404);
    expect(errorBody(error)).toEqual({
      code: 404,
      message: 'Requested entity was not found.',
      errors: [{ message: 'Requested entity was not found.', domain: 'global', reason: 'notFound' }],
      status: 'NOT_FOUND',
    });

    // From the current historyId on, history works again (and an empty page has no `history`).
    const { data } = await api.users.history.list({ userId: 'me', startHistoryId: fake.historyId(email) });
    expect(data).toEqual({ historyId: fake.historyId(email) });

    const missing = await failure(api.users.history.list({ userId: 'me' }));
    expect(missing.response?.status).toBe(400);
  });
});

describe('messages.get', () => {
  it('returns raw as padded base64url that decodes byte-exact, streamed for a 30 MB message', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    // Binary bytes in the body and a length that is not a multiple of 3 exercise alphabet and padding.
    const big = Buffer.concat([mail({ messageId: 'big@example.net', body: '' }), randomBytes(30 * MiB + 1)]);
    const small = mail({ messageId: 'small@example.net', body: 'ünïcödé ~~~ ???' });
    for (const raw of [small, big]) {
      const { id } = fake.deliver(email, raw);
      const { data } = await api.users.messages.get({ userId: 'me', id, format: 'raw' });
      expect(data.raw).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
      expect((data.raw as string).length % 4).toBe(0);
      expect(sha256(Buffer.from(data.raw as string, 'base64url'))).toBe(sha256(raw));
      expect(data).toMatchObject({ id, labelIds: ['INBOX', 'UNREAD'], sizeEstimate: raw.length });
      expect(data.payload).toBeUndefined();
    }
  });

  it('returns only the requested headers with format=metadata, and 404 once the message is deleted', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const { id } = fake.deliver(email, mail({ messageId: 'meta@example.net', subject: 'Hello' }));
    const { data } = await api.users.messages.get({ userId: 'me', id, format: 'metadata', metadataHeaders: ['Message-ID', 'subject'] });
    expect(data.payload?.headers).toEqual([
      { name: 'Subject', value: 'Hello' },
      { name: 'Message-ID', value: '<meta@example.net>' },
    ]);
    expect(data.snippet).toBe('It is on fire again.');
    expect(data.raw).toBeUndefined();

    fake.deleteMessage(email, id);
    const error = await failure(api.users.messages.get({ userId: 'me', id, format: 'minimal' }));
    expect(error.response?.status).toBe(404);
    expect(errorBody(error).errors[0]?.reason).toBe('notFound');
  });

  it('returns the part tree with format=full and the attachment through attachments.get', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const pdf = randomBytes(1000);
    const raw = Buffer.from(
      [
        'Message-ID: <full@example.net>',
        'Subject: With attachment',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Caf=C3=A9 is open',
        '--b1',
        'Content-Type: application/pdf; name="report.pdf"',
        'Content-Disposition: attachment; filename="report.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        pdf.toString('base64').replace(/(.{76})/g, '$1\r\n'),
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const { id } = fake.deliver(email, raw);
    const { data } = await api.users.messages.get({ userId: 'me', id, format: 'full' });
    const [text, attachment] = data.payload?.parts ?? [];
    expect(data.payload?.mimeType).toBe('multipart/mixed');
    expect(Buffer.from(text?.body?.data as string, 'base64url').toString('utf8')).toBe('Café is open');
    expect(attachment).toMatchObject({ partId: '1', filename: 'report.pdf', mimeType: 'application/pdf', body: { size: 1000 } });
    const fetched = await api.users.messages.attachments.get({ userId: 'me', messageId: id, id: attachment?.body?.attachmentId as string });
    expect(Buffer.from(fetched.data.data as string, 'base64url').equals(pdf)).toBe(true);
  });
});

describe('messages.list', () => {
  it('finds by rfc822msgid, with or without brackets, and by date, excluding spam and trash by default', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const day = 86_400_000;
    const old = fake.deliver(email, mail({ messageId: 'old@example.net' }), { internalDate: new Date(Date.now() - 10 * day) });
    const recent = fake.deliver(email, mail({ messageId: 'recent@example.net' }), { internalDate: new Date(Date.now() - day) });
    const fresh = fake.deliver(email, mail({ messageId: 'fresh@example.net' }));
    const spam = fake.deliver(email, mail({ messageId: 'spam@example.net' }), { labelIds: ['SPAM'] });

    const ids = async (params: gmail_v1.Params$Resource$Users$Messages$List) => ((await api.users.messages.list({ userId: 'me', ...params })).data.messages ?? []).map((m) => m.id);
    expect(await ids({ q: 'rfc822msgid:<recent@example.net>' })).toEqual([recent.id]);
    expect(await ids({ q: 'rfc822msgid:recent@example.net' })).toEqual([recent.id]);
    expect(await ids({ q: 'rfc822msgid:nobody@example.net' })).toEqual([]);
    expect(await ids({ q: 'newer_than:2d' })).toEqual([fresh.id, recent.id]);
    expect(await ids({ q: 'newer_than:2d', includeSpamTrash: true })).toEqual([spam.id, fresh.id, recent.id]);
    expect(await ids({ q: `after:${Math.floor((Date.now() - 5 * day) / 1000)} in:inbox -in:spam` })).toEqual([fresh.id, recent.id]);
    expect(await ids({ q: 'in:spam' })).toEqual([spam.id]);
    expect(await ids({ labelIds: ['INBOX', 'UNREAD'] })).toEqual([fresh.id, recent.id, old.id]);

    const { data: empty } = await api.users.messages.list({ userId: 'me', q: 'rfc822msgid:nobody@example.net' });
    expect(empty).toEqual({ resultSizeEstimate: 0 });

    const unsupported = await failure(api.users.messages.list({ userId: 'me', q: 'has:attachment' }));
    expect(unsupported.response?.status).toBe(400);
  });

  it('pages newest first with a small maxResults', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const delivered = [3, 1, 2].map((n) => fake.deliver(email, mail({ messageId: `p${n}@example.net` }), { internalDate: new Date(Date.UTC(2026, 10, n)) }));
    const seen: string[] = [];
    let pageToken: string | undefined;
    do {
      const { data } = await api.users.messages.list({ userId: 'me', maxResults: 1, ...(pageToken ? { pageToken } : {}) });
      expect(data.resultSizeEstimate).toBe(3);
      expect(seen.length).toBeLessThan(3);
      seen.push(...(data.messages ?? []).map((m) => m.id as string));
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);
    expect(seen).toEqual([delivered[0]!.id, delivered[2]!.id, delivered[1]!.id]);
  });

  it('threads a delivered reply into the thread of the message it answers', async () => {
    const { email } = newMailbox();
    const original = fake.deliver(email, mail({ messageId: 'question@example.net' }));
    const reply = fake.deliver(email, mail({ messageId: 'answer@example.net', inReplyTo: 'question@example.net' }));
    const unrelated = fake.deliver(email, mail({ messageId: 'other@example.net' }));
    expect(reply.threadId).toBe(original.threadId);
    expect(unrelated.threadId).toBe(unrelated.id);
    expect(original.id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('threads.get', () => {
  it('returns the thread\'s messages oldest first with the requested headers, and 404 for a thread that is gone', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const original = fake.deliver(email, mail({ messageId: 'thread-q@example.net', subject: 'Toner' }), { internalDate: new Date('2026-12-01T10:00:00Z') });
    const answer = fake.deliver(email, mail({ messageId: 'thread-a@example.net', subject: 'Re: Toner', inReplyTo: 'thread-q@example.net' }), {
      internalDate: new Date('2026-12-01T11:00:00Z'),
    });
    fake.deliver(email, mail({ messageId: 'elsewhere@example.net' }));

    const { data } = await api.users.threads.get({ userId: 'me', id: original.threadId, format: 'metadata', metadataHeaders: ['Message-ID'] });
    expect(data.id).toBe(original.threadId);
    expect(data.messages?.map((m) => m.id)).toEqual([original.id, answer.id]);
    expect(data.messages?.map((m) => m.payload?.headers)).toEqual([[{ name: 'Message-ID', value: '<thread-q@example.net>' }], [{ name: 'Message-ID', value: '<thread-a@example.net>' }]]);
    expect(data.messages?.[1]?.labelIds).toContain('INBOX');
    expect(BigInt(data.historyId ?? '0')).toBeGreaterThan(0n);

    // Google has no raw format for threads.
    const raw = await failure(api.users.threads.get({ userId: 'me', id: original.threadId, format: 'raw' as 'full' }));
    expect(raw.response?.status).toBe(400);

    fake.deleteMessage(email, original.id);
    fake.deleteMessage(email, answer.id);
    const gone = await failure(api.users.threads.get({ userId: 'me', id: original.threadId, format: 'minimal' }));
    expect(gone.response?.status).toBe(404);
    expect(errorBody(gone).errors[0]?.reason).toBe('notFound');
  });
});

describe('watch and stop', () => {
  it('watches for about 7 days, notifies on watched labels only, and stops with 204', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const notified: Array<[string, string]> = [];
    fake.onChange = (address, historyId) => notified.push([address, historyId]);
    try {
      fake.deliver(email, mail({ messageId: 'before-watch@example.net' }));
      const topicName = 'projects/mail2ticket-test/topics/gmail';
      const { data } = await api.users.watch({ userId: 'me', requestBody: { topicName, labelIds: ['INBOX'], labelFilterBehavior: 'include' } });
      expect(data.historyId).toBe(fake.historyId(email));
      expect(Number(data.expiration) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
      expect(fake.watches(email)).toMatchObject({ topicName, labelIds: ['INBOX'], labelFilterBehavior: 'include', historyId: data.historyId });

      const inbox = fake.deliver(email, mail({ messageId: 'watched@example.net' }));
      fake.deliver(email, mail({ messageId: 'archived@example.net' }), { labelIds: ['Label_9'] });
      expect(notified).toEqual([[email, inbox.historyId]]);

      const stopped = await api.users.stop({ userId: 'me' });
      expect(stopped.status).toBe(204);
      expect(fake.watches(email)).toBeUndefined();
      fake.deliver(email, mail({ messageId: 'after-stop@example.net' }));
      expect(notified).toHaveLength(1);

      const invalid = await failure(api.users.watch({ userId: 'me', requestBody: { topicName: 'gmail-topic' } }));
      expect(invalid.response?.status).toBe(400);
    } finally {
      fake.onChange = undefined;
    }
  });
});

describe('messages.send', () => {
  it('stores the sent message as SENT with a history record, keeps its Message-ID, and joins a named thread', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const start = fake.historyId(email);
    const incoming = fake.deliver(email, mail({ messageId: 'ticket@example.net' }));
    const reply = mail({ messageId: 'reply-1@mail2ticket.example', inReplyTo: 'ticket@example.net', subject: 'Re: Printer on fire' });

    const { data } = await api.users.messages.send({ userId: 'me', requestBody: { raw: reply.toString('base64url'), threadId: incoming.threadId } });
    expect(data).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), threadId: incoming.threadId, labelIds: ['SENT'] });
    expect(fake.sent(email)).toEqual([{ id: data.id, threadId: incoming.threadId, raw: reply, messageId: '<reply-1@mail2ticket.example>' }]);

    const { data: history } = await api.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] });
    expect(history.history?.at(-1)?.messagesAdded).toEqual([{ message: { id: data.id, threadId: incoming.threadId, labelIds: ['SENT'] } }]);
    const { data: inbox } = await api.users.messages.list({ userId: 'me', q: 'in:inbox' });
    expect(inbox.messages?.map((m) => m.id)).toEqual([incoming.id]);

    // Without a threadId Gmail starts a new thread, whatever the headers say.
    const { data: loose } = await api.users.messages.send({ userId: 'me', requestBody: { raw: mail({ messageId: 'reply-2@mail2ticket.example', inReplyTo: 'ticket@example.net' }).toString('base64url') } });
    expect(loose.threadId).toBe(loose.id);
  });

  it('accepts the /upload/ media and multipart forms the client uses for a media body', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const first = fake.deliver(email, mail({ messageId: 'upload-thread@example.net' }));
    const media = mail({ messageId: 'media@mail2ticket.example' });
    const multipart = mail({ messageId: 'multipart@mail2ticket.example' });
    // googleapis-common builds the /upload/ URL from the per-call rootUrl only: the client-wide rootUrl
    // is not applied to media uploads, which would otherwise go to gmail.googleapis.com. Its multipart
    // writer also needs the media as a string or a stream (it pipes anything else).
    const perCall = { rootUrl: `${fake.url}/` };
    await api.users.messages.send({ userId: 'me', media: { mimeType: 'message/rfc822', body: media } }, perCall);
    const { data } = await api.users.messages.send({ userId: 'me', requestBody: { threadId: first.threadId }, media: { mimeType: 'message/rfc822', body: Readable.from([multipart]) } }, perCall);
    expect(data.threadId).toBe(first.threadId);
    expect(fake.sent(email).map((s) => sha256(s.raw))).toEqual([sha256(media), sha256(multipart)]);
    expect(fake.count('POST', '/upload/gmail/v1/users/me/messages/send')).toBeGreaterThanOrEqual(2);
  });

  it('rewrites the Message-ID when told to, and the stored value is what metadata reads back', async () => {
    const rewriting = new FakeGmail({ ...CLIENT, replaceMessageIdOnSend: true });
    await rewriting.start();
    try {
      const { email, refreshToken } = newMailbox(rewriting);
      const { api } = clientFor(refreshToken, rewriting);
      const { data } = await api.users.messages.send({ userId: 'me', requestBody: { raw: mail({ messageId: 'ours@mail2ticket.example' }).toString('base64url') } });
      const [sent] = rewriting.sent(email);
      expect(sent?.messageId).toMatch(/^<CA[A-Za-z0-9_-]+@mail\.gmail\.com>$/);
      expect(sent?.raw.toString('utf8')).not.toContain('ours@mail2ticket.example');
      const { data: meta } = await api.users.messages.get({ userId: 'me', id: data.id as string, format: 'metadata', metadataHeaders: ['Message-ID'] });
      expect(meta.payload?.headers).toEqual([{ name: 'Message-ID', value: sent?.messageId }]);
      expect(rewriting.errors).toEqual([]);
    } finally {
      await rewriting.stop();
    }
  });

  it('keeps a message whose send answer came too late for the client', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken, fake, { timeout: 300 });
    await api.users.getProfile({ userId: 'me' });
    fake.injectFaults({ method: 'POST', pathIncludes: '/messages/send' }, [{ delayMs: 1500 }]);
    const error = await failure(api.users.messages.send({ userId: 'me', requestBody: { raw: mail({ messageId: 'late@mail2ticket.example' }).toString('base64url') } }));
    expect(error.response).toBeUndefined();
    expect(fake.sent(email).map((s) => s.messageId)).toEqual(['<late@mail2ticket.example>']);
  });
});

describe('messages.import', () => {
  it('imports into the inbox like delivered mail: labels asked for, threaded by headers, a messageAdded change that notifies the watch', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    await api.users.watch({ userId: 'me', requestBody: { topicName: 'projects/mail2ticket-test/topics/gmail', labelIds: ['INBOX'] } });
    const notified: Array<[string, string]> = [];
    fake.onChange = (address, historyId) => notified.push([address, historyId]);
    try {
      const start = fake.historyId(email);
      const question = mail({ messageId: 'imported-question@example.net' });
      const { data } = await api.users.messages.import({ userId: 'me', requestBody: { raw: question.toString('base64url'), labelIds: ['INBOX', 'UNREAD'] } });
      expect(data).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), threadId: data.id, labelIds: ['INBOX', 'UNREAD'] });
      expect(notified).toEqual([[email, fake.historyId(email)]]);
      const { data: history } = await api.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] });
      expect(history.history?.map((h) => h.messagesAdded)).toEqual([[{ message: { id: data.id, threadId: data.id, labelIds: ['INBOX', 'UNREAD'] } }]]);

      // The media upload form (what the sandbox uses), threaded into the question's thread by In-Reply-To.
      const answer = mail({ messageId: 'imported-answer@example.net', inReplyTo: 'imported-question@example.net' });
      const { data: threaded } = await api.users.messages.import(
        { userId: 'me', requestBody: { labelIds: ['INBOX'] }, media: { mimeType: 'message/rfc822', body: Readable.from([answer]) } },
        { rootUrl: `${fake.url}/` },
      );
      expect(threaded.threadId).toBe(data.id);
      expect(fake.message(email, threaded.id as string)?.raw.equals(answer)).toBe(true);

      // Without labels it is archived: stored, but no inbox arrival and no notification for an INBOX watch.
      const { data: archived } = await api.users.messages.import({ userId: 'me', requestBody: { raw: mail({ messageId: 'imported-archived@example.net' }).toString('base64url') } });
      expect(archived.labelIds).toBeUndefined();
      expect(notified).toHaveLength(2);
    } finally {
      fake.onChange = undefined;
    }
  });

  it('dates by the Date header when asked, and refuses unknown labels and an empty message', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const { data } = await api.users.messages.import({ userId: 'me', internalDateSource: 'dateHeader', requestBody: { raw: mail({ messageId: 'dated@example.net' }).toString('base64url'), labelIds: ['INBOX'] } });
    expect(fake.message(email, data.id as string)?.internalDate).toBe(Date.parse('Tue, 01 Dec 2026 10:00:00 +0000'));
    const unknown = await failure(api.users.messages.import({ userId: 'me', requestBody: { raw: mail({ messageId: 'bad-label@example.net' }).toString('base64url'), labelIds: ['NOT_A_LABEL'] } }));
    expect(unknown.response?.status).toBe(400);
    const empty = await failure(api.users.messages.import({ userId: 'me', requestBody: { labelIds: ['INBOX'] } }));
    expect(empty.response?.status).toBe(400);
  });
});

describe('faults', () => {
  it('answers 429 in Google error JSON with a Retry-After the client can read, then recovers', async () => {
    const { refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    await api.users.getProfile({ userId: 'me' });
    fake.injectFaults({ method: 'GET', pathIncludes: '/profile' }, [{ status: 429, retryAfterSeconds: 7 }, { status: 503 }]);
    const before = fake.count('GET', '/profile');

    const limited = await failure(api.users.getProfile({ userId: 'me' }));
    expect(limited.response?.status).toBe(429);
    expect(limited.response?.headers.get('retry-after')).toBe('7');
    expect(errorBody(limited)).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED', errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits' }] });

    const unavailable = await failure(api.users.getProfile({ userId: 'me' }));
    expect(unavailable.response?.status).toBe(503);
    expect(errorBody(unavailable).errors[0]?.reason).toBe('backendError');

    expect((await api.users.getProfile({ userId: 'me' })).status).toBe(200);
    const profiles = fake.requests.filter((r) => r.path.endsWith('/profile')).slice(-3);
    expect(fake.count('GET', '/profile') - before).toBe(3);
    expect(profiles.map((r) => r.at)).toEqual([...profiles.map((r) => r.at)].sort((a, b) => a - b));
  });

  it('drops the connection on a reset fault, with no response for the client', async () => {
    const { email, refreshToken } = newMailbox();
    const { api } = clientFor(refreshToken);
    const { id } = fake.deliver(email, mail({ messageId: 'reset@example.net' }));
    fake.injectFaults({ pathIncludes: `/messages/${id}` }, [{ resetConnection: true }]);
    const error = await failure(api.users.messages.get({ userId: 'me', id, format: 'raw' }));
    expect(error.response).toBeUndefined();
    const { data } = await api.users.messages.get({ userId: 'me', id, format: 'raw' });
    expect(data.id).toBe(id);
    expect(fake.requests.filter((r) => r.path.endsWith(`/messages/${id}`)).map((r) => r.query.get('format'))).toEqual(['raw', 'raw']);
  });
});

describe('PubSubPushEmitter', () => {
  const audience = 'https://mail2ticket.example/webhooks/gmail';
  const serviceAccountEmail = 'gmail-push@mail2ticket-test.iam.gserviceaccount.com';

  it('signs OIDC tokens that jose verifies against its JWK set, with Google push claims', async () => {
    const emitter = await PubSubPushEmitter.create({ audience, serviceAccountEmail });
    const keys = createLocalJWKSet(emitter.jwks());
    const token = await emitter.token();
    const { payload } = await jwtVerify(token, keys, { issuer: 'https://accounts.google.com', audience, algorithms: ['RS256'] });
    expect(payload).toMatchObject({ email: serviceAccountEmail, email_verified: true, aud: audience, iss: 'https://accounts.google.com' });
    expect(payload.sub).toMatch(/^\d{21}$/);
    expect(payload.azp).toBe(payload.sub);
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: emitter.kid, typ: 'JWT' });

    await expect(jwtVerify(await emitter.token({ aud: 'https://elsewhere.example' }), keys, { audience })).rejects.toThrow(/aud/);
    await expect(jwtVerify(await emitter.token({ exp: Math.floor(Date.now() / 1000) - 60 }), keys, { audience })).rejects.toThrow(/exp/);
    const stranger = await PubSubPushEmitter.create({ audience, serviceAccountEmail });
    await expect(jwtVerify(await stranger.token(), keys, { audience })).rejects.toThrow();
  });

  it('posts the wrapped push body with the bearer token and returns the endpoint status', async () => {
    const emitter = await PubSubPushEmitter.create({ audience, serviceAccountEmail });
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const endpoint = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(req.headers.authorization ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/webhooks/gmail`;
      expect(await emitter.push(url, { emailAddress: 'support@example.com', historyId: '98765432101234567' }, { messageId: '1234567890' })).toBe(204);
      expect(await emitter.push(url, { emailAddress: 'support@example.com', historyId: '1' }, { token: null })).toBe(401);

      const [first, second] = received;
      const token = /^Bearer (.+)$/.exec(first?.headers.authorization ?? '')?.[1] as string;
      await jwtVerify(token, createLocalJWKSet(emitter.jwks()), { audience });
      expect(first?.headers['content-type']).toBe('application/json');
      const body = JSON.parse(first?.body ?? '') as { message: Record<string, string>; subscription: string };
      expect(body).toEqual({
        message: { data: expect.any(String), messageId: '1234567890', message_id: '1234567890', publishTime: expect.any(String), publish_time: body.message.publishTime },
        subscription: 'projects/mail2ticket-sandbox/subscriptions/gmail-push',
      });
      expect(new Date(body.message.publishTime as string).toISOString()).toBe(body.message.publishTime);
      // historyId is a JSON number in Gmail's notifications; every digit survives beyond 2^53.
      expect(Buffer.from(body.message.data as string, 'base64').toString('utf8')).toBe('{"emailAddress":"support@example.com","historyId":98765432101234567}');
      expect(second?.headers.authorization).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => endpoint.close(() => resolve()));
    }
  });

  it('notifies through onChange so the sandbox can push the mailbox historyId', async () => {
    const emitter = await PubSubPushEmitter.create({ audience, serviceAccountEmail });
    const { email, refreshToken } = newMailbox();
    const bodies: unknown[] = [];
    fake.onChange = (address, historyId) => bodies.push(emitter.body({ emailAddress: address, historyId }));
    try {
      await clientFor(refreshToken).api.users.watch({ userId: 'me', requestBody: { topicName: 'projects/p/topics/t' } });
      const { historyId } = fake.deliver(email, mail({ messageId: 'pushed@example.net' }));
      const [body] = bodies as Array<{ message: { data: string } }>;
      expect(JSON.parse(Buffer.from(body?.message.data ?? '', 'base64').toString('utf8'))).toEqual({ emailAddress: email, historyId: Number(historyId) });
    } finally {
      fake.onChange = undefined;
    }
  });
});
