// GraphConnector on the real @microsoft/microsoft-graph-client with app-only tokens from msal-node.
// Every request asks for immutable ids. The client's retry handler is left out of the middleware
// chain: the domain's backoff honours Retry-After and decides when a job goes back to the queue.
// A semaphore per mailbox holds each request — a MIME download until its body is read — so this
// process never has more than four requests in flight for one mailbox.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ConfidentialClientApplication, type Configuration, type INetworkModule } from '@azure/msal-node';
import { AuthenticationHandler, Client, HTTPMessageHandler, ResponseType, type AuthenticationProvider, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphApi, GraphConnector, GraphDeltaPage, GraphMailbox, GraphMessageRef, GraphSubscription } from '../../domain/graph/ports.js';
import { MAX_IN_FLIGHT_PER_MAILBOX } from '../../domain/graph/sync.js';
import { pullOnRead } from '../gmail/pull-on-read.js';
import { MESSAGE_DOWNLOAD_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../system/deadlines.js';
import { translateGraphError } from './graph-errors.js';
import { Semaphore } from './semaphore.js';

export type GraphAppCredential = { clientSecret: string } | { clientCertificate: { thumbprintSha256: string; privateKey: string; x5c?: string } };

export interface MicrosoftGraphOptions {
  clientId: string;
  credential: GraphAppCredential;
  /** `https://graph.microsoft.com` in production; a fake's origin (without the version) elsewhere. */
  graphBaseUrl?: string;
  /** `https://login.microsoftonline.com` in production. msal accepts only https authorities. */
  authorityHost?: string;
  /** Offline metadata so msal makes no discovery call (sandbox and tests). */
  authorityMetadata?: (azureTenantId: string) => string;
  cloudDiscoveryMetadata?: string;
  networkClient?: INetworkModule;
  /** Delta page size (Prefer: odata.maxpagesize). */
  pageSize?: number;
  /**
   * Per-request timeout, the body's download included (as gaxios's for Gmail); a timeout is a
   * throttle to the domain (retried later). Without one, a Graph answer that never comes holds the
   * sync until the Lambda itself times out.
   */
  timeoutMs?: number;
  /**
   * The same for a message's MIME download (`/$value`), whose deadline covers up to 150 MB of body:
   * 30 s would cut a large message on any link slower than 5 MB/s, and every retry would be cut again.
   */
  downloadTimeoutMs?: number;
}

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const IMMUTABLE_IDS = 'IdType="ImmutableId"';

export class MicrosoftGraphConnector implements GraphConnector {
  private readonly apps = new Map<string, ConfidentialClientApplication>();
  private readonly semaphores = new Map<string, Semaphore>();

  constructor(private readonly options: MicrosoftGraphOptions) {}

  open(mailbox: GraphMailbox): GraphApi {
    const key = `${mailbox.azureTenantId}/${mailbox.userId.toLowerCase()}`;
    let semaphore = this.semaphores.get(key);
    if (!semaphore) this.semaphores.set(key, (semaphore = new Semaphore(MAX_IN_FLIGHT_PER_MAILBOX)));
    const app = this.app(mailbox.azureTenantId);
    const authProvider: AuthenticationProvider = {
      getAccessToken: async () => {
        try {
          const result = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
          if (!result?.accessToken) throw new Error('no access token');
          return result.accessToken;
        } catch (error) {
          throw translateGraphError(error);
        }
      },
    };
    // A deadline, authentication, then the request itself: no retry, redirect or telemetry handlers.
    const timeout = new TimeoutHandler(this.options.timeoutMs ?? REQUEST_TIMEOUT_MS, this.options.downloadTimeoutMs ?? MESSAGE_DOWNLOAD_TIMEOUT_MS);
    const auth = new AuthenticationHandler(authProvider);
    timeout.setNext(auth);
    auth.setNext(new HTTPMessageHandler());
    const baseUrl = (this.options.graphBaseUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
    const client = Client.initWithMiddleware({
      middleware: timeout,
      baseUrl,
      defaultVersion: 'v1.0',
      // The SDK sends the bearer token only to Graph's own hosts and these.
      ...(this.options.graphBaseUrl ? { customHosts: new Set([new URL(baseUrl).hostname]) } : {}),
    });
    return new MicrosoftGraphApi(client, mailbox.userId, semaphore, this.options.pageSize);
  }

  /** One msal app per customer tenant: its authority names the tenant, and it caches that tenant's token. */
  private app(azureTenantId: string): ConfidentialClientApplication {
    let app = this.apps.get(azureTenantId);
    if (app) return app;
    const host = (this.options.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
    const config: Configuration = {
      auth: {
        clientId: this.options.clientId,
        authority: `${host}/${azureTenantId}`,
        ...this.options.credential,
        // Another authority than Microsoft's (the sandbox's) is trusted by name, so msal never asks
        // Microsoft's instance discovery about it.
        ...(this.options.authorityHost ? { knownAuthorities: [new URL(host).host] } : {}),
        ...(this.options.authorityMetadata ? { authorityMetadata: this.options.authorityMetadata(azureTenantId) } : {}),
        ...(this.options.cloudDiscoveryMetadata ? { cloudDiscoveryMetadata: this.options.cloudDiscoveryMetadata } : {}),
      },
      ...(this.options.networkClient ? { system: { networkClient: this.options.networkClient } } : {}),
    };
    app = new ConfidentialClientApplication(config);
    this.apps.set(azureTenantId, app);
    return app;
  }
}

/** Gives each request its own deadline (an AbortSignal), ahead of the rest of the chain. */
class TimeoutHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly ms: number,
    private readonly downloadMs: number,
  ) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const deadline = AbortSignal.timeout(/\/\$value(?:\?|$)/.test(url) ? this.downloadMs : this.ms);
    const own = context.options?.signal;
    context.options = { ...context.options, signal: own ? AbortSignal.any([own, deadline]) : deadline };
    if (!this.next) throw new Error('TimeoutHandler needs a next middleware');
    await this.next.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** A failed raw answer in the shape translateGraphError reads: status, Graph's error code, headers. */
async function graphFailure(response: Response): Promise<Error> {
  const text = await response.text().catch(() => '');
  let code: string | null = null;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    // Not Graph's JSON error body: the status alone decides.
  }
  return Object.assign(new Error(`Graph answered ${response.status}`), { statusCode: response.status, code, headers: response.headers });
}

interface GraphMessageJson {
  id?: string;
  conversationId?: string;
  isDraft?: boolean;
  internetMessageId?: string | null;
  '@removed'?: unknown;
}

class MicrosoftGraphApi implements GraphApi {
  private readonly user: string;

  constructor(
    private readonly client: Client,
    private readonly userId: string,
    private readonly semaphore: Semaphore,
    private readonly pageSize = 50,
  ) {
    this.user = `/users/${encodeURIComponent(userId)}`;
  }

  private async request<T>(send: () => Promise<T>, notFound?: 'message' | 'delta'): Promise<T> {
    const release = await this.semaphore.acquire();
    try {
      return await send();
    } catch (error) {
      throw translateGraphError(error, notFound ? { notFound } : {});
    } finally {
      release();
    }
  }

  async delta(from: { link: string } | { since: Date }): Promise<GraphDeltaPage> {
    const path =
      'link' in from
        ? from.link
        : `${this.user}/mailFolders/inbox/messages/delta?changeType=created&$select=id,conversationId,receivedDateTime&$filter=receivedDateTime+ge+${from.since.toISOString()}`;
    const page = (await this.request(
      () => this.client.api(path).header('Prefer', `${IMMUTABLE_IDS}, odata.maxpagesize=${this.pageSize}`).get() as Promise<{ value?: GraphMessageJson[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }>,
      'delta',
    )) ?? {};
    const messages: GraphMessageRef[] = (page.value ?? [])
      .filter((m) => m.id && m['@removed'] === undefined)
      .map((m) => ({ id: m.id as string, ...(m.conversationId ? { conversationId: m.conversationId } : {}) }));
    return {
      messages,
      ...(page['@odata.nextLink'] ? { nextLink: page['@odata.nextLink'] } : {}),
      ...(page['@odata.deltaLink'] ? { deltaLink: page['@odata.deltaLink'] } : {}),
    };
  }

  async getMime(id: string): Promise<Readable> {
    const release = await this.semaphore.acquire();
    try {
      // RAW, not STREAM: the SDK turns a failed STREAM answer into an error without its headers or
      // body, so Graph's Retry-After (and error code) on a throttled download was lost.
      const response = (await this.client.api(`${this.user}/messages/${encodeURIComponent(id)}/$value`).header('Prefer', IMMUTABLE_IDS).responseType(ResponseType.RAW).get()) as Response;
      if (!response.ok) throw await graphFailure(response);
      if (!response.body) throw new Error('Graph answered a message download without a body');
      const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      // The slot is held until the body is read (or abandoned): that is when Graph's request ends.
      source.once('close', release);
      source.once('error', release);
      // A connection lost mid-body (or the deadline passing) fails the ingest as a provider fault
      // the sync retries, never as an unknown error, and never as a short message.
      return pullOnRead(source, (error) => translateGraphError(error));
    } catch (error) {
      release();
      throw translateGraphError(error, { notFound: 'message' });
    }
  }

  async findByInternetMessageId(internetMessageId: string): Promise<GraphMessageRef | undefined> {
    // An OData string literal doubles its quotes; the query string needs '+' (common in Message-IDs)
    // escaped, or it reads as a space.
    const literal = `<${internetMessageId.replace(/^<|>$/g, '')}>`.replace(/'/g, "''");
    const filter = encodeURIComponent(`internetMessageId eq '${literal}'`);
    const result = (await this.request(() =>
      this.client.api(`${this.user}/messages?$filter=${filter}&$select=id,conversationId&$top=1`).header('Prefer', IMMUTABLE_IDS).get(),
    )) as { value?: GraphMessageJson[] };
    const found = result.value?.[0];
    return found?.id ? { id: found.id, ...(found.conversationId ? { conversationId: found.conversationId } : {}) } : undefined;
  }

  async createSubscription(input: { notificationUrl: string; lifecycleNotificationUrl: string; clientState: string; expiresAt: Date }): Promise<GraphSubscription> {
    const created = (await this.request(() =>
      this.client
        .api('/subscriptions')
        .header('Prefer', IMMUTABLE_IDS)
        .post({
          changeType: 'created',
          notificationUrl: input.notificationUrl,
          lifecycleNotificationUrl: input.lifecycleNotificationUrl,
          resource: `users/${this.userId}/mailFolders('inbox')/messages`,
          expirationDateTime: input.expiresAt.toISOString(),
          clientState: input.clientState,
        }),
    )) as { id?: string; expirationDateTime?: string };
    if (!created.id || !created.expirationDateTime) throw new Error('Graph created a subscription without id or expiration');
    return { id: created.id, expiresAt: new Date(created.expirationDateTime) };
  }

  async renewSubscription(id: string, expiresAt: Date): Promise<Date> {
    const renewed = (await this.request(() => this.client.api(`/subscriptions/${encodeURIComponent(id)}`).patch({ expirationDateTime: expiresAt.toISOString() }))) as {
      expirationDateTime?: string;
    };
    return new Date(renewed.expirationDateTime ?? expiresAt.toISOString());
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.request(() => this.client.api(`/subscriptions/${encodeURIComponent(id)}`).delete());
  }

  async createReplyDraft(messageId: string): Promise<string> {
    const draft = (await this.request(
      () => this.client.api(`${this.user}/messages/${encodeURIComponent(messageId)}/createReply`).header('Prefer', IMMUTABLE_IDS).post({}),
      'message',
    )) as GraphMessageJson;
    if (!draft.id) throw new Error('Graph created a reply draft without an id');
    return draft.id;
  }

  async updateDraft(draftId: string, content: { text: string; html?: string; headers: Record<string, string> }): Promise<void> {
    await this.request(
      () =>
        this.client
          .api(`${this.user}/messages/${encodeURIComponent(draftId)}`)
          .header('Prefer', IMMUTABLE_IDS)
          .patch({
            body: content.html ? { contentType: 'html', content: content.html } : { contentType: 'text', content: content.text },
            internetMessageHeaders: Object.entries(content.headers).map(([name, value]) => ({ name, value })),
          }),
      'message',
    );
  }

  async sendDraft(draftId: string): Promise<void> {
    await this.request(() => this.client.api(`${this.user}/messages/${encodeURIComponent(draftId)}/send`).header('Prefer', IMMUTABLE_IDS).post({}), 'message');
  }

  async getMessageState(id: string): Promise<{ isDraft: boolean; internetMessageId: string | null } | undefined> {
    try {
      const message = (await this.request(
        () => this.client.api(`${this.user}/messages/${encodeURIComponent(id)}`).header('Prefer', IMMUTABLE_IDS).select('isDraft,internetMessageId').get(),
        'message',
      )) as GraphMessageJson;
      return { isDraft: message.isDraft === true, internetMessageId: message.internetMessageId?.replace(/^<|>$/g, '') ?? null };
    } catch (error) {
      if ((error as { code?: string }).code === 'provider_not_found') return undefined;
      throw error;
    }
  }
}
