// A Microsoft Graph v1.0 mail endpoint on loopback HTTPS, speaking Graph's documented wire format so
// the real @microsoft/microsoft-graph-client runs unchanged against it (baseUrl = the fake's origin,
// customHosts = ['127.0.0.1'], the test CA trusted). Bearer tokens come from FakeIdentity and are
// checked for tenant, lifetime and app roles. Tests and the local sandbox drive the mailbox side
// (deliver, move, delete, expired delta tokens, lost notifications, lifecycle events) and inject
// faults (429/5xx with Retry-After, resets, late answers). Every request is recorded, and the highest
// number of concurrent requests per mailbox is kept, for Outlook's 4-per-app-and-mailbox limit.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FakeIdentity } from './fake-identity.js';
import { bearer, drained, errorBody, faultFailure, headerString, JSON_TYPE, parsePrefer, readBody, safeDecode, sendText, unauthorized } from './fake-graph-http.js';
import { cutBodyAfter } from './fault-cut.js';
import { fail, isFailure, type Outcome } from './fake-graph-json.js';
import { pathTokens, routeMail, routeOrganization } from './fake-graph-routes.js';
import { Mailbox, newUserId, type MailboxChange, type StoredMessage } from './fake-graph-store.js';
import { Subscriptions, type NotificationRecord, type Subscription, type ValidationRecord } from './fake-graph-subscriptions.js';
import type { Delivery, LifecycleEvent } from './graph-notifier.js';

export type { NotificationRecord, Subscription, ValidationRecord } from './fake-graph-subscriptions.js';
export type { StoredMessage } from './fake-graph-store.js';
export type { Delivery, LifecycleEvent } from './graph-notifier.js';

export interface FakeGraphOptions {
  identity: FakeIdentity;
  /** The tenant addMailbox() uses when none is given. */
  tenantId?: string;
  /** Held on every API request while it counts as in flight, so concurrency becomes observable. */
  latencyMs?: number;
  /** Enforce Outlook's concurrent-request limit per mailbox (4 per app and mailbox); off unless set. */
  mailboxConcurrencyLimit?: number;
  /** How long a sent draft takes to show up in Sent Items (Graph does not promise it at once). */
  sendDelayMs?: number;
  /** Outlook message subscriptions: 10,080 minutes. */
  maxSubscriptionMinutes?: number;
  validationTimeoutMs?: number;
  notificationTimeoutMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** Without the query string, percent-decoded. */
  path: string;
  query: URLSearchParams;
  /** Arrival time, epoch milliseconds. */
  at: number;
  /** The mailbox address the request was about, when its path names one. */
  user: string | undefined;
  /** The status answered (undefined while in flight, or for a reset connection). */
  status?: number;
}

export type Fault =
  | { status: number; retryAfterSeconds?: number; code?: string; message?: string }
  | { resetConnection: true }
  | { delayMs: number }
  /** The API's answer, cut: headers (Content-Length of the whole body), this many body bytes, then the connection closes. */
  | { cutBodyAfterBytes: number };

export interface FaultMatch {
  method?: string;
  pathIncludes?: string;
  /** Mailbox address. */
  user?: string;
}

export interface SentRecord {
  address: string;
  id: string;
  internetMessageId: string;
  raw: Buffer;
  at: number;
}

const STREAM_CHUNK_BYTES = 64 * 1024;

export class FakeGraph {
  readonly requests: RecordedRequest[] = [];
  readonly sentMessages: SentRecord[] = [];
  /** Unexpected exceptions inside the fake (answered as 500 generalException); a test can assert it stays empty. */
  readonly errors: unknown[] = [];
  latencyMs: number;
  sendDelayMs: number;
  mailboxConcurrencyLimit: number | undefined;
  /** The Graph root, e.g. https://127.0.0.1:PORT/v1.0 (empty until start). */
  url = '';
  /** Scheme and authority only: the Graph SDK's `baseUrl`. */
  origin = '';

  private readonly identity: FakeIdentity;
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly subscriptionStore: Subscriptions;
  private readonly faults: Array<{ match: FaultMatch; queue: Fault[] }> = [];
  private readonly inFlightNow = new Map<string, number>();
  private readonly inFlightMax = new Map<string, number>();
  private readonly droppedFor = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private server: Server | undefined;

  constructor(private readonly options: FakeGraphOptions) {
    this.identity = options.identity;
    this.latencyMs = options.latencyMs ?? 0;
    this.sendDelayMs = options.sendDelayMs ?? 0;
    this.mailboxConcurrencyLimit = options.mailboxConcurrencyLimit;
    this.subscriptionStore = new Subscriptions({
      findMailbox: (ref, tenantId) => {
        const mailbox = this.lookup(ref);
        return mailbox && mailbox.tenantId === tenantId ? mailbox : undefined;
      },
      maxMinutes: () => options.maxSubscriptionMinutes ?? 10_080,
      validationTimeoutMs: () => options.validationTimeoutMs ?? 10_000,
      notificationTimeoutMs: () => options.notificationTimeoutMs ?? 3_000,
      dropped: (mailbox) => this.droppedFor.has(mailbox.address),
      track: (work) => this.track(work),
    });
  }

  get notifications(): readonly NotificationRecord[] {
    return this.subscriptionStore.notifications;
  }

  get validations(): readonly ValidationRecord[] {
    return this.subscriptionStore.validations;
  }

  async start(): Promise<void> {
    const server = createServer(this.identity.serverTls, (req, res) => {
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
    this.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.url = `${this.origin}/v1.0`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const [timer, release] of this.timers) {
      clearTimeout(timer);
      release();
    }
    this.timers.clear();
    await this.idle();
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Waits until every notification post and every pending send has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  // ---- mailbox side -----------------------------------------------------------------------------

  addMailbox(address: string, options: { tenantId?: string; userId?: string; displayName?: string } = {}): { userId: string } {
    const tenantId = (options.tenantId ?? this.options.tenantId)?.toLowerCase();
    if (!tenantId) throw new Error('fake-graph: addMailbox needs a tenantId (or FakeGraphOptions.tenantId)');
    const key = address.toLowerCase();
    const mailbox = new Mailbox(key, options.userId ?? newUserId(), tenantId, (box, change) => this.changed(box, change));
    if (options.displayName) mailbox.displayName = options.displayName;
    this.mailboxes.set(key, mailbox);
    this.identity.addTenant(tenantId);
    return { userId: mailbox.userId };
  }

  /** Mail arriving from outside; fires `created` notifications for the subscriptions on that folder. */
  deliver(address: string, raw: Buffer, options: { folder?: string; receivedDateTime?: Date; conversationId?: string; isRead?: boolean } = {}): { id: string; regularId: string; conversationId: string; internetMessageId: string } {
    const mailbox = this.mailbox(address);
    const folder = mailbox.folder(options.folder ?? 'inbox');
    if (!folder) throw new Error(`fake-graph: no folder ${options.folder}`);
    const message = mailbox.deliver(raw, folder.id, options);
    return { id: message.immutableId, regularId: message.regularId, conversationId: message.conversationId, internetMessageId: message.internetMessageId };
  }

  /** A move (by a user or a rule): new regular id, same immutable id; `deleted` in the source folder, `created` in the destination. */
  move(address: string, id: string, folder: string): { id: string; regularId: string } {
    const mailbox = this.mailbox(address);
    const message = this.find(mailbox, id);
    const destination = mailbox.folder(folder);
    if (!destination) throw new Error(`fake-graph: no folder ${folder}`);
    mailbox.move(message, destination.id);
    return { id: message.immutableId, regularId: message.regularId };
  }

  /** Permanently deletes a message: reads answer 404 and delta reports it removed. */
  deleteMessage(address: string, id: string): void {
    const mailbox = this.mailbox(address);
    mailbox.remove(this.find(mailbox, id));
  }

  setRead(address: string, id: string, isRead: boolean): void {
    const mailbox = this.mailbox(address);
    const message = this.find(mailbox, id);
    message.isRead = isRead;
    mailbox.touch(message);
  }

  message(address: string, id: string): Readonly<StoredMessage> | undefined {
    return this.mailbox(address).find(id);
  }

  messages(address: string, folder?: string): Array<Readonly<StoredMessage>> {
    const mailbox = this.mailbox(address);
    if (folder === undefined) return [...mailbox.messages.values()];
    const target = mailbox.folder(folder);
    return target ? mailbox.inFolder(target.id) : [];
  }

  sent(address: string): SentRecord[] {
    return this.sentMessages.filter((s) => s.address === address.toLowerCase());
  }

  /**
   * Every delta/skip token issued for the mailbox stops working. By default they answer 410
   * SyncStateNotFound (an expired token); `reset: true` answers 410 resyncRequired with a Location to
   * restart from, as for a sync reset.
   */
  expireDeltaTokens(address: string, options: { reset?: boolean } = {}): void {
    this.mailbox(address).expireSyncStates(options.reset ?? false);
  }

  /** While on, change notifications for the mailbox are recorded as dropped and never posted. */
  dropNotifications(address: string, on: boolean): void {
    const key = this.mailbox(address).address;
    if (on) this.droppedFor.add(key);
    else this.droppedFor.delete(key);
  }

  sendLifecycle(subscriptionId: string, event: LifecycleEvent): Promise<Delivery> {
    return this.subscriptionStore.sendLifecycle(subscriptionId, event);
  }

  subscriptions(address?: string): Subscription[] {
    return [...this.subscriptionStore.all.keys()]
      .map((id) => this.subscriptionStore.live(id))
      .filter((s): s is Subscription => s !== undefined && (address === undefined || s.mailbox.address === address.toLowerCase()));
  }

  // ---- faults and counters ----------------------------------------------------------------------

  /**
   * Faults for matching requests, consumed in order. A status fault answers instead of the API (429
   * or 5xx in Graph's error JSON, with Retry-After in seconds when given); a reset drops the
   * connection before the request takes effect; a delay lets it take effect and holds the answer; a
   * cut sends the answer's headers and the first bytes of its body, then closes the connection.
   */
  injectFaults(match: FaultMatch, faults: Fault[]): void {
    this.faults.push({ match, queue: [...faults] });
  }

  count(method: string, pathIncludes: string): number {
    return this.requests.filter((r) => r.method === method.toUpperCase() && r.path.includes(pathIncludes)).length;
  }

  /** The highest number of requests about this mailbox the fake has seen at the same time. */
  maxInFlight(address: string): number {
    return this.inFlightMax.get(address.toLowerCase()) ?? 0;
  }

  inFlight(address: string): number {
    return this.inFlightNow.get(address.toLowerCase()) ?? 0;
  }

  resetCounters(): void {
    this.requests.length = 0;
    this.inFlightMax.clear();
  }

  // ---- the server -------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', this.origin);
    const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);
    const requestId = randomUUID();
    const clientRequestId = headerString(req.headers['client-request-id']) ?? requestId;
    const mailbox = segments[1]?.toLowerCase() === 'users' && segments[2] ? this.lookup(segments[2]) : undefined;
    const record: RecordedRequest = { method, path: segments.length ? `/${segments.join('/')}` : '/', query: url.searchParams, at: Date.now(), user: mailbox?.address };
    this.requests.push(record);
    const key = mailbox?.address;
    if (key) {
      const now = (this.inFlightNow.get(key) ?? 0) + 1;
      this.inFlightNow.set(key, now);
      this.inFlightMax.set(key, Math.max(now, this.inFlightMax.get(key) ?? 0));
      res.once('close', () => this.inFlightNow.set(key, (this.inFlightNow.get(key) ?? 1) - 1));
    }
    const reply = (outcome: Outcome): Promise<void> => {
      record.status = outcome.status;
      return this.write(res, outcome, requestId, clientRequestId);
    };

    const body = await readBody(req);
    if (!body) return;
    const fault = this.takeFault(method, record.path, key);
    if (fault && 'resetConnection' in fault) return void req.socket.destroy();
    if (fault && 'status' in fault) return reply(faultFailure(fault));
    if (key && this.mailboxConcurrencyLimit !== undefined && (this.inFlightNow.get(key) ?? 0) > this.mailboxConcurrencyLimit) {
      return reply(fail(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' }));
    }
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);

    let outcome: Outcome;
    try {
      outcome = await this.route(method, segments, url, req, body, mailbox);
    } catch (error) {
      this.errors.push(error);
      outcome = fail(500, 'generalException', 'An unspecified error has occurred.');
    }
    if (fault && 'delayMs' in fault) await this.sleep(fault.delayMs);
    if (fault && 'cutBodyAfterBytes' in fault) cutBodyAfter(res, fault.cutBodyAfterBytes);
    await reply(outcome);
  }

  private async route(method: string, segments: string[], url: URL, req: IncomingMessage, body: Buffer, mailbox: Mailbox | undefined): Promise<Outcome> {
    const [version, collection, userRef, ...rest] = segments;
    if (version !== 'v1.0') return fail(400, 'BadRequest', `Invalid version: ${version ?? ''}`);
    const claims = await this.identity.verifyAccessToken(bearer(req.headers.authorization));
    if ('rejected' in claims) return unauthorized(claims.rejected);
    const prefer = parsePrefer(headerString(req.headers.prefer));
    const immutable = prefer.idType === 'immutableid';
    if (collection?.toLowerCase() === 'organization') {
      return routeOrganization({ method, id: userRef, rest, query: url.searchParams, claims, organization: this.identity.organization(claims.tenantId), root: this.url });
    }
    if (collection?.toLowerCase() === 'me') return fail(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    if (collection?.toLowerCase() === 'subscriptions') {
      return this.subscriptionStore.route({ method, tokens: pathTokens(segments.slice(2)), body, tenantId: claims.tenantId, clientId: claims.clientId, roles: claims.roles, immutable, root: this.url });
    }
    if (collection?.toLowerCase() !== 'users' || !userRef) return fail(400, 'BadRequest', `Resource not found for the segment '${collection ?? ''}'.`);
    if (!mailbox || mailbox.tenantId !== claims.tenantId) return fail(404, 'ErrorInvalidUser', `The requested user '${userRef}' is invalid.`);
    return routeMail(
      {
        mailbox,
        method,
        tokens: pathTokens(rest),
        userRef,
        query: url.searchParams,
        body,
        contentType: headerString(req.headers['content-type']) ?? '',
        immutable,
        maxPageSize: prefer.maxPageSize,
        roles: claims.roles,
        root: this.url,
        hasContentLength: req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined,
      },
      {
        sendDelayMs: this.sendDelayMs,
        later: (ms, task) => void this.track(this.sleep(ms).then(task)),
        recordSent: (box, message, raw) => this.sentMessages.push({ address: box.address, id: message.immutableId, internetMessageId: message.internetMessageId, raw, at: Date.now() }),
      },
    );
  }

  private async write(res: ServerResponse, outcome: Outcome, requestId: string, clientRequestId: string): Promise<void> {
    if (res.destroyed) return;
    res.statusCode = outcome.status;
    res.setHeader('request-id', requestId);
    res.setHeader('client-request-id', clientRequestId);
    res.setHeader('x-ms-ags-diagnostic', JSON.stringify({ ServerInfo: { DataCenter: 'Loopback', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'fake-graph' } }));
    for (const [name, value] of Object.entries(outcome.headers ?? {})) res.setHeader(name, value);
    if (isFailure(outcome)) return sendText(res, JSON_TYPE, JSON.stringify(errorBody(outcome, requestId, clientRequestId)));
    if (outcome.bytes) {
      res.setHeader('content-type', outcome.bytes.contentType);
      res.setHeader('content-length', outcome.bytes.data.length);
      // Chunked writes with backpressure: a multi-megabyte MIME really streams.
      for (let offset = 0; offset < outcome.bytes.data.length && !res.destroyed; offset += STREAM_CHUNK_BYTES) {
        if (!res.write(outcome.bytes.data.subarray(offset, offset + STREAM_CHUNK_BYTES))) await drained(res);
      }
      res.end();
      return;
    }
    if (outcome.json === undefined) return void res.end();
    sendText(res, JSON_TYPE, JSON.stringify(outcome.json));
  }

  private changed(mailbox: Mailbox, change: MailboxChange): void {
    this.subscriptionStore.onChange(mailbox, change);
  }

  private takeFault(method: string, path: string, user: string | undefined): Fault | undefined {
    for (const rule of this.faults) {
      if (rule.queue.length === 0) continue;
      if (rule.match.method && rule.match.method.toUpperCase() !== method) continue;
      if (rule.match.pathIncludes && !path.includes(rule.match.pathIncludes)) continue;
      if (rule.match.user && rule.match.user.toLowerCase() !== user) continue;
      return rule.queue.shift();
    }
    return undefined;
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => void this.errors.push(error)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  private lookup(ref: string): Mailbox | undefined {
    const lower = ref.toLowerCase();
    return this.mailboxes.get(lower) ?? [...this.mailboxes.values()].find((m) => m.userId.toLowerCase() === lower);
  }

  private mailbox(address: string): Mailbox {
    const mailbox = this.lookup(address);
    if (!mailbox) throw new Error(`fake-graph: no mailbox ${address} (addMailbox first)`);
    return mailbox;
  }

  private find(mailbox: Mailbox, id: string): StoredMessage {
    const message = mailbox.find(id);
    if (!message) throw new Error(`fake-graph: no message ${id} in ${mailbox.address}`);
    return message;
  }
}
