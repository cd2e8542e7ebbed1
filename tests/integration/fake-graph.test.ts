// The fake Microsoft Graph and identity platform, driven through the real @azure/msal-node and
// @microsoft/microsoft-graph-client: if these pass, an adapter written against the real services can
// run against the fakes unchanged.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGraph } from '../../shared/sandbox/fake-graph.js';
import { createClientCertificate } from '../../shared/sandbox/fake-graph-tls.js';
import { CaTrustingNetworkModule, FakeIdentity, trustCaInProcess } from '../../shared/sandbox/fake-identity.js';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

interface WebhookCall {
  path: string;
  validationToken: string | null;
  body: unknown;
}

/** A webhook as an adapter would write it: echoes validation tokens, takes notifications with 202. */
class Webhook {
  readonly calls: WebhookCall[] = [];
  url = '';
  private server: Server | undefined;
  private waiters: Array<() => void> = [];

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.read(req).then((text) => {
        const url = new URL(req.url ?? '/', 'http://webhook.invalid');
        const validationToken = url.searchParams.get('validationToken');
        this.calls.push({ path: url.pathname, validationToken, body: text ? (JSON.parse(text) as unknown) : undefined });
        for (const wake of this.waiters.splice(0)) wake();
        if (url.pathname === '/refuses') return void res.writeHead(404).end();
        if (validationToken !== null && url.pathname === '/echoes-raw-query') {
          // A classic bug: echoing the still-encoded query value.
          const raw = /validationToken=([^&]*)/.exec(req.url ?? '')?.[1] ?? '';
          return void res.writeHead(200, { 'content-type': 'text/plain' }).end(raw);
        }
        if (validationToken !== null) return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(validationToken);
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  notifications(path: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.path === path && c.validationToken === null).flatMap((c) => (c.body as { value: Array<Record<string, unknown>> }).value);
  }

  /** Resolves once `predicate` holds, failing the test after `ms`. */
  async until(predicate: () => boolean, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('webhook: condition not reached in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private async read(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
}

function mail(options: { from?: string; to: string; subject: string; messageId?: string; body?: string; inReplyTo?: string }): Buffer {
  return Buffer.from(
    [
      `From: ${options.from ?? 'Customer <customer@example.org>'}`,
      `To: ${options.to}`,
      `Subject: ${options.subject}`,
      `Message-ID: ${options.messageId ?? `<${randomUUID()}@example.org>`}`,
      ...(options.inReplyTo ? [`In-Reply-To: ${options.inReplyTo}`] : []),
      'Date: Mon, 03 Mar 2025 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      options.body ?? 'Hello, my printer is on fire.',
      '',
    ].join('\r\n'),
  );
}

async function graphFailure(work: Promise<unknown>): Promise<GraphError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error('expected the Graph call to fail');
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('fake Microsoft Graph and identity platform, through msal-node and the Graph SDK', () => {
  const identity = new FakeIdentity();
  let graph: FakeGraph;
  const webhook = new Webhook();
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const clientSecret = randomBytes(24).toString('base64url');
  const address = 'support@contoso.example';
  let userId = '';
  let accessToken = '';
  let client: Client;

  function msalConfig(overrides: Partial<Configuration['auth']> = {}, tenant = tenantId, network = new CaTrustingNetworkModule(identity.caCertPem)): Configuration {
    return {
      auth: {
        clientId,
        clientSecret,
        authority: identity.authority(tenant),
        knownAuthorities: [identity.host],
        authorityMetadata: identity.authorityMetadata(tenant),
        cloudDiscoveryMetadata: identity.cloudDiscoveryMetadata(tenant),
        ...overrides,
      },
      system: { networkClient: network },
    };
  }

  function graphClient(token: () => string | Promise<string>): Client {
    return Client.initWithMiddleware({
      authProvider: { getAccessToken: async () => token() },
      baseUrl: graph.origin,
      defaultVersion: 'v1.0',
      // The SDK only sends the bearer token to Graph's own hosts and these.
      customHosts: new Set(['127.0.0.1']),
    });
  }

  const noRetry = [new RetryHandlerOptions(0, 0)];

  beforeAll(async () => {
    await identity.start();
    identity.registerApp({ clientId, clientSecret, tenants: [tenantId] });
    graph = new FakeGraph({ identity, tenantId });
    await graph.start();
    await webhook.start();
    ({ userId } = graph.addMailbox(address, { displayName: 'Contoso Support' }));
    // The Graph SDK uses global fetch, which has no CA option.
    trustCaInProcess(identity.caCertPem);
    const result = await new ConfidentialClientApplication(msalConfig()).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    accessToken = result?.accessToken ?? '';
    client = graphClient(() => accessToken);
  });

  afterAll(async () => {
    await graph?.stop();
    await webhook.stop();
    await identity.stop();
    expect(graph?.errors ?? []).toEqual([]);
    expect(identity.errors).toEqual([]);
  });

  describe('identity platform', () => {
    it('issues an app-only Graph token for a client secret and msal caches it', async () => {
      const app = new ConfidentialClientApplication(msalConfig());
      const before = identity.countTokenRequests({ tenant: tenantId });
      const first = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      const second = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      expect(first?.tokenType).toBe('Bearer');
      expect(second?.accessToken).toBe(first?.accessToken);
      expect(identity.countTokenRequests({ tenant: tenantId })).toBe(before + 1);
      const claims = decodeJwt(first?.accessToken ?? '');
      expect(claims).toMatchObject({ aud: 'https://graph.microsoft.com', tid: tenantId, appid: clientId, roles: ['Mail.ReadWrite', 'Mail.Send'] });
    });

    it('serves the OpenID configuration and instance discovery msal reads when it is not given them', async () => {
      const config = msalConfig();
      delete config.auth.authorityMetadata;
      delete config.auth.cloudDiscoveryMetadata;
      const result = await new ConfidentialClientApplication(config).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      expect(decodeJwt(result?.accessToken ?? '')).toMatchObject({ tid: tenantId, appid: clientId });
      expect(JSON.parse(identity.authorityMetadata(tenantId))).toMatchObject({ token_endpoint: identity.tokenEndpoint(tenantId), issuer: `${identity.authority(tenantId)}/v2.0` });
    });

    it('is only trusted through the CA the network module is given', async () => {
      // A public root cannot have signed the test server's certificate.
      const app = new ConfidentialClientApplication(msalConfig({}, tenantId, new CaTrustingNetworkModule(tls.rootCertificates[0] as string)));
      await expect(app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] })).rejects.toThrow();
    });

    it('refuses a wrong secret with invalid_client AADSTS7000215', async () => {
      const app = new ConfidentialClientApplication(msalConfig({ clientSecret: 'not-the-secret' }));
      await expect(app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] })).rejects.toMatchObject({ errorCode: 'invalid_client', errorMessage: expect.stringContaining('AADSTS7000215') });
    });

    it('accepts a certificate client assertion signed by msal-node and refuses an unregistered certificate', async () => {
      const certificate = await createClientCertificate();
      const stranger = await createClientCertificate('/CN=stranger');
      const certClientId = randomUUID();
      identity.registerApp({ clientId: certClientId, certificates: [certificate.certPem], tenants: [tenantId] });
      const config = (cert: typeof certificate): Configuration => {
        const base = msalConfig({ clientId: certClientId, clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem } });
        delete (base.auth as { clientSecret?: string }).clientSecret;
        return base;
      };
      const result = await new ConfidentialClientApplication(config(certificate)).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      expect(decodeJwt(result?.accessToken ?? '')).toMatchObject({ appid: certClientId, tid: tenantId });
      await expect(new ConfidentialClientApplication(config(stranger)).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] })).rejects.toMatchObject({ errorCode: 'invalid_client', errorMessage: expect.stringContaining('AADSTS700027') });
    });
  });

  describe('Graph authentication', () => {
    it('answers 401 InvalidAuthenticationToken to a token it did not issue, and /me is refused for app-only tokens', async () => {
      const forged = graphClient(() => 'eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.');
      const error = await graphFailure(forged.api(`/users/${userId}/messages`).get());
      expect(error.statusCode).toBe(401);
      expect(error.code).toBe('InvalidAuthenticationToken');
      expect(error.headers?.get('www-authenticate')).toMatch(/^Bearer /);
      // Graph's error JSON: { error: { code, message, innerError: { date, request-id, client-request-id } } }.
      const body = JSON.parse(String(error.body)) as { code: string; message: string; innerError: Record<string, string> };
      expect(body).toEqual({ code: 'InvalidAuthenticationToken', message: expect.any(String), innerError: { date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/), 'request-id': error.requestId, 'client-request-id': expect.any(String) } });
      const me = await graphFailure(client.api('/me/messages').get());
      expect([me.statusCode, me.code]).toEqual([400, 'BadRequest']);
    });

    it('answers 403 ErrorAccessDenied when the token lacks the role', async () => {
      const readOnly = await identity.issueAccessToken({ tenantId, clientId, roles: ['Mail.Read'] });
      const { id } = graph.deliver(address, mail({ to: address, subject: 'role check' }));
      const error = await graphFailure(graphClient(() => readOnly).api(`/users/${userId}/messages/${id}/createReply`).post({}));
      expect([error.statusCode, error.code]).toEqual([403, 'ErrorAccessDenied']);
    });
  });

  describe('subscriptions and change notifications', () => {
    it('validates both endpoints before answering 201, then posts created notifications with the clientState', async () => {
      const validationsBefore = graph.validations.length;
      const subscription = (await client
        .api('/subscriptions')
        .header('Prefer', 'IdType="ImmutableId"')
        .post({
          changeType: 'created',
          notificationUrl: `${webhook.url}/notify`,
          lifecycleNotificationUrl: `${webhook.url}/lifecycle`,
          resource: `users/${userId}/mailFolders('inbox')/messages`,
          expirationDateTime: new Date(Date.now() + 24 * 3600_000).toISOString(),
          clientState: 'state-1',
        })) as { id: string; clientState: string; resource: string };
      expect(subscription).toMatchObject({ clientState: 'state-1', resource: `users/${userId}/mailFolders('inbox')/messages` });
      const validations = graph.validations.slice(validationsBefore);
      expect(validations.map((v) => [new URL(v.url).pathname, v.ok])).toEqual([['/notify', true], ['/lifecycle', true]]);
      // The webhook got the decoded token, spaces and symbols included.
      expect(webhook.calls.filter((c) => c.validationToken !== null).map((c) => c.validationToken)).toEqual(expect.arrayContaining(validations.map((v) => v.token)));
      expect(validations[0]?.token).toMatch(/ .*&.*\+/);

      const { id } = graph.deliver(address, mail({ to: address, subject: 'Printer on fire' }));
      await webhook.until(() => webhook.notifications('/notify').some((n) => (n.resourceData as { id: string }).id === id));
      const notification = webhook.notifications('/notify').find((n) => (n.resourceData as { id: string }).id === id);
      expect(notification).toMatchObject({
        subscriptionId: subscription.id,
        changeType: 'created',
        clientState: 'state-1',
        tenantId,
        resource: `users/${userId}@${tenantId}/messages/${id}`,
        resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': `Users/${userId}@${tenantId}/Messages/${id}`, id },
      });
      await graph.idle();
      expect(graph.notifications.find((n) => n.messageId === id)?.delivery?.status).toBe(202);
      await client.api(`/subscriptions/${subscription.id}`).delete();
    });

    it('fails creation with ValidationError when the endpoint does not answer the handshake correctly', async () => {
      const base = { changeType: 'created', resource: `users/${address}/messages`, expirationDateTime: new Date(Date.now() + 3600_000).toISOString(), clientState: 's' };
      const refused = await graphFailure(client.api('/subscriptions').post({ ...base, notificationUrl: `${webhook.url}/refuses` }));
      expect([refused.statusCode, refused.code, refused.message]).toEqual([400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.']);
      const encoded = await graphFailure(client.api('/subscriptions').post({ ...base, notificationUrl: `${webhook.url}/echoes-raw-query` }));
      expect([encoded.code, encoded.message]).toEqual(['ValidationError', 'Subscription validation request failed. Response must exactly match validationToken query parameter.']);
      expect(graph.subscriptions(address)).toEqual([]);
    });

    it('caps the expiration at 10,080 minutes on create and renewal, lists, renews and deletes', async () => {
      const tooFar = new Date(Date.now() + (10_080 + 5) * 60_000).toISOString();
      const base = { changeType: 'created,updated', notificationUrl: `${webhook.url}/notify`, resource: `/users/${userId}/messages`, clientState: 's' };
      const rejected = await graphFailure(client.api('/subscriptions').post({ ...base, expirationDateTime: tooFar }));
      expect([rejected.statusCode, rejected.code, rejected.message]).toEqual([400, 'ExtensionError', 'Subscription expiration can only be 10080 minutes in the future.']);
      const created = (await client.api('/subscriptions').post({ ...base, expirationDateTime: new Date(Date.now() + 3600_000).toISOString() })) as { id: string };
      const renewal = new Date(Date.now() + 10_000 * 60_000);
      const renewed = (await client.api(`/subscriptions/${created.id}`).patch({ expirationDateTime: renewal.toISOString() })) as { expirationDateTime: string };
      expect(new Date(renewed.expirationDateTime).getTime()).toBe(renewal.getTime());
      expect((await graphFailure(client.api(`/subscriptions/${created.id}`).patch({ expirationDateTime: tooFar }))).code).toBe('ExtensionError');
      const listed = (await client.api('/subscriptions').get()) as { value: Array<{ id: string }> };
      expect(listed.value.map((s) => s.id)).toContain(created.id);
      await client.api(`/subscriptions/${created.id}`).delete();
      expect((await graphFailure(client.api(`/subscriptions/${created.id}`).get())).statusCode).toBe(404);
    });

    it('posts lifecycle notifications, pauses changes until reauthorized, and drops notifications on demand', async () => {
      const inbox = `users/${userId}/mailFolders('Inbox')/messages`;
      const subscription = (await client.api('/subscriptions').post({
        changeType: 'created',
        notificationUrl: `${webhook.url}/notify`,
        lifecycleNotificationUrl: `${webhook.url}/lifecycle`,
        resource: inbox,
        expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
        clientState: 'lifecycle-state',
      })) as { id: string };

      const delivery = await graph.sendLifecycle(subscription.id, 'reauthorizationRequired');
      expect(delivery.status).toBe(202);
      expect(webhook.notifications('/lifecycle').at(-1)).toEqual({ subscriptionId: subscription.id, subscriptionExpirationDateTime: expect.any(String), tenantId, clientState: 'lifecycle-state', lifecycleEvent: 'reauthorizationRequired' });

      const paused = graph.deliver(address, mail({ to: address, subject: 'while paused' }));
      expect(graph.notifications.find((n) => n.messageId === paused.regularId)?.skipped).toBe('paused');
      await client.api(`/subscriptions/${subscription.id}/reauthorize`).post({});
      const resumed = graph.deliver(address, mail({ to: address, subject: 'after reauthorize' }));
      await webhook.until(() => webhook.notifications('/notify').some((n) => (n.resourceData as { id: string }).id === resumed.regularId));

      graph.dropNotifications(address, true);
      const lost = graph.deliver(address, mail({ to: address, subject: 'lost' }));
      graph.dropNotifications(address, false);
      expect(graph.notifications.find((n) => n.messageId === lost.regularId)?.skipped).toBe('dropped');
      await graph.sendLifecycle(subscription.id, 'missed');
      await graph.sendLifecycle(subscription.id, 'subscriptionRemoved');
      expect(webhook.notifications('/lifecycle').slice(-2).map((n) => n.lifecycleEvent)).toEqual(['missed', 'subscriptionRemoved']);
      expect((await graphFailure(client.api(`/subscriptions/${subscription.id}`).get())).statusCode).toBe(404);
    });
  });

  describe('messages', () => {
    it('pages a delta round with odata.maxpagesize to a deltaLink, then returns only the changes', async () => {
      const box = 'delta@contoso.example';
      const { userId: deltaUser } = graph.addMailbox(box);
      const delivered = Array.from({ length: 5 }, (_, i) => graph.deliver(box, mail({ to: box, subject: `delta ${i}` })).id);
      const pages: Array<{ value: Array<{ id: string; subject?: string; '@removed'?: unknown }>; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }> = [];
      let link: string | undefined = `/users/${deltaUser}/mailFolders('inbox')/messages/delta?$select=subject,receivedDateTime`;
      while (link) {
        const page = (await client.api(link).header('Prefer', 'odata.maxpagesize=2, IdType="ImmutableId"').get()) as (typeof pages)[number];
        pages.push(page);
        link = page['@odata.nextLink'];
      }
      expect(pages.map((p) => p.value.length)).toEqual([2, 2, 1]);
      expect(pages.flatMap((p) => p.value.map((m) => m.id)).sort()).toEqual([...delivered].sort());
      expect(pages[0]?.value[0]).toEqual({ '@odata.type': '#microsoft.graph.message', '@odata.etag': expect.any(String), id: expect.any(String), subject: expect.stringMatching(/^delta /), receivedDateTime: expect.any(String) });
      const deltaLink = pages.at(-1)?.['@odata.deltaLink'];
      expect(deltaLink).toContain('$deltatoken=');

      const added = graph.deliver(box, mail({ to: box, subject: 'new one' })).id;
      graph.deleteMessage(box, delivered[0] as string);
      graph.setRead(box, delivered[1] as string, true);
      const changes = (await client.api(deltaLink as string).header('Prefer', 'IdType="ImmutableId"').get()) as (typeof pages)[number];
      expect(changes['@odata.deltaLink']).toBeDefined();
      expect(changes.value).toHaveLength(3);
      expect(changes.value).toEqual(
        expect.arrayContaining([
          { '@odata.type': '#microsoft.graph.message', id: delivered[0], '@removed': { reason: 'deleted' } },
          expect.objectContaining({ id: delivered[1], subject: 'delta 1' }),
          expect.objectContaining({ id: added, subject: 'new one' }),
        ]),
      );
    });

    it('answers 410 SyncStateNotFound to an expired delta token, and 410 resyncRequired with a Location after a reset', async () => {
      const box = 'stale@contoso.example';
      const { userId: staleUser } = graph.addMailbox(box);
      graph.deliver(box, mail({ to: box, subject: 'one' }));
      const first = (await client.api(`/users/${staleUser}/mailFolders/inbox/messages/delta`).get()) as { '@odata.deltaLink': string };
      graph.expireDeltaTokens(box);
      const expired = await graphFailure(client.api(first['@odata.deltaLink']).middlewareOptions(noRetry).get());
      expect([expired.statusCode, expired.code]).toEqual([410, 'SyncStateNotFound']);

      const second = (await client.api(`/users/${staleUser}/mailFolders/inbox/messages/delta`).get()) as { '@odata.deltaLink': string };
      graph.expireDeltaTokens(box, { reset: true });
      const reset = await graphFailure(client.api(second['@odata.deltaLink']).get());
      expect([reset.statusCode, reset.code]).toEqual([410, 'resyncRequired']);
      expect(reset.headers?.get('location')).toMatch(/\/messages\/delta\?\$deltatoken=$/);
    });

    it('streams a multi-megabyte $value byte for byte', async () => {
      const attachment = randomBytes(3 * 1024 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
      const raw = Buffer.from(
        [
          'From: Customer <customer@example.org>',
          `To: ${address}`,
          'Subject: big one',
          'Message-ID: <big@example.org>',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="b1"',
          '',
          '--b1',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'See attached.',
          '--b1',
          'Content-Type: application/octet-stream; name="dump.bin"',
          'Content-Disposition: attachment; filename="dump.bin"',
          'Content-Transfer-Encoding: base64',
          '',
          attachment,
          '--b1--',
          '',
        ].join('\r\n'),
      );
      const { id } = graph.deliver(address, raw);
      const stream = (await client.api(`/users/${userId}/messages/${id}/$value`).getStream()) as AsyncIterable<Uint8Array>;
      const received = await readAll(stream);
      expect(received.length).toBe(raw.length);
      expect(createHash('sha256').update(received).digest('hex')).toBe(createHash('sha256').update(raw).digest('hex'));
      const meta = (await client.api(`/users/${userId}/messages/${id}`).select('hasAttachments,subject').get()) as { hasAttachments: boolean; subject: string };
      expect(meta).toMatchObject({ hasAttachments: true, subject: 'big one' });
    });

    it('keeps immutable ids across a move while the regular id changes', async () => {
      const watch = (await client
        .api('/subscriptions')
        .header('Prefer', 'IdType="ImmutableId"')
        .post({ changeType: 'created', notificationUrl: `${webhook.url}/archive`, resource: `users/${address}/mailFolders('archive')/messages`, expirationDateTime: new Date(Date.now() + 3600_000).toISOString(), clientState: 'archive' })) as { id: string };
      const { id, regularId } = graph.deliver(address, mail({ to: address, subject: 'to be moved' }));
      const immutable = (await client.api(`/users/${userId}/messages/${id}`).header('Prefer', 'IdType="ImmutableId"').select('subject').get()) as { id: string };
      const regular = (await client.api(`/users/${userId}/messages/${id}`).select('subject').get()) as { id: string };
      expect(immutable.id).toBe(id);
      expect(regular.id).toBe(regularId);
      expect(regularId).not.toBe(id);

      const moved = graph.move(address, id, 'archive');
      expect(moved.id).toBe(id);
      expect(moved.regularId).not.toBe(regularId);
      const afterMove = (await client.api(`/users/${userId}/messages/${id}`).header('Prefer', 'IdType="ImmutableId"').select('parentFolderId').get()) as { id: string; parentFolderId: string };
      expect(afterMove.id).toBe(id);
      const archive = (await client.api(`/users/${userId}/mailFolders/archive`).get()) as { id: string };
      expect(afterMove.parentFolderId).toBe(archive.id);
      const stale = await graphFailure(client.api(`/users/${userId}/messages/${regularId}`).get());
      expect([stale.statusCode, stale.code]).toEqual([404, 'ErrorItemNotFound']);
      // A move is a creation in the destination folder, named by the id the subscription asked for.
      await webhook.until(() => webhook.notifications('/archive').length === 1);
      expect(webhook.notifications('/archive')[0]).toMatchObject({ subscriptionId: watch.id, changeType: 'created', resourceData: { id } });
      await client.api(`/subscriptions/${watch.id}`).delete();
    });

    it('creates a reply draft threaded by Graph, takes x- headers, refuses In-Reply-To, sends it to Sent Items with its internetMessageId', async () => {
      const original = graph.deliver(address, mail({ to: address, subject: 'Broken printer', messageId: '<original-1@example.org>' }));
      const draft = (await client.api(`/users/${userId}/messages/${original.id}/createReply`).header('Prefer', 'IdType="ImmutableId"').post({})) as {
        id: string;
        isDraft: boolean;
        subject: string;
        internetMessageId: string;
        conversationId: string;
        toRecipients: Array<{ emailAddress: { address: string } }>;
      };
      expect(draft).toMatchObject({ isDraft: true, subject: 'RE: Broken printer', conversationId: original.conversationId });
      expect(draft.toRecipients.map((r) => r.emailAddress.address)).toEqual(['customer@example.org']);

      const refused = await graphFailure(
        client.api(`/users/${userId}/messages/${draft.id}`).patch({ internetMessageHeaders: [{ name: 'In-Reply-To', value: '<other@example.org>' }] }),
      );
      expect([refused.statusCode, refused.code, refused.message]).toEqual([400, 'InvalidInternetMessageHeader', "The internet message header name 'In-Reply-To' should start with 'x-' or 'X-'."]);
      await client.api(`/users/${userId}/messages/${draft.id}`).patch({
        body: { contentType: 'text', content: 'We are on it.' },
        internetMessageHeaders: [{ name: 'x-m2t-ticket', value: 'T-42' }],
      });

      graph.sendDelayMs = 150;
      await client.api(`/users/${userId}/messages/${draft.id}/send`).post(undefined);
      // Until the send completes there is no copy to read (outlook-immutable-id).
      expect((await graphFailure(client.api(`/users/${userId}/messages/${draft.id}`).get())).statusCode).toBe(404);
      await graph.idle();
      graph.sendDelayMs = 0;

      const sentCopy = (await client.api(`/users/${userId}/messages/${draft.id}`).header('Prefer', 'IdType="ImmutableId"').select('internetMessageId,isDraft,parentFolderId').get()) as { id: string; isDraft: boolean; internetMessageId: string };
      expect(sentCopy).toMatchObject({ id: draft.id, isDraft: false, internetMessageId: draft.internetMessageId });
      const filter = `internetMessageId eq '${draft.internetMessageId}'`;
      const found = (await client.api(`/users/${userId}/mailFolders/sentitems/messages`).header('Prefer', 'IdType="ImmutableId"').filter(filter).select('id').get()) as { value: Array<{ id: string }> };
      expect(found.value.map((m) => m.id)).toEqual([draft.id]);

      const wire = graph.sent(address).find((s) => s.id === draft.id)?.raw.toString('utf8') ?? '';
      expect(wire).toContain('In-Reply-To: <original-1@example.org>');
      expect(wire).toContain('References: <original-1@example.org>');
      expect(wire).toContain('x-m2t-ticket: T-42');
      expect(wire).toContain(`Message-ID: ${draft.internetMessageId}`);
    });
  });

  describe('throttling, faults and concurrency', () => {
    it('shows a 429 with its Retry-After to a client that does not retry, and the SDK retry handler honours it', async () => {
      graph.injectFaults({ method: 'GET', pathIncludes: '/mailFolders/drafts' }, [{ status: 429, retryAfterSeconds: 7 }]);
      const throttled = await graphFailure(client.api(`/users/${userId}/mailFolders/drafts`).middlewareOptions(noRetry).get());
      expect([throttled.statusCode, throttled.code]).toEqual([429, 'TooManyRequests']);
      expect(throttled.headers?.get('retry-after')).toBe('7');

      graph.injectFaults({ method: 'GET', pathIncludes: '/mailFolders/junkemail' }, [{ status: 503, retryAfterSeconds: 1 }]);
      const folder = (await client.api(`/users/${userId}/mailFolders/junkemail`).get()) as { displayName: string };
      expect(folder.displayName).toBe('Junk Email');
      const attempts = graph.requests.filter((r) => r.path.endsWith('/mailFolders/junkemail'));
      expect(attempts.map((r) => r.status)).toEqual([503, 200]);
      expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    });

    it('measures the highest number of concurrent requests per mailbox, and can enforce the Outlook limit', async () => {
      const box = 'busy@contoso.example';
      const quiet = 'quiet@contoso.example';
      const { userId: busyUser } = graph.addMailbox(box);
      graph.addMailbox(quiet);
      graph.latencyMs = 150;
      try {
        await Promise.all(Array.from({ length: 6 }, () => client.api(`/users/${busyUser}/mailFolders/inbox`).get()));
        expect(graph.maxInFlight(box)).toBe(6);
        expect(graph.maxInFlight(quiet)).toBe(0);
        expect(graph.inFlight(box)).toBe(0);

        graph.mailboxConcurrencyLimit = 4;
        const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => client.api(`/users/${busyUser}/mailFolders/inbox`).middlewareOptions(noRetry).get()));
        const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => (o.reason as GraphError).code);
        expect(rejected).toEqual(['ApplicationThrottled', 'ApplicationThrottled']);
      } finally {
        graph.latencyMs = 0;
        graph.mailboxConcurrencyLimit = undefined;
      }
    });

    it('drops the connection on a reset fault', async () => {
      graph.injectFaults({ pathIncludes: '/mailFolders/deleteditems' }, [{ resetConnection: true }]);
      await expect(client.api(`/users/${userId}/mailFolders/deleteditems`).middlewareOptions(noRetry).get()).rejects.toThrow();
      expect(((await client.api(`/users/${userId}/mailFolders/deleteditems`).get()) as { displayName: string }).displayName).toBe('Deleted Items');
    });
  });

  describe('revoked consent', () => {
    it('refuses new tokens with invalid_client AADSTS7000229 and stops honouring issued ones', async () => {
      const otherTenant = randomUUID();
      identity.grantConsent(otherTenant, clientId);
      const { userId: otherUser } = graph.addMailbox('help@fabrikam.example', { tenantId: otherTenant });
      const token = (await new ConfidentialClientApplication(msalConfig({}, otherTenant)).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }))?.accessToken ?? '';
      const tenantClient = graphClient(() => token);
      await tenantClient.api(`/users/${otherUser}/mailFolders/inbox`).get();
      // A token for one tenant does not open another tenant's mailbox.
      expect((await graphFailure(client.api(`/users/${otherUser}/mailFolders/inbox`).get())).code).toBe('ErrorInvalidUser');

      identity.revokeConsent(otherTenant);
      const refused = await graphFailure(tenantClient.api(`/users/${otherUser}/mailFolders/inbox`).get());
      expect([refused.statusCode, refused.code]).toEqual([401, 'InvalidAuthenticationToken']);
      await expect(new ConfidentialClientApplication(msalConfig({}, otherTenant)).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] })).rejects.toMatchObject({
        errorCode: 'invalid_client',
        errorMessage: expect.stringContaining('AADSTS7000229'),
      });
      expect(identity.countTokenRequests({ tenant: otherTenant, outcome: 'invalid_client' })).toBe(1);
      // The home tenant is untouched.
      await client.api(`/users/${userId}/mailFolders/inbox`).get();
    });
  });
});
