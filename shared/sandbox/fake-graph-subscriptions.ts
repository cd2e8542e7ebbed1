// /subscriptions for Outlook messages and the notifications they cause. Creating one validates the
// notificationUrl and the lifecycleNotificationUrl with the handshake before answering 201; the
// expiration may be at most 10,080 minutes ahead (change-notifications-subscription-lifetime, Outlook
// message). Changes in a watched mailbox become change notifications carrying the subscription's
// clientState, with immutable ids when the subscription was created with Prefer: IdType="ImmutableId".
import { randomBytes, randomUUID } from 'node:crypto';
import { fail, isFailure, type Failure, type Outcome } from './fake-graph-json.js';
import { pathTokens } from './fake-graph-routes.js';
import type { ChangeType, Mailbox, MailboxChange } from './fake-graph-store.js';
import { newValidationToken, postNotifications, validateEndpoint, type ChangeNotification, type Delivery, type LifecycleEvent } from './graph-notifier.js';

export interface Subscription {
  id: string;
  resource: string;
  changeTypes: ChangeType[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | undefined;
  clientState: string | null;
  expirationDateTime: Date;
  applicationId: string;
  tenantId: string;
  mailbox: Mailbox;
  /** Undefined: the whole mailbox (`users/{id}/messages`). */
  folderId: string | undefined;
  immutableIds: boolean;
  /** After a reauthorizationRequired challenge, change notifications pause until PATCH or /reauthorize. */
  needsReauthorization: boolean;
  latestSupportedTlsVersion: string;
}

export interface NotificationRecord {
  subscriptionId: string;
  address: string;
  kind: 'change' | 'lifecycle';
  changeType?: ChangeType;
  lifecycleEvent?: LifecycleEvent;
  /** The id the notification carried (immutable or regular, as the subscription asked). */
  messageId?: string;
  /** Not sent: `dropped` (dropNotifications), `paused` (awaiting reauthorization). */
  skipped?: 'dropped' | 'paused';
  delivery?: Delivery;
  at: number;
}

export interface ValidationRecord {
  url: string;
  token: string;
  ok: boolean;
  code?: string;
  delivery: Delivery;
}

export interface SubscriptionRequest {
  method: string;
  /** Path tokens after /subscriptions. */
  tokens: string[];
  body: Buffer;
  tenantId: string;
  clientId: string;
  roles: string[];
  immutable: boolean;
  root: string;
}

export interface SubscriptionDeps {
  /** A mailbox by user id or address, within a tenant. */
  findMailbox(userRef: string, tenantId: string): Mailbox | undefined;
  maxMinutes: () => number;
  validationTimeoutMs: () => number;
  notificationTimeoutMs: () => number;
  dropped(mailbox: Mailbox): boolean;
  track(work: Promise<unknown>): void;
}

const READ_ROLES = ['Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'];

export class Subscriptions {
  readonly all = new Map<string, Subscription>();
  readonly notifications: NotificationRecord[] = [];
  readonly validations: ValidationRecord[] = [];

  constructor(private readonly deps: SubscriptionDeps) {}

  async route(req: SubscriptionRequest): Promise<Outcome> {
    const [id, action, ...extra] = req.tokens;
    if (extra.length > 0) return fail(400, 'BadRequest', `Resource not found for the segment '${extra[0]}'.`);
    if (!req.roles.some((r) => READ_ROLES.includes(r))) return fail(403, 'ExtensionError', 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied. Check credentials and try again.]');
    if (id === undefined) {
      if (req.method === 'GET') return { status: 200, json: { '@odata.context': `${req.root}/$metadata#subscriptions`, value: this.owned(req).map((s) => this.json(s, req.root)) } };
      if (req.method === 'POST') return this.create(req);
      return fail(405, 'BadRequest', `The HTTP method '${req.method}' is not allowed on this resource.`);
    }
    const subscription = this.live(id);
    if (!subscription || subscription.applicationId !== req.clientId || subscription.tenantId !== req.tenantId) return fail(404, 'ResourceNotFound', 'The object was not found.');
    if (action !== undefined) {
      if (action.toLowerCase() === 'reauthorize' && req.method === 'POST') {
        subscription.needsReauthorization = false;
        return { status: 204 };
      }
      return fail(400, 'BadRequest', `Resource not found for the segment '${action}'.`);
    }
    if (req.method === 'GET') return { status: 200, json: this.json(subscription, req.root, true) };
    if (req.method === 'DELETE') {
      this.all.delete(subscription.id);
      return { status: 204 };
    }
    if (req.method === 'PATCH') {
      const body = parseJson(req.body);
      if (isFailure(body)) return body;
      const expiration = this.expiration(body.expirationDateTime);
      if (isFailure(expiration)) return expiration;
      subscription.expirationDateTime = expiration;
      // Renewing also reauthorizes (change-notifications-lifecycle-events).
      subscription.needsReauthorization = false;
      return { status: 200, json: this.json(subscription, req.root, true) };
    }
    return fail(405, 'BadRequest', `The HTTP method '${req.method}' is not allowed on this resource.`);
  }

  /** Fans a mailbox change out to the subscriptions watching it. */
  onChange(mailbox: Mailbox, change: MailboxChange): void {
    for (const subscription of this.all.values()) {
      if (subscription.mailbox !== mailbox || !this.live(subscription.id)) continue;
      let changeType: ChangeType = change.changeType;
      if (subscription.folderId !== undefined) {
        if (subscription.folderId !== change.folderId) continue;
      } else if (change.move === 'out') {
        continue;
      } else if (change.move === 'in') {
        // Mailbox-wide, a move is one item changing folder, not a removal and a creation.
        changeType = 'updated';
      }
      if (!subscription.changeTypes.includes(changeType)) continue;
      const messageId = subscription.immutableIds ? change.message.immutableId : change.regularId;
      const record: NotificationRecord = { subscriptionId: subscription.id, address: mailbox.address, kind: 'change', changeType, messageId, at: Date.now() };
      this.notifications.push(record);
      if (this.deps.dropped(mailbox)) record.skipped = 'dropped';
      else if (subscription.needsReauthorization) record.skipped = 'paused';
      if (record.skipped) continue;
      const userPath = `${mailbox.userId}@${mailbox.tenantId}`;
      const notification: ChangeNotification = {
        id: randomBytes(12).toString('base64url'),
        subscriptionId: subscription.id,
        subscriptionExpirationDateTime: subscription.expirationDateTime.toISOString(),
        changeType,
        resource: `users/${userPath}/messages/${messageId}`,
        resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': `Users/${userPath}/Messages/${messageId}`, '@odata.etag': `W/"${change.message.changeKey}"`, id: messageId },
        clientState: subscription.clientState,
        tenantId: mailbox.tenantId,
      };
      this.deps.track(postNotifications(subscription.notificationUrl, [notification], this.deps.notificationTimeoutMs()).then((delivery) => (record.delivery = delivery)));
    }
  }

  async sendLifecycle(subscriptionId: string, event: LifecycleEvent): Promise<Delivery> {
    const subscription = this.live(subscriptionId);
    if (!subscription) throw new Error(`fake-graph: no subscription ${subscriptionId}`);
    if (!subscription.lifecycleNotificationUrl) throw new Error(`fake-graph: subscription ${subscriptionId} has no lifecycleNotificationUrl, so Graph sends it no lifecycle notifications`);
    const record: NotificationRecord = { subscriptionId, address: subscription.mailbox.address, kind: 'lifecycle', lifecycleEvent: event, at: Date.now() };
    this.notifications.push(record);
    if (event === 'reauthorizationRequired') subscription.needsReauthorization = true;
    if (event === 'subscriptionRemoved') this.all.delete(subscriptionId);
    const work = postNotifications(
      subscription.lifecycleNotificationUrl,
      [{ subscriptionId, subscriptionExpirationDateTime: subscription.expirationDateTime.toISOString(), tenantId: subscription.tenantId, clientState: subscription.clientState, lifecycleEvent: event }],
      this.deps.notificationTimeoutMs(),
    );
    this.deps.track(work);
    record.delivery = await work;
    return record.delivery;
  }

  /** A subscription that has not expired; expired ones are gone, as Graph deletes them. */
  live(id: string): Subscription | undefined {
    const subscription = this.all.get(id);
    if (subscription && subscription.expirationDateTime.getTime() <= Date.now()) {
      this.all.delete(id);
      return undefined;
    }
    return subscription;
  }

  private owned(req: SubscriptionRequest): Subscription[] {
    return [...this.all.keys()].map((id) => this.live(id)).filter((s): s is Subscription => s !== undefined && s.applicationId === req.clientId && s.tenantId === req.tenantId);
  }

  private async create(req: SubscriptionRequest): Promise<Outcome> {
    const body = parseJson(req.body);
    if (isFailure(body)) return body;
    const changeTypes = typeof body.changeType === 'string' ? body.changeType.split(',').map((c) => c.trim()) : [];
    if (changeTypes.length === 0 || !changeTypes.every((c): c is ChangeType => ['created', 'updated', 'deleted'].includes(c))) {
      return fail(400, 'InvalidRequest', `Invalid 'changeType' attribute: '${String(body.changeType ?? '')}'.`);
    }
    const notificationUrl = urlOf(body.notificationUrl);
    if (!notificationUrl) return fail(400, 'InvalidRequest', "Invalid 'notificationUrl' attribute.");
    const lifecycleNotificationUrl = body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null ? undefined : urlOf(body.lifecycleNotificationUrl);
    if (lifecycleNotificationUrl === null) return fail(400, 'InvalidRequest', "Invalid 'lifecycleNotificationUrl' attribute.");
    const clientState = typeof body.clientState === 'string' ? body.clientState : null;
    if (clientState !== null && clientState.length > 128) return fail(400, 'InvalidRequest', "'clientState' is limited to 128 characters.");
    if (body.includeResourceData === true) return fail(501, 'NotImplemented', 'fake-graph: rich notifications (includeResourceData) are not implemented');
    const expiration = this.expiration(body.expirationDateTime);
    if (isFailure(expiration)) return expiration;
    const target = this.resource(body.resource, req.tenantId);
    if (isFailure(target)) return target;
    // Graph validates every endpoint before it answers (change-notifications-delivery-webhooks).
    for (const url of [notificationUrl, lifecycleNotificationUrl]) {
      if (url === undefined) continue;
      const token = newValidationToken();
      const outcome = await validateEndpoint(url, token, this.deps.validationTimeoutMs());
      this.validations.push({ url, token, ok: outcome.ok, ...(outcome.ok ? {} : { code: outcome.code }), delivery: outcome.delivery });
      if (!outcome.ok) return fail(outcome.status, outcome.code, outcome.message);
    }
    const subscription: Subscription = {
      id: randomUUID(),
      resource: String(body.resource),
      changeTypes,
      notificationUrl,
      lifecycleNotificationUrl,
      clientState,
      expirationDateTime: expiration,
      applicationId: req.clientId,
      tenantId: req.tenantId,
      mailbox: target.mailbox,
      folderId: target.folderId,
      immutableIds: req.immutable,
      needsReauthorization: false,
      latestSupportedTlsVersion: typeof body.latestSupportedTlsVersion === 'string' ? body.latestSupportedTlsVersion : 'v1_2',
    };
    this.all.set(subscription.id, subscription);
    return { status: 201, json: this.json(subscription, req.root, true) };
  }

  private expiration(value: unknown): Date | Failure {
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) return fail(400, 'InvalidRequest', "Invalid 'expirationDateTime' attribute.");
    if (date.getTime() <= Date.now()) return fail(400, 'InvalidRequest', 'Subscription expiration must be in the future.');
    const max = this.deps.maxMinutes();
    if (date.getTime() > Date.now() + max * 60_000) return fail(400, 'ExtensionError', `Subscription expiration can only be ${max} minutes in the future.`);
    return date;
  }

  /** The documented Outlook message resources: users/{id}/messages and users/{id}/mailFolders('{folder}')/messages. */
  private resource(value: unknown, tenantId: string): { mailbox: Mailbox; folderId: string | undefined } | Failure {
    if (typeof value !== 'string' || value.trim() === '') return fail(400, 'InvalidRequest', "Invalid 'resource' attribute.");
    const tokens = pathTokens(value.replace(/^\/+/, '').split('/').map((s) => decodeURIComponent(s)));
    if (tokens[0]?.toLowerCase() === 'me') return fail(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    const unsupported = (): Failure => fail(400, 'InvalidRequest', `fake-graph: only Outlook message resources are supported, not '${value}'`);
    if (tokens[0]?.toLowerCase() !== 'users' || tokens[1] === undefined) return unsupported();
    const mailbox = this.deps.findMailbox(tokens[1], tenantId);
    if (!mailbox) return fail(404, 'ResourceNotFound', `The requested user '${tokens[1]}' is invalid.`);
    const rest = tokens.slice(2).map((t, i) => (i === 1 ? t : t.toLowerCase()));
    if (rest.length === 1 && rest[0] === 'messages') return { mailbox, folderId: undefined };
    if (rest.length === 3 && rest[0] === 'mailfolders' && rest[2] === 'messages') {
      const folder = mailbox.folder(rest[1] as string);
      if (!folder) return fail(404, 'ResourceNotFound', `The folder '${rest[1]}' was not found.`);
      return { mailbox, folderId: folder.id };
    }
    return unsupported();
  }

  private json(s: Subscription, root: string, entity = false): Record<string, unknown> {
    return {
      ...(entity ? { '@odata.context': `${root}/$metadata#subscriptions/$entity` } : {}),
      id: s.id,
      resource: s.resource,
      applicationId: s.applicationId,
      changeType: s.changeTypes.join(','),
      clientState: s.clientState,
      notificationUrl: s.notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: s.lifecycleNotificationUrl ?? null,
      expirationDateTime: s.expirationDateTime.toISOString(),
      creatorId: s.applicationId,
      includeResourceData: false,
      latestSupportedTlsVersion: s.latestSupportedTlsVersion,
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
  }
}

function parseJson(body: Buffer): Record<string, unknown> | Failure {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return fail(400, 'RequestBodyRead', 'The request body must be a JSON object.');
}

/** An absolute http(s) URL, undefined when absent, null when malformed. */
function urlOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}
