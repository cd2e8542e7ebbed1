// The Microsoft 365 half of npm start's sandbox: the fake identity platform and the fake Graph
// (Microsoft's wire formats over TLS with a throwaway test CA, shared/sandbox/), the sandbox's Entra
// app registered there with a client secret and admin-consented in the sandbox tenant, and a demo
// mailbox connected through the real connect path (connectGraphMailbox: the subscription is created
// at the fake, which first validates npm start's real webhooks with the handshake, as Graph does).
// Mail delivered into the fake makes it post a change notification to the subscription's
// notificationUrl — npm start's real webhook — as Graph would, unless an outage is on for that
// mailbox: then the notification is dropped, and the safety sync has to find the mail.
//
// Delivery is the fake's own mailbox side (mail arriving over SMTP): Graph has no call that receives
// mail into a mailbox (a message created through the API is a draft). Nothing of the fakes' tokens
// leaves this process; the CLI hands over only the message, through the control routes.
import type { MicrosoftGraphOptions } from '../../adapters/graph/microsoft-graph-connector.js';
import { connectGraphMailbox, type GraphLifecycleDeps } from '../../domain/graph/lifecycle.js';
import type { GraphDeltaPage } from '../../domain/graph/ports.js';
import { FakeGraph, type NotificationRecord } from '../../sandbox/fake-graph.js';
import { CaTrustingNetworkModule, FakeIdentity, trustCaInProcess } from '../../sandbox/fake-identity.js';
import { GLOBAL_ADMINISTRATOR } from '../../sandbox/fake-identity-interactive.js';
import { MsalMicrosoftAuthorization } from '../../adapters/oauth/microsoft-authorization.js';
import type { Reporter } from '../reporter.js';
import { SANDBOX_GRAPH_APP, type GraphSandboxEndpoints, type SandboxMailbox } from './endpoints.js';
import { Outages } from './outages.js';

export const DEMO_GRAPH_MAILBOX: SandboxMailbox = Object.freeze({ tenantId: 'default', mailboxId: 'm365-demo', address: 'support@sandbox-m365.example' });
/** The sandbox directory's people for the consent page: a Global Administrator, and a user who is not one. */
export const SANDBOX_M365_ADMIN = 'admin@sandbox-m365.example';
export const SANDBOX_M365_USER = 'agent@sandbox-m365.example';
/** A mailbox of the fake that nothing connects at start: an admin connects it on the consent page. */
export const SPARE_GRAPH_ADDRESSES = Object.freeze(['sales@sandbox-m365.example']);
export const SANDBOX_M365_DOMAINS = Object.freeze(['sandbox-m365.example', 'sandboxm365.onmicrosoft.com']);

/** A delta round on the fresh, empty fake is one page; more means something else is wrong. */
const MAX_FRESH_DELTA_PAGES = 100;

export interface GraphSandboxStats {
  /** Messages delivered into the fake's mailboxes. */
  delivered: number;
  /**
   * Change notifications the fake posted to the webhook, by the HTTP status it answered; those an
   * outage dropped; those that got no answer (in time, or at all).
   */
  notifications: { posted: number; byStatus: Record<string, number>; dropped: number; unanswered: number };
  /** What the fake served: MIME downloads ($value), delta requests, and webhook validations it made. */
  fake: { valueFetches: number; deltaRequests: number; validations: number };
  /** Active outages: address → until (ISO time). */
  outages: Record<string, string>;
}

export interface GraphSandboxOptions {
  /** npm start's webhooks: what subscriptions name as notificationUrl and lifecycleNotificationUrl. */
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  /** npm start's consent page callback: the sandbox app's one Web redirect URI. */
  consentRedirectUri?: string;
  mailboxes?: SandboxMailbox[];
  report: Reporter;
}

export class GraphSandbox {
  private readonly outages: Outages;
  private readonly pending = new Set<Promise<void>>();
  private delivered = 0;
  /** The mailboxes the sandbox connected this run (the demo one unless its mailbox id is taken). */
  private connected: SandboxMailbox[] = [];

  private constructor(
    private readonly identity: FakeIdentity,
    private readonly fake: FakeGraph,
    private readonly options: GraphSandboxOptions & { mailboxes: SandboxMailbox[] },
  ) {
    this.outages = new Outages((address, on) => fake.dropNotifications(address, on));
  }

  static async start(options: GraphSandboxOptions): Promise<GraphSandbox> {
    const identity = new FakeIdentity();
    await identity.start();
    try {
      const { clientId, clientSecret, azureTenantId } = SANDBOX_GRAPH_APP;
      identity.registerApp({
        clientId,
        clientSecret,
        displayName: 'mail2ticket (sandbox)',
        ...(options.consentRedirectUri ? { redirectUris: [options.consentRedirectUri] } : {}),
        // As the README asks of a real registration: directory roles in the id token (`wids`), and auth_time.
        groupMembershipClaims: 'DirectoryRole',
        optionalIdTokenClaims: ['auth_time'],
      });
      identity.addTenant(azureTenantId, { displayName: 'Sandbox M365' });
      identity.setVerifiedDomains(azureTenantId, [...SANDBOX_M365_DOMAINS]);
      identity.addUser({ tenantId: azureTenantId, userPrincipalName: SANDBOX_M365_ADMIN, displayName: 'Sandbox Admin', roles: [GLOBAL_ADMINISTRATOR] });
      identity.addUser({ tenantId: azureTenantId, userPrincipalName: SANDBOX_M365_USER, displayName: 'Sandbox Agent' });
      // The tenant admin's consent: the app gets its service principal (and Mail.ReadWrite, Mail.Send) there.
      identity.grantConsent(azureTenantId, clientId);
      const fake = new FakeGraph({ identity, tenantId: azureTenantId });
      await fake.start();
      const mailboxes = (options.mailboxes ?? [DEMO_GRAPH_MAILBOX]).map((m) => ({ ...m, address: m.address.toLowerCase() }));
      for (const mailbox of mailboxes) fake.addMailbox(mailbox.address, { displayName: 'Sandbox Support' });
      for (const address of SPARE_GRAPH_ADDRESSES) if (!mailboxes.some((m) => m.address === address)) fake.addMailbox(address, { displayName: 'Sandbox Sales' });
      // The Graph client sends through global fetch, which takes no CA option: this process trusts the
      // test CA for good (additively; Node's roots stay). Its key is gone, so the one loopback
      // certificate it signed is all it can vouch for. msal gets a network module trusting it instead.
      trustCaInProcess(identity.caCertPem);
      return new GraphSandbox(identity, fake, { ...options, mailboxes });
    } catch (error) {
      await identity.stop();
      throw error;
    }
  }

  /** The Graph client options pointing at the fakes, for the sync worker and the schedules. */
  get connector(): MicrosoftGraphOptions {
    const { clientId, clientSecret, azureTenantId } = SANDBOX_GRAPH_APP;
    return {
      clientId,
      credential: { clientSecret },
      graphBaseUrl: this.fake.origin,
      authorityHost: this.identity.url,
      // The fake's own discovery documents, handed over: msal makes no discovery round trip.
      authorityMetadata: (tenant) => this.identity.authorityMetadata(tenant),
      cloudDiscoveryMetadata: this.identity.cloudDiscoveryMetadata(azureTenantId),
      networkClient: new CaTrustingNetworkModule(this.identity.caCertPem),
    };
  }

  /** The consent page's Microsoft: the fake identity platform's sign-in and admin-consent screens, and the fake Graph's /organization. */
  consentAuthorization(): { authorization: MsalMicrosoftAuthorization; origin: string } {
    const { clientId, clientSecret } = SANDBOX_GRAPH_APP;
    const authorization = new MsalMicrosoftAuthorization({
      clientId,
      credential: { clientSecret },
      authorityHost: this.identity.url,
      graphBaseUrl: this.fake.origin,
      networkClient: new CaTrustingNetworkModule(this.identity.caCertPem),
      authorityMetadata: this.identity.authorityMetadata('organizations'),
      cloudDiscoveryMetadata: this.identity.cloudDiscoveryMetadata('organizations'),
    });
    return { authorization, origin: new URL(this.identity.url).origin };
  }

  /** A mailbox an admin connected on the consent page: the sandbox's schedules and CLI treat it as their own from now on. */
  adopt(mailbox: SandboxMailbox): void {
    if (!this.isSandboxMailbox(mailbox)) this.connected.push(mailbox);
  }

  endpoints(): GraphSandboxEndpoints {
    return {
      graphUrl: this.fake.origin,
      identityUrl: this.identity.url,
      caCertPath: this.identity.caCertPath,
      notificationUrl: this.options.notificationUrl,
      lifecycleNotificationUrl: this.options.lifecycleNotificationUrl,
      mailboxes: [...this.connected],
    };
  }

  /**
   * Connects each sandbox mailbox through the real connect path; idempotent across restarts. A mailbox
   * id already used otherwise (another provider, or disconnected by an operator) is left alone, and
   * reported.
   */
  async connectMailboxes(deps: GraphLifecycleDeps): Promise<void> {
    const { azureTenantId } = SANDBOX_GRAPH_APP;
    for (const mailbox of this.options.mailboxes) {
      const existing = await deps.repo.getMailbox(mailbox.tenantId, mailbox.mailboxId);
      if (existing && (existing.provider !== 'graph' || existing.status === 'disconnected')) {
        this.options.report.warn(
          `sandbox: mailbox ${mailbox.mailboxId} of tenant ${mailbox.tenantId} is ${existing.status === 'disconnected' ? 'disconnected' : `a ${existing.provider} mailbox`}; ${mailbox.address} is not connected to it`,
        );
        continue;
      }
      // A new subscription at this run's fake (the last run's went with its fake); the webhook then
      // accepts only the new subscription's id and clientState.
      await connectGraphMailbox(deps, { tenantId: mailbox.tenantId, mailboxId: mailbox.mailboxId }, { azureTenantId, address: mailbox.address });
      // The fake keeps its mailboxes in memory: each start it is a new, empty mailbox on a new port.
      // The delta cursor kept from the last run (connect keeps it for the same mailbox) is a deltaLink
      // into the previous run's fake: an absolute URL whose port is closed now — or taken by another
      // server, which would be sent our bearer token. So the sandbox starts the cursor afresh: a delta
      // round on the new fake, whose deltaLink the first sync continues from.
      const api = deps.graph.open({ azureTenantId, userId: mailbox.address });
      let page: GraphDeltaPage = await api.delta({ since: new Date(deps.clock.now().getTime() - deps.settings.fullSyncDays * 24 * 3600 * 1000) });
      for (let pages = 1; !page.deltaLink; pages++) {
        if (!page.nextLink || pages >= MAX_FRESH_DELTA_PAGES) throw new Error(`the fake Graph ended no delta round for ${mailbox.address}`);
        page = await api.delta({ link: page.nextLink });
      }
      await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { cursor: page.deltaLink });
      this.connected.push(mailbox);
    }
  }

  isSandboxMailbox(owner: { tenantId: string; mailboxId: string }): boolean {
    return this.connected.some((m) => m.tenantId === owner.tenantId && m.mailboxId === owner.mailboxId);
  }

  mailbox(address: string): SandboxMailbox | undefined {
    const wanted = address.trim().toLowerCase();
    return [...this.options.mailboxes, ...this.connected].find((m) => m.address === wanted);
  }

  /** Mail arriving from outside: into the inbox, then Graph's change notification (unless in an outage). */
  async deliver(address: string, raw: Buffer): Promise<{ id: string; threadId: string }> {
    const mailbox = this.mailbox(address);
    if (!mailbox) throw new RangeError(`${address} is not a sandbox mailbox`);
    const before = this.fake.notifications.length;
    const message = this.fake.deliver(mailbox.address, raw);
    this.delivered++;
    this.reportNotifications(mailbox.address, this.fake.notifications.slice(before).filter((n) => n.kind === 'change'));
    return { id: message.id, threadId: message.conversationId };
  }

  /** Drops the mailbox's change notifications for `minutes` (0 ends an outage); returns when it ends, if on. */
  outage(address: string, minutes: number): string | null {
    const mailbox = this.mailbox(address);
    if (!mailbox) throw new RangeError(`${address} is not a sandbox mailbox`);
    return this.outages.set(mailbox.address, minutes);
  }

  stats(): GraphSandboxStats {
    const notifications = { posted: 0, byStatus: {} as Record<string, number>, dropped: 0, unanswered: 0 };
    for (const record of this.fake.notifications) {
      if (record.kind !== 'change') continue;
      if (record.skipped === 'dropped') notifications.dropped++;
      if (record.skipped) continue;
      notifications.posted++;
      // No delivery yet: the post is under way.
      if (!record.delivery) continue;
      const status = record.delivery.status;
      if (status === undefined) notifications.unanswered++;
      else notifications.byStatus[status] = (notifications.byStatus[status] ?? 0) + 1;
    }
    return {
      delivered: this.delivered,
      notifications,
      fake: { valueFetches: this.fake.count('GET', '/$value'), deltaRequests: this.fake.count('GET', '/delta'), validations: this.fake.validations.length },
      outages: this.outages.active(),
    };
  }

  /** Waits for notifications under way, then stops the fakes (the test CA's files go with them). */
  async stop(): Promise<void> {
    this.outages.clear();
    await Promise.all(this.pending);
    await this.fake.stop();
    await this.identity.stop();
  }

  /** One terminal line per change notification of a delivery, once the webhook answered it. */
  private reportNotifications(address: string, records: NotificationRecord[]): void {
    const { report } = this.options;
    if (records.length === 0) {
      report.warn(`sandbox m365: new message in ${address}, but no subscription notifies of it; the safety sync will catch up`);
      return;
    }
    for (const record of records.filter((r) => r.skipped)) {
      const until = this.outages.activeUntil(address);
      report.info(`sandbox m365: new message in ${address}; notification ${record.skipped}${until ? ` (outage until ${new Date(until).toISOString()})` : ''}`);
    }
    const posted = records.filter((r) => !r.skipped);
    if (posted.length === 0) return;
    // The fake posts in the background and records the answer on the record; idle() waits for that.
    const done = this.fake
      .idle()
      .then(() => {
        for (const record of posted) {
          const status = record.delivery?.status;
          if (status === undefined) report.warn(`sandbox m365: the notification for ${address} got no answer (${record.delivery?.error ?? 'not sent'}); the safety sync will catch up`);
          else report.info(`sandbox m365: new message in ${address}; notification → webhook ${status}`);
        }
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }
}
