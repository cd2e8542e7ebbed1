// The Gmail half of npm start's sandbox: the fake Gmail (Google's wire format, shared/sandbox/) with
// the sandbox's OAuth client, a Pub/Sub push emitter signing with a key of its own, and a demo
// mailbox connected through the real connect path (authorization code with PKCE, then
// connectGmailMailbox). Mail delivered into the fake makes a real signed push to npm start's real
// webhook, as Gmail would — unless an outage is on for that mailbox: then nothing is pushed, and the
// safety sync has to find the mail.
//
// Delivery goes through Gmail's documented users.messages.import on the fake ("imports a message into
// only this user's mailbox, with standard email delivery scanning and classification similar to
// receiving via SMTP"). This process authorizes each delivery with a fresh grant from the fake's
// authorization-code flow and revokes it right after: no token is ever written down or handed to
// another process (the CLI hands over only the message, through the control routes).
import { Readable } from 'node:stream';
import { gmail } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import type { JSONWebKeySet } from 'jose';
import type { GoogleGmailOptions } from '../../adapters/gmail/google-gmail-connector.js';
import { GoogleOAuthAuthorization } from '../../adapters/oauth/google-authorization.js';
import { connectGmailMailbox, type GmailLifecycleDeps } from '../../domain/gmail/lifecycle.js';
import { FakeGmail } from '../../sandbox/fake-gmail.js';
import { PubSubPushEmitter } from '../../sandbox/pubsub-push.js';
import type { Reporter } from '../reporter.js';
import { SANDBOX_GOOGLE_CLIENT, type GmailSandboxEndpoints, type SandboxMailbox } from './endpoints.js';
import { Outages } from './outages.js';

/** The push subscription's service account, as the verifier expects it in the token's `email`. */
export const SANDBOX_PUSH_SERVICE_ACCOUNT = 'gmail-push@mail2ticket-sandbox.iam.gserviceaccount.com';

export const DEMO_GMAIL_MAILBOX: SandboxMailbox = Object.freeze({ tenantId: 'default', mailboxId: 'gmail-demo', address: 'support@sandbox-gmail.example' });
/** Mailboxes of the fake that nothing connects at start: an admin connects them on the consent page. */
export const SPARE_GMAIL_ADDRESSES = Object.freeze(['sales@sandbox-gmail.example']);

/** Where the authorization code is "sent back to" (a loopback redirect, as for an installed app); nothing listens. */
const REDIRECT_URI = 'http://127.0.0.1/oauth2/callback';
/** Labels of mail received into the inbox. */
const DELIVERED_LABELS = ['INBOX', 'UNREAD'];

export interface GmailSandboxStats {
  /** Messages imported into the fake's mailboxes. */
  delivered: number;
  /** Pushes to the webhook by HTTP status, those an outage dropped, and those that got no answer. */
  pushes: { sent: number; byStatus: Record<string, number>; dropped: number; failed: number };
  /** What the fake served: raw message fetches (format=raw) and history listings. */
  fake: { rawFetches: number; historyLists: number };
  /** Active outages: address → until (ISO time). */
  outages: Record<string, string>;
}

export interface GmailSandboxOptions {
  /** npm start's webhook: where pushes go, and their tokens' audience. */
  webhookUrl: string;
  mailboxes?: SandboxMailbox[];
  report: Reporter;
}

export class GmailSandbox {
  private readonly outages = new Outages();
  private readonly pending = new Set<Promise<void>>();
  private readonly pushes = { sent: 0, byStatus: {} as Record<string, number>, dropped: 0, failed: 0 };
  private delivered = 0;
  /** The mailboxes the sandbox connected this run (the demo one unless its mailbox id is taken). */
  private connected: SandboxMailbox[] = [];

  private constructor(
    private readonly fake: FakeGmail,
    private readonly emitter: PubSubPushEmitter,
    private readonly options: GmailSandboxOptions & { mailboxes: SandboxMailbox[] },
  ) {}

  static async start(options: GmailSandboxOptions): Promise<GmailSandbox> {
    const emitter = await PubSubPushEmitter.create({ audience: options.webhookUrl, serviceAccountEmail: SANDBOX_PUSH_SERVICE_ACCOUNT });
    const fake = new FakeGmail({ clientId: SANDBOX_GOOGLE_CLIENT.clientId, clientSecret: SANDBOX_GOOGLE_CLIENT.clientSecret });
    await fake.start();
    const mailboxes = (options.mailboxes ?? [DEMO_GMAIL_MAILBOX]).map((m) => ({ ...m, address: m.address.toLowerCase() }));
    for (const mailbox of mailboxes) fake.addMailbox(mailbox.address);
    for (const address of SPARE_GMAIL_ADDRESSES) if (!mailboxes.some((m) => m.address === address)) fake.addMailbox(address);
    const sandbox = new GmailSandbox(fake, emitter, { ...options, mailboxes });
    fake.onChange = (email, historyId) => sandbox.notify(email, historyId);
    return sandbox;
  }

  /** The Gmail client options pointing at the fake, for the sync worker. */
  get google(): GoogleGmailOptions {
    return { ...SANDBOX_GOOGLE_CLIENT, rootUrl: `${this.fake.url}/`, tokenUrl: this.fake.tokenUrl, revokeUrl: this.fake.revokeUrl };
  }

  /** The public key the pushes are signed with: the webhook's verifier trusts it in sandbox mode only. */
  jwks(): JSONWebKeySet {
    return this.emitter.jwks();
  }

  endpoints(): GmailSandboxEndpoints {
    return { apiUrl: this.fake.url, tokenUrl: this.fake.tokenUrl, revokeUrl: this.fake.revokeUrl, webhookUrl: this.options.webhookUrl, mailboxes: [...this.connected] };
  }

  /**
   * Connects each sandbox mailbox through the real connect path; idempotent across restarts. A mailbox
   * id already used otherwise (another provider, or disconnected by an operator) is left alone, and
   * reported.
   */
  async connectMailboxes(deps: GmailLifecycleDeps): Promise<void> {
    for (const mailbox of this.options.mailboxes) {
      const existing = await deps.repo.getMailbox(mailbox.tenantId, mailbox.mailboxId);
      if (existing && (existing.provider !== 'gmail' || existing.status === 'disconnected')) {
        this.options.report.warn(
          `sandbox: mailbox ${mailbox.mailboxId} of tenant ${mailbox.tenantId} is ${existing.status === 'disconnected' ? 'disconnected' : `a ${existing.provider} mailbox`}; ${mailbox.address} is not connected to it`,
        );
        continue;
      }
      // The grant is the mailbox's from now on: connect seals its refresh token in the mailbox record.
      const { refreshToken } = await this.grant(mailbox.address);
      await connectGmailMailbox(deps, { tenantId: mailbox.tenantId, mailboxId: mailbox.mailboxId }, refreshToken);
      // The fake keeps its mailboxes in memory: each start it is a new, empty mailbox whose historyIds
      // begin again low. A cursor kept from the last run (connect keeps it for the same address) would
      // be past the new history — a 404 and a needless full sync — or, worse, inside it, silently
      // skipping the first new messages. So the sandbox starts from the fresh watch's historyId.
      const watch = this.fake.watches(mailbox.address);
      if (!watch) throw new Error(`the fake Gmail has no watch on ${mailbox.address} after connecting it`);
      await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { cursor: watch.historyId });
      this.connected.push(mailbox);
    }
  }

  /**
   * The consent page's Google: the fake's authorization endpoint (its consent screen lists the fake's
   * mailboxes), token endpoint and signing keys, with npm start's callback registered as the client's
   * redirect URI — exactly, as Google matches it.
   */
  consentAuthorization(redirectUri: string): { authorization: GoogleOAuthAuthorization; origin: string } {
    this.fake.registerRedirectUri(redirectUri);
    const authorization = new GoogleOAuthAuthorization({
      ...SANDBOX_GOOGLE_CLIENT,
      authBaseUrl: this.fake.authorizeUrl,
      tokenUrl: this.fake.tokenUrl,
      certsUrl: this.fake.certsUrl,
      revokeUrl: this.fake.revokeUrl,
    });
    return { authorization, origin: new URL(this.fake.url).origin };
  }

  /** A mailbox an admin connected on the consent page: the sandbox's schedules and CLI treat it as their own from now on. */
  adopt(mailbox: SandboxMailbox): void {
    if (!this.isSandboxMailbox(mailbox)) this.connected.push(mailbox);
  }

  isSandboxMailbox(owner: { tenantId: string; mailboxId: string }): boolean {
    return this.connected.some((m) => m.tenantId === owner.tenantId && m.mailboxId === owner.mailboxId);
  }

  mailbox(address: string): SandboxMailbox | undefined {
    const wanted = address.trim().toLowerCase();
    return [...this.options.mailboxes, ...this.connected].find((m) => m.address === wanted);
  }

  /** Mail arriving from outside: users.messages.import into the inbox, then Gmail's notification. */
  async deliver(address: string, raw: Buffer): Promise<{ id: string; threadId: string }> {
    const fakeUrl = `${this.fake.url}/`;
    const { auth } = await this.grant(address);
    try {
      const api = gmail({ version: 'v1', auth, rootUrl: fakeUrl, retry: false });
      // Media uploads take the per-call rootUrl only (googleapis-common builds /upload/ URLs from it).
      const { data } = await api.users.messages.import(
        { userId: 'me', internalDateSource: 'receivedTime', requestBody: { labelIds: DELIVERED_LABELS }, media: { mimeType: 'message/rfc822', body: Readable.from([raw]) } },
        { rootUrl: fakeUrl },
      );
      if (!data.id || !data.threadId) throw new Error('the fake Gmail imported a message without id or threadId');
      this.delivered++;
      return { id: data.id, threadId: data.threadId };
    } finally {
      // One grant per delivery, gone right after: the sync worker's own grant is the only lasting one.
      await auth.revokeCredentials().catch((error: unknown) => this.options.report.warn(`sandbox gmail: could not revoke a delivery grant (${(error as Error).name})`));
    }
  }

  /**
   * The mailbox's grants end at Google, as when an app in "Testing" status reaches its 7 days or the
   * user removes its access: the next sync meets invalid_grant and the mailbox asks for reconnection.
   */
  revoke(address: string): void {
    const mailbox = this.mailbox(address);
    if (!mailbox) throw new RangeError(`${address} is not a sandbox mailbox`);
    this.fake.revokeRefreshToken(mailbox.address);
  }

  /** Drops the mailbox's pushes for `minutes` (0 ends an outage); resolves with when it ends, if on. */
  outage(address: string, minutes: number): string | null {
    const mailbox = this.mailbox(address);
    if (!mailbox) throw new RangeError(`${address} is not a sandbox mailbox`);
    return this.outages.set(mailbox.address, minutes);
  }

  stats(): GmailSandboxStats {
    return {
      delivered: this.delivered,
      pushes: { ...this.pushes, byStatus: { ...this.pushes.byStatus } },
      fake: {
        rawFetches: this.fake.requests.filter((r) => r.method === 'GET' && /\/messages\/[^/]+$/.test(r.path) && r.query.get('format') === 'raw').length,
        historyLists: this.fake.count('GET', '/history'),
      },
      outages: this.outages.active(),
    };
  }

  /** Waits for pushes under way, then stops the fake. */
  async stop(): Promise<void> {
    this.fake.onChange = undefined;
    this.outages.clear();
    await Promise.all(this.pending);
    await this.fake.stop();
  }

  /** The fake's onChange: Gmail publishing to the watch's topic, Pub/Sub pushing to the subscription. */
  private notify(email: string, historyId: string): void {
    const until = this.outages.activeUntil(email);
    if (until !== undefined) {
      this.pushes.dropped++;
      this.options.report.info(`sandbox gmail: change in ${email} (historyId ${historyId}); push dropped (outage until ${new Date(until).toISOString()})`);
      return;
    }
    this.pushes.sent++;
    const push = this.emitter
      .push(this.options.webhookUrl, { emailAddress: email, historyId })
      .then((status) => {
        this.pushes.byStatus[status] = (this.pushes.byStatus[status] ?? 0) + 1;
        this.options.report.info(`sandbox gmail: change in ${email} (historyId ${historyId}); push → webhook ${status}`);
      })
      .catch((error: unknown) => {
        // Pub/Sub would retry with backoff; here the safety sync catches up.
        this.pushes.failed++;
        this.options.report.warn(`sandbox gmail: push for ${email} got no answer (${(error as Error).name}); the safety sync will catch up`);
      })
      .finally(() => this.pending.delete(push));
    this.pending.add(push);
  }

  /**
   * A grant for the mailbox through the fake's authorization-code flow with PKCE, exchanged by
   * google-auth-library at the fake's token endpoint. The user's consent is implied: the code is
   * issued directly, past the fake's consent screen (which the consent page's admins click through).
   */
  private async grant(address: string): Promise<{ auth: OAuth2Client; refreshToken: string }> {
    const auth = new OAuth2Client({ ...SANDBOX_GOOGLE_CLIENT, redirectUri: REDIRECT_URI, endpoints: { oauth2TokenUrl: this.fake.tokenUrl, oauth2RevokeUrl: this.fake.revokeUrl } });
    const { codeVerifier, codeChallenge } = await auth.generateCodeVerifierAsync();
    if (!codeChallenge) throw new Error('google-auth-library produced no PKCE challenge');
    const code = this.fake.issueAuthorizationCode(address, { codeChallenge, redirectUri: REDIRECT_URI });
    const { tokens } = await auth.getToken({ code, codeVerifier });
    if (!tokens.refresh_token) throw new Error('the fake Google granted no refresh token');
    auth.setCredentials(tokens);
    return { auth, refreshToken: tokens.refresh_token };
  }
}
