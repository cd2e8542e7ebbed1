// Attacks on the consent site's OAuth round trips, through the consent Lambda's handler over the local
// stack (dynalite, s3rver, local keys) with the real GoogleOAuthAuthorization (google-auth-library) and
// MsalMicrosoftAuthorization (msal-node) against the fake Google and the fake Microsoft identity
// platform over real HTTP(S), whose screens a fetch-driven "browser" clicks. Every attack must be refused with a 4xx (or the provider-error page) and change
// nothing: no mailbox connected, no refresh token redeemed that the product keeps.
// Tampered/expired/used/revoked invites and a state never issued are also refused in Chromium by
// tests/e2e/start-browser.test.ts; the store-level rules in tests/integration/consent-store.test.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleConsent } from '../../functions/consent/make-handler.js';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { GoogleOAuthAuthorization } from '../../shared/adapters/oauth/google-authorization.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { loadLocalConfig } from '../../shared/config.js';
import { createInvite, createTenant } from '../../shared/domain/consent/invites.js';
import { sign } from '../../shared/domain/consent/tokens.js';
import { localConsentSite } from '../../shared/local/consent-site.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { FakeGmail } from '../../shared/sandbox/fake-gmail.js';
import { MicrosoftGraphConnector } from '../../shared/adapters/graph/microsoft-graph-connector.js';
import { MsalMicrosoftAuthorization } from '../../shared/adapters/oauth/microsoft-authorization.js';
import { DEFAULT_GRAPH_SETTINGS } from '../../shared/domain/graph/ports.js';
import { FakeGraph } from '../../shared/sandbox/fake-graph.js';
import { CaTrustingNetworkModule, FakeIdentity, GLOBAL_ADMINISTRATOR, trustCaInProcess } from '../../shared/sandbox/fake-identity.js';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { clamdSocket } from '../support/clamd.js';
import { consentEvent } from '../support/consent-event.js';
import { captureLogs, Secrets, type LogCapture } from './log-capture.js';

const BASE = 'https://consent.example';
const REDIRECT_URI = `${BASE}/connect/google/callback`;
/** Registered on the same client too: an attacker's own page, say. */
const OTHER_REDIRECT_URI = 'https://attacker.example/callback';
const CLIENT = { clientId: 'consent-attacks.apps.googleusercontent.com', clientSecret: 'GOCSPX-attacks' };
const MS_REDIRECT_URI = `${BASE}/connect/microsoft/callback`;
const MS_CLIENT = { clientId: randomUUID(), clientSecret: randomBytes(24).toString('base64url') };
const CONTOSO = randomUUID();
const FABRIKAM = randomUUID();
const ACCOUNTS = ['alice@acme.example', 'bob@acme.example', 'mallory@evil.example', 'carol@acme.example', 'dave@acme.example', 'erin@acme.example', 'frank@acme.example'];

/** Real time, movable forward: a state's ten minutes pass without waiting for them. */
class OffsetClock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

let dataDir: string;
let stack: LocalStack;
let fake: FakeGmail;
let identity: FakeIdentity;
let graph: FakeGraph;
let handle: ReturnType<typeof handleConsent>;
const clock = new OffsetClock();
/** Every log sink of the file's process, captured: no attack may get a secret of the round trips logged. */
let capture: LogCapture;
const secrets = new Secrets(8);
const secret = (value: string | null | undefined, what: string) => secrets.add(value, what);


beforeAll(async () => {
  capture = captureLogs();
  secret(CLIENT.clientSecret, 'Google client secret');
  secret(MS_CLIENT.clientSecret, 'Entra client secret');
  for (const account of ACCOUNTS) secret(account, 'account address');
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-oauth-attacks-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new ClamdScanner({ socketPath: clamdSocket() }) });
  fake = new FakeGmail({ ...CLIENT, redirectUris: [REDIRECT_URI, OTHER_REDIRECT_URI], appName: 'mail2ticket' });
  await fake.start();
  for (const account of ACCOUNTS) fake.addMailbox(account);
  identity = new FakeIdentity();
  await identity.start();
  graph = new FakeGraph({ identity });
  await graph.start();
  trustCaInProcess(identity.caCertPem);
  identity.registerApp({ ...MS_CLIENT, displayName: 'mail2ticket', roles: ['Mail.Read', 'Mail.Send'], redirectUris: [MS_REDIRECT_URI, OTHER_REDIRECT_URI], groupMembershipClaims: 'DirectoryRole' });
  identity.addTenant(CONTOSO, { displayName: 'Contoso' });
  identity.addTenant(FABRIKAM, { displayName: 'Fabrikam' });
  identity.setVerifiedDomains(CONTOSO, ['contoso.example']);
  identity.setVerifiedDomains(FABRIKAM, ['fabrikam.example']);
  identity.addUser({ tenantId: CONTOSO, userPrincipalName: 'admin@contoso.example', displayName: 'Contoso Admin', roles: [GLOBAL_ADMINISTRATOR] });
  identity.addUser({ tenantId: FABRIKAM, userPrincipalName: 'admin@fabrikam.example', displayName: 'Fabrikam Admin', roles: [GLOBAL_ADMINISTRATOR] });
  const networkClient = new CaTrustingNetworkModule(identity.caCertPem);
  const deps = { ...stack.deps, clock };
  const gmail = new GoogleGmailConnector({ ...CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl, revokeUrl: fake.revokeUrl, timeoutMs: 5_000 });
  const site = localConsentSite({ ...stack, deps }, {
    baseUrl: BASE,
    retention: { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock },
    providers: {
      google: {
        authorization: new GoogleOAuthAuthorization({ ...CLIENT, authBaseUrl: fake.authorizeUrl, tokenUrl: fake.tokenUrl, certsUrl: fake.certsUrl, revokeUrl: fake.revokeUrl }),
        origin: new URL(fake.authorizeUrl).origin,
        lifecycle: { ...deps, directory: stack.directory, gmail, metrics: new CountingMetrics(), settings: { topicName: 'projects/p/topics/gmail' } },
      },
      microsoft: {
        authorization: new MsalMicrosoftAuthorization({ ...MS_CLIENT, credential: { clientSecret: MS_CLIENT.clientSecret }, authorityHost: identity.url, graphBaseUrl: graph.origin, networkClient }),
        origin: identity.url,
        lifecycle: {
          ...deps,
          directory: stack.directory,
          graph: new MicrosoftGraphConnector({ clientId: MS_CLIENT.clientId, credential: { clientSecret: MS_CLIENT.clientSecret }, graphBaseUrl: graph.origin, authorityHost: identity.url, networkClient }),
          metrics: new CountingMetrics(),
          settings: { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: `${BASE}/webhooks/graph`, lifecycleNotificationUrl: `${BASE}/webhooks/graph/lifecycle` },
        },
      },
    },
    // Refusals are answers, not failures: only an unexpected error is reported here.
    report: (line) => expect.fail(line),
  });
  handle = handleConsent(site);
}, 120_000);

afterAll(async () => {
  capture?.stop();
  await fake?.stop();
  await graph?.stop();
  await identity?.stop();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  expect(fake.errors).toEqual([]);
  expect(identity.errors).toEqual([]);
});

const cookieOf = (cookies: string[] | undefined, name: string) => (cookies ?? []).find((c) => c.startsWith(`${name}=`))?.split(';')[0] as string;
const csrfIn = (body: unknown) => /name="csrf" value="([^"]+)"/.exec(String(body))?.[1] as string;

/** A fresh tenant and its admin's session, opened through an invite as the landing page does. */
async function adminSession(name: string): Promise<{ tenantId: string; session: string; invite: string }> {
  const tenant = await createTenant({ store: stack.consent.store, clock, ids: stack.deps.ids }, `Tenant ${name}`);
  const { url } = await createInvite({ store: stack.consent.store, clock, ids: stack.deps.ids, signingKey: stack.consent.signingKey, baseUrl: BASE }, tenant.tenantId);
  const invite = new URL(url).searchParams.get('invite') as string;
  const landing = await handle(consentEvent('GET', '/connect', { query: { invite } }));
  expect(landing.statusCode).toBe(200);
  const pre = cookieOf(landing.cookies, 'm2t_pre');
  const started = await handle(consentEvent('POST', '/connect/start', { cookies: [pre], form: { invite, csrf: csrfIn(landing.body), provider: 'google' } }));
  expect(started.statusCode).toBe(303);
  const session = cookieOf(started.cookies, 'm2t_session');
  secret(invite, 'invite');
  secret(pre.split('=')[1], 'pre-session cookie');
  secret(csrfIn(landing.body), 'landing csrf token');
  secret(session.split('=')[1], 'session cookie');
  return { tenantId: tenant.tenantId, session, invite };
}

/** Starts a Google connect from the status page's form; answers Google's authorization URL. */
async function beginConnect(session: string): Promise<URL> {
  const status = await handle(consentEvent('GET', '/connect/status', { cookies: [session] }));
  expect(status.statusCode).toBe(200);
  const started = await handle(consentEvent('POST', '/connect/start', { cookies: [session], form: { csrf: csrfIn(status.body), provider: 'google' } }));
  expect(started.statusCode).toBe(303);
  secret(csrfIn(status.body), 'session csrf token');
  return roundTrip(new URL(String(started.headers?.location)));
}

const unescapeHtml = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');

/** At Google: the consent screen of `authorizeUrl`, "Continue as `account`" clicked; answers where Google sent the browser. */
async function consentAt(authorizeUrl: URL, account: string): Promise<URL> {
  const screen = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await screen.text();
  expect(screen.status).toBe(200);
  for (const [, attributes = '', body = ''] of html.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)) {
    const button = /<button[^>]*>([\s\S]*?)<\/button>/.exec(body);
    if (!button || unescapeHtml(button[1] ?? '').trim() !== `Continue as ${account}`) continue;
    const fields = new URLSearchParams();
    for (const [, name = '', value = ''] of body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields.append(unescapeHtml(name), unescapeHtml(value));
    const decision = await fetch(new URL(unescapeHtml(/action="([^"]*)"/.exec(attributes)?.[1] ?? ''), authorizeUrl), { method: 'POST', body: fields, redirect: 'manual' });
    await decision.arrayBuffer();
    expect(decision.status).toBe(302);
    return new URL(decision.headers.get('location') ?? '');
  }
  throw new Error(`no "Continue as ${account}" on the consent screen`);
}

async function callback(session: string | null, query: Record<string, string>) {
  return handle(consentEvent('GET', '/connect/google/callback', { query, ...(session ? { cookies: [session] } : {}) }));
}

/** A provider URL of a round trip (there or back): its state, PKCE challenge and code are secrets. */
function roundTrip(url: URL): URL {
  for (const name of ['state', 'code', 'code_challenge', 'nonce']) secret(url.searchParams.get(name), `oauth ${name}`);
  return url;
}
const params = (url: URL) => Object.fromEntries(roundTrip(url).searchParams) as Record<string, string>;
const gmailMailboxes = async (tenantId: string) => (await stack.deps.repo.listMailboxes(tenantId)).filter((m) => m.provider === 'gmail' && m.status === 'connected');
const tokenRedemptions = () => fake.count('POST', '/token');

describe('OAuth round trip attacks', () => {
  it('the control: an honest round trip connects the mailbox', async () => {
    const admin = await adminSession('honest');
    const back = await consentAt(await beginConnect(admin.session), 'alice@acme.example');
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    const answer = await callback(admin.session, params(back));
    expect(answer.statusCode).toBe(303);
    expect(String(answer.headers?.location)).toContain('notice=connected');
    expect(await gmailMailboxes(admin.tenantId)).toHaveLength(1);
  });

  it('a replayed callback (the same state and code again) is refused, the code is not redeemed again, nothing more is connected', async () => {
    const admin = await adminSession('replay');
    const back = await consentAt(await beginConnect(admin.session), 'bob@acme.example');
    expect((await callback(admin.session, params(back))).statusCode).toBe(303);
    const redeemed = tokenRedemptions();
    const mailboxes = await gmailMailboxes(admin.tenantId);
    expect(mailboxes).toHaveLength(1);

    const again = await callback(admin.session, params(back));
    expect(again.statusCode).toBe(400);
    expect(tokenRedemptions()).toBe(redeemed);
    expect(await gmailMailboxes(admin.tenantId)).toEqual(mailboxes);
  });

  it('finding: code reuse — a code already redeemed, brought back with a fresh state of the same session, is refused 400 (was a 502 "provider error", counted toward the API\'s 5xx alarm) and connects nothing', async () => {
    const admin = await adminSession('code-reuse');
    const first = await consentAt(await beginConnect(admin.session), 'carol@acme.example');
    expect((await callback(admin.session, params(first))).statusCode).toBe(303);
    const mailboxes = await gmailMailboxes(admin.tenantId);

    const fresh = await beginConnect(admin.session);
    const reuse = await callback(admin.session, { state: fresh.searchParams.get('state') as string, code: first.searchParams.get('code') as string });
    expect(reuse.statusCode).toBe(400);
    expect(await gmailMailboxes(admin.tenantId)).toEqual(mailboxes);
  });

  it('a foreign state: another session (another tenant\'s admin) presenting a victim\'s state and code is refused before any redemption; nothing is connected to either tenant', async () => {
    const victim = await adminSession('victim');
    const attacker = await adminSession('attacker');
    const back = await consentAt(await beginConnect(victim.session), 'dave@acme.example');
    const redeemed = tokenRedemptions();
    const stolen = await callback(attacker.session, params(back));
    expect(stolen.statusCode).toBe(400);
    expect(tokenRedemptions()).toBe(redeemed);
    expect(await gmailMailboxes(attacker.tenantId)).toEqual([]);
    expect(await gmailMailboxes(victim.tenantId)).toEqual([]);
    // Without any session the callback is refused before anything is looked up.
    expect((await callback(null, params(back))).statusCode).toBe(401);
  });

  it('finding: code injection — the attacker\'s own code (issued against the attacker\'s PKCE challenge) under the victim\'s state fails PKCE at Google: refused 400 (was 502), nothing connected', async () => {
    const victim = await adminSession('pkce-victim');
    const attacker = await adminSession('pkce-attacker');
    const attackerBack = await consentAt(await beginConnect(attacker.session), 'mallory@evil.example');
    const victimAuthorize = await beginConnect(victim.session);
    const injected = await callback(victim.session, { state: victimAuthorize.searchParams.get('state') as string, code: attackerBack.searchParams.get('code') as string });
    expect(injected.statusCode).toBe(400);
    expect(await gmailMailboxes(victim.tenantId)).toEqual([]);
    // The victim's state was spent on the refused exchange: the same injection again is a replay.
    const redeemed = tokenRedemptions();
    expect((await callback(victim.session, { state: victimAuthorize.searchParams.get('state') as string, code: attackerBack.searchParams.get('code') as string })).statusCode).toBe(400);
    expect(tokenRedemptions()).toBe(redeemed);
    expect(await gmailMailboxes(victim.tenantId)).toEqual([]);
  });

  it('a state never issued (so no PKCE verifier stored), an empty or oversized state, and a callback without a code: refused, nothing redeemed', async () => {
    const admin = await adminSession('forged-state');
    const redeemed = tokenRedemptions();
    for (const query of [{ state: 'A'.repeat(43), code: '4/0forged' } as Record<string, string>, { state: '', code: '4/0forged' }, { state: 'A'.repeat(101), code: '4/0forged' }, { code: '4/0forged' }]) {
      expect((await callback(admin.session, query)).statusCode, JSON.stringify(query)).toBe(400);
    }
    const issued = await beginConnect(admin.session);
    expect((await callback(admin.session, { state: issued.searchParams.get('state') as string })).statusCode).toBe(400);
    expect(tokenRedemptions()).toBe(redeemed);
    expect(await gmailMailboxes(admin.tenantId)).toEqual([]);
  });

  it('redirect URI mismatch: a code Google issued to another redirect URI of the client, brought to our callback with our state, is refused', async () => {
    const admin = await adminSession('redirect');
    const authorize = await beginConnect(admin.session);
    authorize.searchParams.set('redirect_uri', OTHER_REDIRECT_URI);
    const elsewhere = await consentAt(authorize, 'erin@acme.example');
    expect(`${elsewhere.origin}${elsewhere.pathname}`).toBe(OTHER_REDIRECT_URI);
    const answer = await callback(admin.session, params(elsewhere));
    expect(answer.statusCode).toBe(400);
    expect(await gmailMailboxes(admin.tenantId)).toEqual([]);
  });

  it('an expired state (past its ten minutes) and a cancelled consent are refused, nothing redeemed', async () => {
    const admin = await adminSession('expired');
    const back = await consentAt(await beginConnect(admin.session), 'frank@acme.example');
    const redeemed = tokenRedemptions();
    clock.offsetMs += 11 * 60_000;
    try {
      expect((await callback(admin.session, params(back))).statusCode).toBe(400);
    } finally {
      clock.offsetMs = 0;
    }
    const cancelled = await beginConnect(admin.session);
    expect((await callback(admin.session, { state: cancelled.searchParams.get('state') as string, error: 'access_denied' })).statusCode).toBe(403);
    expect(tokenRedemptions()).toBe(redeemed);
    expect(await gmailMailboxes(admin.tenantId)).toEqual([]);
  });
});

describe('forms and invites', () => {
  it('POSTs without a CSRF token, with another session\'s, or with the pre-session\'s token are refused 403 and change nothing', async () => {
    const admin = await adminSession('csrf');
    const other = await adminSession('csrf-other');
    await stack.deps.repo.putMailbox({ tenantId: admin.tenantId, mailboxId: 'gmail-csrf1', provider: 'gmail', status: 'connected', createdAt: clock.now().toISOString() });
    const otherCsrf = csrfIn((await handle(consentEvent('GET', '/connect/status', { cookies: [other.session] }))).body);
    const attempts: Array<[string, Record<string, string>]> = [
      ['/connect/start', { provider: 'google' }],
      ['/connect/start', { provider: 'google', csrf: otherCsrf }],
      ['/connect/disconnect', { mailbox: 'gmail-csrf1' }],
      ['/connect/disconnect', { mailbox: 'gmail-csrf1', csrf: otherCsrf }],
      ['/connect/disconnect', { mailbox: 'gmail-csrf1', csrf: 'x'.repeat(43) }],
    ];
    const redeemed = tokenRedemptions();
    for (const [path, form] of attempts) {
      const answer = await handle(consentEvent('POST', path, { cookies: [admin.session], form }));
      expect(answer.statusCode, `${path} ${JSON.stringify(form)}`).toBe(403);
      expect(answer.headers?.location).toBeUndefined();
    }
    expect(tokenRedemptions()).toBe(redeemed);
    expect((await stack.deps.repo.getMailbox(admin.tenantId, 'gmail-csrf1'))?.status).toBe('connected');
  });

  it('tampered, foreign-signed, truncated and expired invites are refused before any session is made', async () => {
    const tenant = await createTenant({ store: stack.consent.store, clock, ids: stack.deps.ids }, 'Tenant invites');
    const { url } = await createInvite({ store: stack.consent.store, clock, ids: stack.deps.ids, signingKey: stack.consent.signingKey, baseUrl: BASE }, tenant.tenantId);
    const token = new URL(url).searchParams.get('invite') as string;
    const [tenantId, inviteId, expires, signature] = token.split('.') as [string, string, string, string];
    const past = String(Math.floor(Date.now() / 1000) - 60);
    const otherKey = new Uint8Array(32).fill(7);
    const forms: Array<[string, string, number]> = [
      ['tampered expiry', [tenantId, inviteId, String(Number(expires) + 86_400), signature].join('.'), 400],
      ['other tenant', [`${tenantId}x`, inviteId, expires, signature].join('.'), 400],
      ['foreign key', [tenantId, inviteId, expires, sign(otherKey, 'invite', tenantId, inviteId, expires)].join('.'), 400],
      ['truncated', [tenantId, inviteId, expires].join('.'), 400],
      ['expired', [tenantId, inviteId, past, sign(stack.consent.signingKey, 'invite', tenantId, inviteId, past)].join('.'), 410],
    ];
    for (const [label, invite, status] of forms) {
      const landing = await handle(consentEvent('GET', '/connect', { query: { invite } }));
      expect(landing.statusCode, label).toBe(status);
      // And the landing's POST with it: no session cookie is ever set.
      const started = await handle(consentEvent('POST', '/connect/start', { form: { invite, csrf: 'x'.repeat(43), provider: 'google' } }));
      expect(started.statusCode, label).toBeGreaterThanOrEqual(400);
      expect(cookieOf(started.cookies, 'm2t_session'), label).toBeUndefined();
    }
    // The genuine link still opens.
    expect((await handle(consentEvent('GET', '/connect', { query: { invite: token } }))).statusCode).toBe(200);
  });
});

/** At Microsoft: the screen at `url`, the button `label` clicked; answers where the browser was sent. */
async function clickAt(url: URL | string, label: string): Promise<URL> {
  const screen = await fetch(url, { redirect: 'manual' });
  const html = await screen.text();
  expect(screen.status).toBe(200);
  const attr = (tag: string, name: string) => {
    const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
    return value === undefined ? undefined : value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  };
  for (const [, open = '', inner = ''] of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const button = /<button\b[^>]*>([\s\S]*?)<\/button>/.exec(inner);
    if (!button || unescapeHtml(button[1] ?? '').trim() !== label) continue;
    const fields = new URLSearchParams();
    for (const [input] of inner.matchAll(/<input\b[^>]*>/g)) fields.append(attr(input, 'name') ?? '', attr(input, 'value') ?? '');
    const decision = await fetch(new URL(attr(open, 'action') ?? '', url), { method: 'POST', redirect: 'manual', body: fields });
    await decision.arrayBuffer();
    expect(decision.status).toBe(302);
    return new URL(decision.headers.get('location') ?? '', url);
  }
  throw new Error(`no "${label}" on the screen`);
}

async function beginMicrosoft(session: string): Promise<URL> {
  const status = await handle(consentEvent('GET', '/connect/status', { cookies: [session] }));
  const started = await handle(consentEvent('POST', '/connect/start', { cookies: [session], form: { csrf: csrfIn(status.body), provider: 'microsoft' } }));
  expect(started.statusCode).toBe(303);
  return roundTrip(new URL(String(started.headers?.location)));
}

async function msCallback(session: string | null, query: Record<string, string>) {
  return handle(consentEvent('GET', '/connect/microsoft/callback', { query, ...(session ? { cookies: [session] } : {}) }));
}

const codeRedemptions = () => identity.tokenRequests.length;
const graphMailboxes = async (tenantId: string) => (await stack.deps.repo.listMailboxes(tenantId)).filter((m) => m.provider === 'graph');

describe('Microsoft sign-in and admin consent round trips', () => {
  it('the control: sign-in callback leads on to the directory\'s admin consent, whose callback opens the mailbox step', async () => {
    const admin = await adminSession('ms-honest');
    const back = await clickAt(await beginMicrosoft(admin.session), 'Sign in as admin@contoso.example');
    expect(`${back.origin}${back.pathname}`).toBe(MS_REDIRECT_URI);
    const signedIn = await msCallback(admin.session, params(back));
    expect(signedIn.statusCode).toBe(303);
    const consentUrl = new URL(String(signedIn.headers?.location));
    expect(consentUrl.pathname).toContain(CONTOSO);
    const consented = await clickAt(consentUrl, 'Accept as admin@contoso.example');
    const step = await msCallback(admin.session, params(consented));
    expect(step.statusCode).toBe(200);
    expect(String(step.body)).toContain('contoso.example');
  });

  it('finding (Microsoft sign-in too): a replayed sign-in callback, a foreign session\'s, and one with the code already redeemed under a fresh state (was 502) — refused 400, no code redeemed again', async () => {
    const admin = await adminSession('ms-replay');
    const other = await adminSession('ms-other');
    const back = await clickAt(await beginMicrosoft(admin.session), 'Sign in as admin@contoso.example');
    expect((await msCallback(admin.session, params(back))).statusCode).toBe(303);
    const redeemed = codeRedemptions();
    expect((await msCallback(admin.session, params(back))).statusCode).toBe(400);
    expect((await msCallback(other.session, params(back))).statusCode).toBe(400);
    expect(codeRedemptions()).toBe(redeemed);

    const fresh = await beginMicrosoft(admin.session);
    expect((await msCallback(admin.session, { state: fresh.searchParams.get('state') as string, code: back.searchParams.get('code') as string })).statusCode).toBe(400);
    expect(await graphMailboxes(admin.tenantId)).toEqual([]);
  });

  it('a foreign session\'s sign-in state is refused before any redemption, and the victim\'s state is then spent', async () => {
    const victim = await adminSession('ms-victim');
    const attacker = await adminSession('ms-attacker');
    const back = await clickAt(await beginMicrosoft(victim.session), 'Sign in as admin@contoso.example');
    const redeemed = codeRedemptions();
    expect((await msCallback(attacker.session, params(back))).statusCode).toBe(400);
    expect(codeRedemptions()).toBe(redeemed);
    expect((await msCallback(victim.session, params(back))).statusCode).toBe(400);
  });

  it('states carried across providers and steps: a Google state at the Microsoft callback, a Microsoft state at the Google callback, an admin-consent state replayed or answered for another directory — refused', async () => {
    const admin = await adminSession('ms-cross');
    const googleState = (await beginConnect(admin.session)).searchParams.get('state') as string;
    expect((await msCallback(admin.session, { state: googleState, code: 'x' })).statusCode).toBe(400);
    const microsoftState = (await beginMicrosoft(admin.session)).searchParams.get('state') as string;
    expect((await callback(admin.session, { state: microsoftState, code: 'x' })).statusCode).toBe(400);

    const back = await clickAt(await beginMicrosoft(admin.session), 'Sign in as admin@contoso.example');
    const consentUrl = new URL(String((await msCallback(admin.session, params(back))).headers?.location));
    const consented = params(await clickAt(consentUrl, 'Accept as admin@contoso.example'));
    // The consent answered for another directory than the signed-in admin's.
    expect((await msCallback(admin.session, { ...consented, tenant: FABRIKAM })).statusCode).toBe(403);
    // That state is spent: the genuine answer afterwards is a replay.
    expect((await msCallback(admin.session, consented)).statusCode).toBe(400);
    expect(await graphMailboxes(admin.tenantId)).toEqual([]);
  });

  it('redirect URI mismatch: a sign-in code issued to another redirect URI of the app, brought to our callback with our state, is refused 400', async () => {
    const admin = await adminSession('ms-redirect');
    const signIn = await beginMicrosoft(admin.session);
    signIn.searchParams.set('redirect_uri', OTHER_REDIRECT_URI);
    const elsewhere = await clickAt(signIn, 'Sign in as admin@contoso.example');
    expect(`${elsewhere.origin}${elsewhere.pathname}`).toBe(OTHER_REDIRECT_URI);
    expect((await msCallback(admin.session, params(elsewhere))).statusCode).toBe(400);
    expect(await graphMailboxes(admin.tenantId)).toEqual([]);
  });
});

describe('log hygiene under attack', () => {
  it('no captured line holds an invite, cookie, CSRF token, state, code, PKCE challenge, client secret or account address', () => {
    expect(capture.lines.filter((l) => l.includes('"consent request"')).length).toBeGreaterThan(20);
    expect(secrets.size).toBeGreaterThan(40);
    expect(secrets.leaksIn(capture)).toEqual([]);
  });
});
