// A Gmail API and Google OAuth server on loopback, speaking Google's documented REST wire format so
// the real @googleapis/gmail and google-auth-library run unchanged against it (rootUrl = `${url}/`,
// OAuth2Client endpoints = authorizeUrl / tokenUrl / revokeUrl / certsUrl). Its authorization endpoint
// renders a consent screen a browser (or a test's fetch) can click through; the codes it issues carry
// scope, nonce and access_type into the token response (id_token, refresh_token) like Google's.
// Tests and the local sandbox drive the mailbox side
// (deliver, label changes, deletions, expired history, revoked grants) and inject faults (429/5xx with
// Retry-After, connection resets, late answers). Every request is recorded with its arrival time.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { googleError, faultError, unauthenticated, UNAUTHENTICATED_HEADERS } from './google-errors.js';
import { cutBodyAfter } from './fault-cut.js';
import { FakeOAuth, gmailScopeAllows, type AuthorizationCodeOptions, type RefreshUse } from './fake-gmail-oauth.js';
import { routeApi, type Reply } from './fake-gmail-routes.js';
import {
  AUTHORIZE_PATH,
  DECISION_PATH,
  FakeGoogleAuthorize,
  FakeGoogleKeys,
  JWK_CERTS_PATH,
  PEM_CERTS_PATH,
  type IdTokenTamper,
  type PageReply,
} from './fake-google-authorize.js';
import { Mailbox, type SentMessage, type StoredMessage, type Watch } from './fake-gmail-store.js';

export type { AuthorizationCodeOptions, RefreshUse } from './fake-gmail-oauth.js';
export type { IdTokenClaims, IdTokenTamper } from './fake-google-authorize.js';
export { googleSubject } from './fake-google-authorize.js';
export type { SentMessage, Watch } from './fake-gmail-store.js';

export interface FakeGmailOptions {
  /** Rewrite the Message-ID of every sent message to Gmail's own `<…@mail.gmail.com>` (default false). */
  replaceMessageIdOnSend?: boolean;
  /** When set, the token endpoint checks client_id (and client_secret when given), like Google does. */
  clientId?: string;
  clientSecret?: string;
  /** The client's authorized redirect URIs (more with registerRedirectUri). */
  redirectUris?: string[];
  /** The app name on the consent screen (default "mail2ticket"). */
  appName?: string;
  /** Called after each change while a watch covers it (the sandbox emits Pub/Sub pushes from here). */
  onChange?: (email: string, historyId: string) => void;
}

export interface RecordedRequest {
  method: string;
  /** Without the query string. */
  path: string;
  query: URLSearchParams;
  /** Arrival time, epoch milliseconds. */
  at: number;
  /** The status answered (undefined while in flight, or for a reset connection). */
  status?: number;
}

export type Fault =
  | { status: number; retryAfterSeconds?: number; reason?: string }
  | { resetConnection: true }
  | { delayMs: number }
  /** The API's answer, cut: headers (Content-Length of the whole body), this many body bytes, then the connection closes. */
  | { cutBodyAfterBytes: number };

export interface FaultMatch {
  method?: string;
  pathIncludes?: string;
}

export interface DeliverOptions {
  labelIds?: string[];
  threadId?: string;
  internalDate?: Date;
}

/** Past this size a request is dropped unanswered (Gmail's own limit for a sent message is 35 MB). */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
const DEFAULT_SCOPE = 'https://www.googleapis.com/auth/gmail.modify';
/** Google's signing keys change every few hours; clients cache the certs for max-age. */
const CERTS_CACHE_CONTROL = 'public, max-age=3600, must-revalidate, no-transform';

export class FakeGmail {
  readonly requests: RecordedRequest[] = [];
  /** Unexpected exceptions inside the fake (answered as 500 backendError); a test can assert it stays empty. */
  readonly errors: unknown[] = [];
  onChange: ((email: string, historyId: string) => void) | undefined;
  url = '';

  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly oauth: FakeOAuth;
  private readonly keys = new FakeGoogleKeys();
  private readonly authorization: FakeGoogleAuthorize;
  private readonly faults: Array<{ match: FaultMatch; queue: Fault[] }> = [];
  /** Held-back answers (delay faults), released at stop() so no handler outlives the server. */
  private readonly delays = new Map<NodeJS.Timeout, () => void>();
  /** Rewrite the Message-ID of sent mail to Gmail's own (settable per test). */
  replaceMessageIdOnSend: boolean;
  private server: Server | undefined;
  private lastMessageId = 0n;

  constructor(options: FakeGmailOptions = {}) {
    this.replaceMessageIdOnSend = options.replaceMessageIdOnSend ?? false;
    this.onChange = options.onChange;
    this.oauth = new FakeOAuth(
      this.mailboxes,
      { ...(options.clientId !== undefined ? { clientId: options.clientId } : {}), ...(options.clientSecret !== undefined ? { clientSecret: options.clientSecret } : {}) },
      this.keys,
    );
    this.authorization = new FakeGoogleAuthorize({
      clientId: options.clientId,
      appName: options.appName ?? 'mail2ticket',
      accounts: () => [...this.mailboxes.keys()],
      issueCode: (email, grant) => this.oauth.issueCode(email, grant),
    });
    for (const uri of options.redirectUris ?? []) this.authorization.registerRedirectUri(uri);
  }

  /** Google's authorization endpoint (accounts.google.com/o/oauth2/v2/auth): OAuth2Client's oauth2AuthBaseUrl. */
  get authorizeUrl(): string {
    return `${this.url}${AUTHORIZE_PATH}`;
  }

  /** The id token keys as `{kid: PEM}` (www.googleapis.com/oauth2/v1/certs): OAuth2Client's oauth2FederatedSignonPemCertsUrl. */
  get certsUrl(): string {
    return `${this.url}${PEM_CERTS_PATH}`;
  }

  /** The id token keys as a JWK set (www.googleapis.com/oauth2/v3/certs). */
  get jwksUrl(): string {
    return `${this.url}${JWK_CERTS_PATH}`;
  }

  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  get revokeUrl(): string {
    return `${this.url}/revoke`;
  }

  async start(): Promise<void> {
    await this.keys.start();
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.errors.push(error);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive sockets from the clients' fetch would hold close() open.
    server.closeAllConnections();
    for (const [timer, release] of this.delays) {
      clearTimeout(timer);
      release();
    }
    this.delays.clear();
    await closed;
  }

  // ---- mailbox side -------------------------------------------------------------------------

  /** Without a refresh token the mailbox has no grant yet: one comes from the authorization-code flow. */
  addMailbox(email: string, options: { refreshToken?: string; scope?: string } = {}): void {
    const key = email.toLowerCase();
    const mailbox = this.mailboxes.get(key) ?? new Mailbox(key, options.scope ?? DEFAULT_SCOPE, () => this.newMessageId());
    if (options.refreshToken !== undefined) mailbox.refreshTokens.add(options.refreshToken);
    this.mailboxes.set(key, mailbox);
  }

  /** Mail arriving from outside: stored with INBOX+UNREAD unless told otherwise, threaded like Gmail. */
  deliver(email: string, raw: Buffer, options: DeliverOptions = {}): { id: string; threadId: string; historyId: string } {
    const mailbox = this.mailbox(email);
    const message = mailbox.add(raw, {
      labelIds: options.labelIds ?? ['INBOX', 'UNREAD'],
      ...(options.threadId ? { threadId: options.threadId } : {}),
      ...(options.internalDate ? { internalDate: options.internalDate } : {}),
    });
    this.changed(mailbox, message);
    return { id: message.id, threadId: message.threadId, historyId: String(mailbox.historyId) };
  }

  addLabels(email: string, messageId: string, labelIds: string[]): void {
    this.modify(email, messageId, labelIds, []);
  }

  removeLabels(email: string, messageId: string, labelIds: string[]): void {
    this.modify(email, messageId, [], labelIds);
  }

  /** Permanently deletes a message (not trash): messages.get then answers 404. */
  deleteMessage(email: string, messageId: string): void {
    const mailbox = this.mailbox(email);
    const message = mailbox.get(messageId);
    if (!message || !mailbox.delete(messageId)) throw new Error(`fake-gmail: no message ${messageId} in ${email}`);
    this.changed(mailbox, message);
  }

  /** History before the current historyId is gone: older startHistoryIds answer 404 notFound. */
  expireHistory(email: string): void {
    this.mailbox(email).expireHistory();
  }

  /** The user revoked access: refresh tokens answer invalid_grant and access tokens stop working. */
  revokeRefreshToken(email: string): void {
    this.oauth.revokeMailbox(this.mailbox(email));
  }

  /**
   * While on, every refresh of the mailbox's grant answers a new refresh_token and the one presented
   * stops working (RFC 6749 §6 rotation): a client that does not keep the new one loses the grant.
   */
  rotateRefreshTokens(email: string, on = true): void {
    const key = this.mailbox(email).email;
    if (on) this.oauth.rotating.add(key);
    else this.oauth.rotating.delete(key);
  }

  /** Every refresh_token grant so far: the token presented (as its SHA-256, hex) and the outcome. */
  get refreshUses(): readonly RefreshUse[] {
    return this.oauth.refreshUses;
  }

  /** Access tokens answer 401 from now on, as if their hour had passed; refresh still works. */
  expireAccessTokens(email: string): void {
    this.oauth.expireAccessTokens(this.mailbox(email).email);
  }

  /** A code for the authorization_code grant, bound to a PKCE challenge and redirect URI. */
  issueAuthorizationCode(email: string, options: AuthorizationCodeOptions): string {
    return this.oauth.issueAuthorizationCode(this.mailbox(email).email, options);
  }

  // ---- the authorization endpoint -------------------------------------------------------------

  /** An authorized redirect URI of the OAuth client (exact string match at /auth, as Google does). */
  registerRedirectUri(uri: string): void {
    this.authorization.registerRedirectUri(uri);
  }

  /** Every request to the authorization endpoint, with its query, in arrival order. */
  get authorizeRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === AUTHORIZE_PATH);
  }

  /** From now on the user unticks these scopes on Google's granular consent screen (sign-in scopes stay granted). */
  declineScopesAtConsent(scopes: readonly string[]): void {
    this.authorization.declineScopesAtConsent(scopes);
  }

  /**
   * Test-only: the next id token the token endpoint issues has its claims rewritten and/or is signed
   * with a key the certs URLs do not publish, so a test can prove a client really verifies it.
   */
  tamperNextIdTokenForTest(tamper: IdTokenTamper): void {
    this.keys.tamperNext(tamper);
  }

  historyId(email: string): string {
    return String(this.mailbox(email).historyId);
  }

  message(email: string, id: string): Readonly<StoredMessage> | undefined {
    return this.mailbox(email).get(id);
  }

  sent(email: string): SentMessage[] {
    return [...this.mailbox(email).sent];
  }

  watches(email: string): Watch | undefined {
    const watch = this.mailbox(email).watch;
    return watch && { ...watch, labelIds: [...watch.labelIds] };
  }

  // ---- faults and counters ------------------------------------------------------------------

  /**
   * Faults for matching requests, consumed in order. A status fault answers instead of the API (a 429
   * or 5xx in Google's error JSON, with Retry-After when given); a reset drops the connection before
   * the request takes effect; a delay lets the request take effect and holds the answer back, so a
   * client that times out on messages.send still leaves a sent message behind; a cut sends the answer's
   * headers and the first bytes of its body, then closes the connection (a download lost mid-body).
   */
  injectFaults(match: FaultMatch, faults: Fault[]): void {
    this.faults.push({ match, queue: [...faults] });
  }

  count(method: string, pathIncludes: string): number {
    return this.requests.filter((r) => r.method === method.toUpperCase() && r.path.includes(pathIncludes)).length;
  }

  // ---- the server ---------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake-gmail.invalid');
    const record: RecordedRequest = { method, path: url.pathname, query: url.searchParams, at: Date.now() };
    this.requests.push(record);
    const body = await readBody(req);
    // Past the limit the request stream has been destroyed with its socket: nothing can be answered.
    if (!body) return;

    const fault = this.takeFault(method, url.pathname);
    if (fault && 'resetConnection' in fault) return void req.socket.destroy();
    if (fault && 'status' in fault) {
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      record.status = fault.status;
      return writeReply(res, { status: fault.status, headers, json: faultError(fault.status, fault.reason) });
    }

    let reply: Reply;
    try {
      reply = await this.route(method, url, req, body);
    } catch (error) {
      this.errors.push(error);
      reply = { status: 500, json: faultError(500) };
    }
    if (fault && 'delayMs' in fault) await this.sleep(fault.delayMs);
    if (fault && 'cutBodyAfterBytes' in fault) cutBodyAfter(res, fault.cutBodyAfterBytes);
    record.status = reply.status;
    await writeReply(res, reply);
  }

  private async route(method: string, url: URL, req: IncomingMessage, body: Buffer): Promise<Reply> {
    if (method === 'GET' && url.pathname === AUTHORIZE_PATH) return pageReply(this.authorization.authorize(url.searchParams));
    if (method === 'POST' && url.pathname === DECISION_PATH) return pageReply(this.authorization.decide(new URLSearchParams(body.toString('utf8'))));
    if (method === 'GET' && url.pathname === PEM_CERTS_PATH) return { status: 200, headers: { 'cache-control': CERTS_CACHE_CONTROL }, json: this.keys.pemCerts() };
    if (method === 'GET' && url.pathname === JWK_CERTS_PATH) return { status: 200, headers: { 'cache-control': CERTS_CACHE_CONTROL }, json: await this.keys.jwks() };
    if (method === 'POST' && url.pathname === '/token') {
      const { status, body: json } = await this.oauth.token(new URLSearchParams(body.toString('utf8')), req.headers.authorization);
      return { status, json };
    }
    if (method === 'POST' && url.pathname === '/revoke') {
      const { status, body: json } = this.oauth.revoke(url.searchParams.get('token') ?? new URLSearchParams(body.toString('utf8')).get('token'));
      return { status, json };
    }
    const api = /^\/(upload\/)?gmail\/v1\/users\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!api) return { status: 404, json: googleError(404, 'Not Found', 'notFound') };

    const grant = this.oauth.authenticate(req.headers.authorization);
    if (!grant) return { status: 401, headers: UNAUTHENTICATED_HEADERS, json: unauthenticated() };
    const { email } = grant;
    const [userId, ...segments] = [api[2] as string, ...(api[3] as string).split('/')].map(decodePathSegment);
    if (userId === undefined || segments.some((s) => s === undefined)) return { status: 400, json: googleError(400, 'Invalid path', 'badRequest') };
    if (userId.toLowerCase() !== 'me' && userId.toLowerCase() !== email) return { status: 403, json: googleError(403, `Delegation denied for ${email}`, 'forbidden') };
    if (!gmailScopeAllows(grant.scope, method, segments as string[], url.searchParams)) {
      return { status: 403, json: googleError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions') };
    }
    return routeApi(
      {
        mailbox: this.mailbox(email),
        method,
        segments: segments as string[],
        upload: api[1] !== undefined,
        query: url.searchParams,
        contentType: req.headers['content-type'] ?? '',
        body,
      },
      { replaceMessageIdOnSend: this.replaceMessageIdOnSend, changed: (mailbox, message) => this.changed(mailbox, message) },
    );
  }

  private takeFault(method: string, path: string): Fault | undefined {
    for (const rule of this.faults) {
      if (rule.queue.length === 0) continue;
      if (rule.match.method && rule.match.method.toUpperCase() !== method) continue;
      if (rule.match.pathIncludes && !path.includes(rule.match.pathIncludes)) continue;
      return rule.queue.shift();
    }
    return undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.delays.delete(timer);
        resolve();
      }, ms);
      this.delays.set(timer, resolve);
    });
  }

  private mailbox(email: string): Mailbox {
    const mailbox = this.mailboxes.get(email.toLowerCase());
    if (!mailbox) throw new Error(`fake-gmail: no mailbox ${email} (addMailbox first)`);
    return mailbox;
  }

  private modify(email: string, messageId: string, add: string[], remove: string[]): void {
    const mailbox = this.mailbox(email);
    const before = mailbox.historyId;
    if (!mailbox.modifyLabels(messageId, add, remove)) throw new Error(`fake-gmail: no message ${messageId} in ${email}`);
    const message = mailbox.get(messageId);
    if (message && mailbox.historyId !== before) this.changed(mailbox, message);
  }

  /** Gmail's push condition: an unexpired watch whose label filter the touched message passes. */
  private changed(mailbox: Mailbox, message: StoredMessage): void {
    const watch = mailbox.watch;
    if (!this.onChange || !watch || watch.expiration <= Date.now()) return;
    if (watch.labelIds.length > 0) {
      const touched = mailbox.history.at(-1);
      const labels = new Set([...message.labelIds, ...(touched?.labelIds ?? [])]);
      const hit = watch.labelIds.some((l) => labels.has(l));
      if (watch.labelFilterBehavior === 'include' ? !hit : hit) return;
    }
    this.onChange(mailbox.email, String(mailbox.historyId));
  }

  /** Gmail-like ids: 16 hex digits, increasing (milliseconds shifted left, plus a counter). */
  private newMessageId(): string {
    const candidate = BigInt(Date.now()) << 20n;
    this.lastMessageId = candidate > this.lastMessageId ? candidate : this.lastMessageId + 1n;
    return this.lastMessageId.toString(16).padStart(16, '0');
  }
}

/** The request body, or undefined when it is larger than MAX_REQUEST_BYTES (the connection is then dropped). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      req.socket.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

async function writeReply(res: ServerResponse, reply: Reply): Promise<void> {
  if (res.destroyed) return;
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.stream) return reply.stream(res);
  if (reply.json === undefined) return void res.end();
  const text = JSON.stringify(reply.json);
  res.setHeader('content-type', 'application/json; charset=UTF-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** An HTML page or a redirect of the authorization endpoint, written as is. */
function pageReply(page: PageReply): Reply {
  const html = page.html;
  if (html === undefined) return { status: page.status, headers: page.headers };
  return {
    status: page.status,
    headers: { ...page.headers, 'content-length': String(Buffer.byteLength(html)) },
    stream: async (res) => void res.end(html),
  };
}

/** A refresh token shaped like Google's, for tests that need a fresh one. */
export function fakeRefreshToken(): string {
  return `1//0${randomBytes(32).toString('base64url')}`;
}
