// GmailConnector on the real @googleapis/gmail client and google-auth-library's OAuth2Client.
// The client's own retries are off: the domain's backoff honours Retry-After, gaxios's does not.
// Tokens live only in the OAuth2Client of one sync; nothing here logs a request or a response.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import type { ProviderCredentials } from '../../domain/model.js';
import type { GmailApi, GmailConnector, GmailHistoryPage, GmailHistoryRecord, GmailMessageHeaders, GmailMessageRef } from '../../domain/gmail/ports.js';
import { ProviderNotFound } from '../../domain/provider-errors.js';
import { MESSAGE_DOWNLOAD_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../system/deadlines.js';
import { translateGoogleError } from './google-errors.js';
import { pullOnRead } from './pull-on-read.js';
import { GmailRawFieldDecoder } from './raw-field-decoder.js';

export interface GoogleGmailOptions {
  clientId: string;
  clientSecret: string;
  /** `https://gmail.googleapis.com/` in production; a fake's URL in tests and the sandbox. */
  rootUrl?: string;
  /** Google's token endpoint; a fake's in tests and the sandbox. */
  tokenUrl?: string;
  revokeUrl?: string;
  /**
   * Per-request timeout, the answer's body included (gaxios puts its AbortSignal on the whole fetch);
   * a timeout is a throttle to the domain (retried later).
   */
  timeoutMs?: number;
  /**
   * The same for a message's raw download, whose body the ingest reads at the pace of S3 and the
   * scanner: a deadline of its own, as the Graph adapter's for `/$value`.
   */
  downloadTimeoutMs?: number;
  /** History page size (Gmail's maximum is 500). */
  historyPageSize?: number;
}

/** Warm OAuth clients kept per refresh token (a Lambda instance serves a bounded set of mailboxes). */
const MAX_CACHED_CLIENTS = 256;

export class GoogleGmailConnector implements GmailConnector {
  /**
   * One OAuth client per refresh token, keyed by its digest: a warm worker reuses the access token (an
   * hour long) across jobs instead of asking Google for a new one each time. Revoking drops it.
   */
  private readonly clients = new Map<string, OAuth2Client>();
  /** The refresh token Google rotated a client's to (RFC 6749 §6), never logged, for the domain to seal. */
  private readonly rotations = new WeakMap<OAuth2Client, string>();

  constructor(private readonly options: GoogleGmailOptions) {}

  open(credentials: ProviderCredentials): GmailApi {
    const auth = this.authFor(credentials.refreshToken);
    const client = gmail({
      version: 'v1',
      auth,
      retry: false,
      timeout: this.options.timeoutMs ?? REQUEST_TIMEOUT_MS,
      ...(this.options.rootUrl ? { rootUrl: this.options.rootUrl } : {}),
    });
    return new GoogleGmailApi(
      client,
      auth,
      this.options.historyPageSize ?? 500,
      this.options.downloadTimeoutMs ?? MESSAGE_DOWNLOAD_TIMEOUT_MS,
      () => this.forget(credentials.refreshToken),
      () => this.rotations.get(auth),
    );
  }

  private authFor(refreshToken: string | undefined): OAuth2Client {
    const key = refreshToken ? createHash('sha256').update(refreshToken).digest('hex') : undefined;
    const cached = key ? this.clients.get(key) : undefined;
    if (cached && key) {
      // Most recently used last: the oldest is the one evicted.
      this.clients.delete(key);
      this.clients.set(key, cached);
      return cached;
    }
    const auth = this.newAuth();
    auth.setCredentials({ refresh_token: refreshToken });
    // google-auth-library keeps the OLD refresh token in the client's credentials after a refresh that
    // answered a new one; the new one is only in the 'tokens' event (read at once: the library rewrites
    // that object right after). The client is no longer cached: the next open() brings the stored new token.
    auth.on('tokens', (tokens: { refresh_token?: string | null }) => {
      if (!tokens.refresh_token || tokens.refresh_token === refreshToken) return;
      this.rotations.set(auth, tokens.refresh_token);
      this.forget(refreshToken);
    });
    if (key) {
      this.clients.set(key, auth);
      if (this.clients.size > MAX_CACHED_CLIENTS) this.clients.delete(this.clients.keys().next().value as string);
    }
    return auth;
  }

  private forget(refreshToken: string | undefined): void {
    if (refreshToken) this.clients.delete(createHash('sha256').update(refreshToken).digest('hex'));
  }

  private newAuth(): OAuth2Client {
    return new OAuth2Client({
      clientId: this.options.clientId,
      clientSecret: this.options.clientSecret,
      // A cached access token Google no longer honours (the user revoked access) is refreshed once on
      // its 401, so a revoked grant surfaces as invalid_grant — reauthorization — not as a failed call.
      forceRefreshOnFailure: true,
      endpoints: {
        ...(this.options.tokenUrl ? { oauth2TokenUrl: this.options.tokenUrl } : {}),
        ...(this.options.revokeUrl ? { oauth2RevokeUrl: this.options.revokeUrl } : {}),
      },
    });
  }
}

class GoogleGmailApi implements GmailApi {
  constructor(
    private readonly client: gmail_v1.Gmail,
    private readonly auth: OAuth2Client,
    private readonly historyPageSize: number,
    private readonly downloadTimeoutMs: number,
    private readonly onRevoked: () => void,
    private readonly rotated: () => string | undefined,
  ) {}

  async getProfile(): Promise<{ emailAddress: string; historyId: string }> {
    const { data } = await guard(() => this.client.users.getProfile({ userId: 'me' }));
    if (!data.emailAddress || !data.historyId) throw new Error('Gmail profile without address or historyId');
    return { emailAddress: data.emailAddress, historyId: data.historyId };
  }

  async listHistory(startHistoryId: string, pageToken?: string): Promise<GmailHistoryPage> {
    const { data } = await guard(
      () =>
        this.client.users.history.list({
          userId: 'me',
          startHistoryId,
          historyTypes: ['messageAdded', 'labelAdded'],
          maxResults: this.historyPageSize,
          ...(pageToken ? { pageToken } : {}),
        }),
      'history',
    );
    if (!data.historyId) throw new Error('Gmail history without historyId');
    return {
      records: (data.history ?? []).map(toRecord),
      ...(data.nextPageToken ? { nextPageToken: data.nextPageToken } : {}),
      historyId: data.historyId,
    };
  }

  async listMessages(query: string, pageToken?: string) {
    const { data } = await guard(() => this.client.users.messages.list({ userId: 'me', q: query, maxResults: 500, ...(pageToken ? { pageToken } : {}) }));
    const messages = (data.messages ?? []).flatMap((m) => (m.id && m.threadId ? [{ id: m.id, threadId: m.threadId }] : []));
    return { messages, ...(data.nextPageToken ? { nextPageToken: data.nextPageToken } : {}) };
  }

  async getRawMessage(id: string): Promise<Readable> {
    // Its own deadline: the client's per-request timeout would also bound reading the body.
    const response = await guard(() => this.client.users.messages.get({ userId: 'me', id, format: 'raw' }, { responseType: 'stream', timeout: this.downloadTimeoutMs }), 'message');
    const body = response.data as unknown as Readable | ReadableStream<Uint8Array>;
    const json = body instanceof Readable ? body : Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
    const decoder = new GmailRawFieldDecoder();
    // A connection dropped mid-body must fail the ingest, never end it as a short message.
    json.on('error', (error) => decoder.destroy(translateGoogleError(error)));
    return pullOnRead(json.pipe(decoder));
  }

  async getHeaders(id: string, names: readonly string[]): Promise<GmailMessageHeaders> {
    const { data } = await guard(() => this.client.users.messages.get({ userId: 'me', id, format: 'metadata', metadataHeaders: [...names] }), 'message');
    const headers = toHeaders(data);
    if (!headers) throw new Error('Gmail message without id or threadId');
    return headers;
  }

  async getThreadHeaders(threadId: string, names: readonly string[]): Promise<GmailMessageHeaders[]> {
    try {
      const { data } = await guard(() => this.client.users.threads.get({ userId: 'me', id: threadId, format: 'metadata', metadataHeaders: [...names] }), 'message');
      return (data.messages ?? []).flatMap((message) => toHeaders(message) ?? []);
    } catch (error) {
      if (error instanceof ProviderNotFound) return [];
      throw error;
    }
  }

  async watch(topicName: string, labelIds: string[]): Promise<{ historyId: string; expiration: Date }> {
    const { data } = await guard(() => this.client.users.watch({ userId: 'me', requestBody: { topicName, labelIds, labelFilterBehavior: 'include' } }));
    if (!data.historyId || !data.expiration) throw new Error('Gmail watch without historyId or expiration');
    return { historyId: data.historyId, expiration: new Date(Number(data.expiration)) };
  }

  async stop(): Promise<void> {
    await guard(() => this.client.users.stop({ userId: 'me' }));
  }

  async send(raw: Uint8Array, threadId?: string): Promise<{ id: string; threadId: string }> {
    const { data } = await guard(() =>
      this.client.users.messages.send({ userId: 'me', requestBody: { raw: Buffer.from(raw).toString('base64url'), ...(threadId ? { threadId } : {}) } }),
    );
    if (!data.id || !data.threadId) throw new Error('Gmail send without id or threadId');
    return { id: data.id, threadId: data.threadId };
  }

  rotatedRefreshToken(): string | undefined {
    return this.rotated();
  }

  async revoke(): Promise<void> {
    const token = this.auth.credentials.refresh_token;
    this.onRevoked();
    if (token) await guard(() => this.auth.revokeToken(token));
  }
}

async function guard<T>(request: () => Promise<T>, notFound?: 'message' | 'history'): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw translateGoogleError(error, notFound ? { notFound } : {});
  }
}

function toRef(message: gmail_v1.Schema$Message | undefined): GmailMessageRef | undefined {
  if (!message?.id || !message.threadId) return undefined;
  return { id: message.id, threadId: message.threadId, labelIds: message.labelIds ?? [] };
}

function toHeaders(message: gmail_v1.Schema$Message): GmailMessageHeaders | undefined {
  const ref = toRef(message);
  if (!ref) return undefined;
  const headers: Record<string, string> = {};
  for (const { name, value } of message.payload?.headers ?? []) {
    const key = name?.toLowerCase();
    if (key && value != null && !(key in headers)) headers[key] = value;
  }
  return { ...ref, headers };
}

function toRecord(history: gmail_v1.Schema$History): GmailHistoryRecord {
  return {
    id: history.id ?? '0',
    messagesAdded: (history.messagesAdded ?? []).flatMap((added) => toRef(added.message ?? undefined) ?? []),
    labelsAdded: (history.labelsAdded ?? []).flatMap((added) => {
      const message = toRef(added.message ?? undefined);
      return message ? [{ message, labelIds: added.labelIds ?? [] }] : [];
    }),
  };
}
