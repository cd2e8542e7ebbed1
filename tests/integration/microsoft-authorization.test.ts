// The Microsoft side of the consent site on real parts: MsalMicrosoftAuthorization (the real
// @azure/msal-node and @microsoft/microsoft-graph-client) against the fake identity platform and fake
// Graph over HTTPS with a test CA. The browser is played with fetch: open the URL the adapter built,
// read the screen's forms, post the one whose button names the account, follow nothing, read the
// redirect. Admin consent is checked by what it changes: client-credentials tokens for the directory.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsalMicrosoftAuthorization } from '../../shared/adapters/oauth/microsoft-authorization.js';
import { AuthorizationRejected } from '../../shared/domain/consent/ports.js';
import { FakeGraph } from '../../shared/sandbox/fake-graph.js';
import {
  CaTrustingNetworkModule,
  CLOUD_APPLICATION_ADMINISTRATOR,
  FakeIdentity,
  GLOBAL_ADMINISTRATOR,
  PRIVILEGED_ROLE_ADMINISTRATOR,
  trustCaInProcess,
  type DirectoryUser,
} from '../../shared/sandbox/fake-identity.js';

const CLIENT_ID = randomUUID();
const CLIENT_SECRET = randomBytes(24).toString('base64url');
/** Registered without groupMembershipClaims: its id tokens carry no `wids`. */
const PLAIN_CLIENT_ID = randomUUID();
const REDIRECT_URI = 'https://consent.mail2ticket.test/microsoft/callback';
const OTHER_REDIRECT_URI = 'https://consent.mail2ticket.test/microsoft/other';
const CONTOSO = randomUUID();
const FABRIKAM = randomUUID();
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

let identity: FakeIdentity;
let graph: FakeGraph;
let authorization: MsalMicrosoftAuthorization;
let globalAdmin: DirectoryUser;
let agent: DirectoryUser;

beforeAll(async () => {
  identity = new FakeIdentity();
  await identity.start();
  graph = new FakeGraph({ identity });
  await graph.start();
  // The Graph SDK uses global fetch, and so does this test's browser; msal gets its own network module.
  trustCaInProcess(identity.caCertPem);
  const registration = { clientSecret: CLIENT_SECRET, displayName: 'mail2ticket', roles: ['Mail.Read', 'Mail.Send'], redirectUris: [REDIRECT_URI, OTHER_REDIRECT_URI] };
  identity.registerApp({ ...registration, clientId: CLIENT_ID, groupMembershipClaims: 'DirectoryRole', optionalIdTokenClaims: ['auth_time'] });
  identity.registerApp({ ...registration, clientId: PLAIN_CLIENT_ID });
  identity.addTenant(CONTOSO, { displayName: 'Contoso' });
  identity.setVerifiedDomains(CONTOSO, ['contoso.onmicrosoft.com', 'Contoso.Example', 'support.contoso.example']);
  identity.setVerifiedDomains(FABRIKAM, ['fabrikam.onmicrosoft.com']);
  globalAdmin = identity.addUser({ tenantId: CONTOSO, userPrincipalName: 'admin@contoso.example', displayName: 'Contoso Admin', roles: [GLOBAL_ADMINISTRATOR] });
  agent = identity.addUser({ tenantId: CONTOSO, userPrincipalName: 'agent@contoso.example', displayName: 'Contoso Agent' });
  identity.addUser({ tenantId: CONTOSO, userPrincipalName: 'apps@contoso.example', displayName: 'Contoso Apps', roles: [CLOUD_APPLICATION_ADMINISTRATOR] });
  identity.addUser({ tenantId: FABRIKAM, userPrincipalName: 'roles@fabrikam.example', displayName: 'Fabrikam Roles', roles: [PRIVILEGED_ROLE_ADMINISTRATOR] });
  authorization = adapterFor(CLIENT_ID);
});

afterAll(async () => {
  await graph?.stop();
  await identity?.stop();
  expect(identity.errors).toEqual([]);
  expect(graph.errors).toEqual([]);
});

function adapterFor(clientId: string): MsalMicrosoftAuthorization {
  return new MsalMicrosoftAuthorization({
    clientId,
    credential: { clientSecret: CLIENT_SECRET },
    authorityHost: identity.url,
    graphBaseUrl: graph.origin,
    networkClient: new CaTrustingNetworkModule(identity.caCertPem),
  });
}

// ---- the browser --------------------------------------------------------------------------------

interface Screen {
  url: string;
  status: number;
  location: URL | undefined;
  html: string;
}

async function answer(url: string, response: Response): Promise<Screen> {
  const location = response.headers.get('location');
  return { url, status: response.status, location: location ? new URL(location, url) : undefined, html: await response.text() };
}

async function open(url: string): Promise<Screen> {
  return answer(url, await fetch(url, { redirect: 'manual' }));
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  return value === undefined ? undefined : unescape(value);
}

function buttons(screen: Screen): string[] {
  return [...screen.html.matchAll(/<button\b[^>]*>([\s\S]*?)<\/button>/g)].map((m) => unescape(m[1] ?? '').trim());
}

/** Posts the form whose submit button reads `label`, as a browser would on a click. */
async function click(screen: Screen, label: string): Promise<Screen> {
  for (const [, open = '', inner = ''] of screen.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const button = /<button\b[^>]*>([\s\S]*?)<\/button>/.exec(inner);
    if (!button || unescape(button[1] ?? '').trim() !== label) continue;
    expect(attribute(open, 'method')).toBe('post');
    const fields = new URLSearchParams();
    for (const [input] of inner.matchAll(/<input\b[^>]*>/g)) fields.append(attribute(input, 'name') ?? '', attribute(input, 'value') ?? '');
    const action = new URL(attribute(open, 'action') ?? '', screen.url).toString();
    return answer(action, await fetch(action, { method: 'POST', redirect: 'manual', body: fields }));
  }
  throw new Error(`no button "${label}" on the screen; it has: ${buttons(screen).join(' | ')}`);
}

// ---- helpers ------------------------------------------------------------------------------------

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

interface SignedIn {
  url: URL;
  code: string;
  verifier: string;
  nonce: string;
  redirectUri: string;
}

/** The consent page's first leg: the adapter's URL, the account picked on the screen, the code back. */
async function signIn(upn: string, options: { adapter?: MsalMicrosoftAuthorization; redirectUri?: string; fresh?: boolean } = {}): Promise<SignedIn> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const redirectUri = options.redirectUri ?? REDIRECT_URI;
  const url = await (options.adapter ?? authorization).signInUrl({ state, codeChallenge: challenge, nonce, redirectUri, fresh: options.fresh ?? false });
  const screen = await open(url);
  expect(screen.status).toBe(200);
  const back = await click(screen, `Sign in as ${upn}`);
  expect(back.status).toBe(302);
  const location = back.location as URL;
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  expect(location.searchParams.get('state')).toBe(state);
  return { url: new URL(url), code: location.searchParams.get('code') ?? '', verifier, nonce, redirectUri };
}

async function rejection(promise: Promise<unknown>): Promise<AuthorizationRejected> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthorizationRejected);
  return error as AuthorizationRejected;
}

/** What admin consent is for: our app's client-credentials token for that directory. */
async function appOnlyToken(tenantId: string): Promise<string> {
  const app = new ConfidentialClientApplication({
    auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, authority: `${identity.url}/${tenantId}`, knownAuthorities: [identity.host] },
    system: { networkClient: new CaTrustingNetworkModule(identity.caCertPem) },
  });
  const result = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
  if (!result?.accessToken) throw new Error('no access token');
  return result.accessToken;
}

// ---- sign-in ------------------------------------------------------------------------------------

describe('OpenID Connect sign-in of the admin', () => {
  it('builds an organizations authorize URL with PKCE S256, the nonce, response_mode=query and select_account', async () => {
    const { url, nonce } = await signIn(globalAdmin.userPrincipalName);
    expect(`${url.origin}${url.pathname}`).toBe(`${identity.url}/organizations/oauth2/v2.0/authorize`);
    const q = url.searchParams;
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('response_mode')).toBe('query');
    expect(q.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(q.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'User.Read']));
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toBe(nonce);
    expect(q.get('prompt')).toBe('select_account');
    expect(identity.authorizeRequests.at(-1)).toMatchObject({ tenant: 'organizations', outcome: 'code', params: { nonce, code_challenge_method: 'S256' } });
  });

  it('asks for prompt=login when the sign-in must be fresh', async () => {
    const { url } = await signIn(globalAdmin.userPrincipalName, { fresh: true });
    expect(url.searchParams.get('prompt')).toBe('login');
  });

  it('proves a Global Administrator: directory, object id, admin, verified domains read from Graph', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { code, verifier, nonce, redirectUri } = await signIn(globalAdmin.userPrincipalName);
    const proof = await authorization.completeSignIn({ code, codeVerifier: verifier, redirectUri, nonce });
    expect(proof).toEqual({
      azureTenantId: CONTOSO,
      objectId: globalAdmin.objectId,
      isAdmin: true,
      verifiedDomains: ['contoso.onmicrosoft.com', 'contoso.example', 'support.contoso.example'],
      authTime: expect.any(Number),
    });
    expect(proof.authTime).toBeGreaterThanOrEqual(before);
    const read = graph.requests.filter((r) => r.path === '/v1.0/organization').at(-1);
    expect(read?.query.get('$select')).toBe('verifiedDomains');
    expect(read?.status).toBe(200);
    const redeemed = identity.tokenRequests.at(-1);
    expect(redeemed).toMatchObject({ tenant: 'organizations', grantType: 'authorization_code', credential: 'client_secret', outcome: 'issued' });
  });

  it('proves a Privileged Role Administrator of another directory, picked from the same organizations screen', async () => {
    const { code, verifier, nonce, redirectUri } = await signIn('roles@fabrikam.example');
    const proof = await authorization.completeSignIn({ code, codeVerifier: verifier, redirectUri, nonce });
    expect(proof).toMatchObject({ azureTenantId: FABRIKAM, isAdmin: true, verifiedDomains: ['fabrikam.onmicrosoft.com'] });
  });

  it('says isAdmin false for a user without a directory role, and for a Cloud Application Administrator (no Graph app permissions)', async () => {
    for (const upn of [agent.userPrincipalName, 'apps@contoso.example']) {
      const { code, verifier, nonce, redirectUri } = await signIn(upn);
      const proof = await authorization.completeSignIn({ code, codeVerifier: verifier, redirectUri, nonce });
      expect(proof).toMatchObject({ azureTenantId: CONTOSO, isAdmin: false });
    }
  });

  it('says isAdmin false for a Global Administrator when the app manifest emits no wids (groupMembershipClaims without DirectoryRole)', async () => {
    const plain = adapterFor(PLAIN_CLIENT_ID);
    const { code, verifier, nonce, redirectUri } = await signIn(globalAdmin.userPrincipalName, { adapter: plain });
    const proof = await plain.completeSignIn({ code, codeVerifier: verifier, redirectUri, nonce });
    expect(proof).toMatchObject({ azureTenantId: CONTOSO, objectId: globalAdmin.objectId, isAdmin: false });
  });

  it('rejects a wrong PKCE verifier as invalid_grant', async () => {
    const { code, nonce, redirectUri } = await signIn(globalAdmin.userPrincipalName);
    const error = await rejection(authorization.completeSignIn({ code, codeVerifier: pkce().verifier, redirectUri, nonce }));
    expect(error.reason).toBe('invalid_grant');
    expect(error.message).toContain('AADSTS501481');
    expect(error.message).not.toContain(code);
  });

  it('rejects a code redeemed twice as invalid_grant', async () => {
    const { code, verifier, nonce, redirectUri } = await signIn(globalAdmin.userPrincipalName);
    await authorization.completeSignIn({ code, codeVerifier: verifier, redirectUri, nonce });
    const error = await rejection(authorization.completeSignIn({ code, codeVerifier: verifier, redirectUri, nonce }));
    expect(error.reason).toBe('invalid_grant');
    expect(error.message).toContain('AADSTS54005');
  });

  it('rejects a redemption with another redirect URI than the authorize request had as redirect_uri_mismatch', async () => {
    const { code, verifier, nonce } = await signIn(globalAdmin.userPrincipalName);
    const error = await rejection(authorization.completeSignIn({ code, codeVerifier: verifier, redirectUri: OTHER_REDIRECT_URI, nonce }));
    expect(error.reason).toBe('redirect_uri_mismatch');
  });

  it('rejects an id token whose nonce is not the one this sign-in sent as nonce_mismatch', async () => {
    const { code, verifier, redirectUri } = await signIn(globalAdmin.userPrincipalName);
    const error = await rejection(authorization.completeSignIn({ code, codeVerifier: verifier, redirectUri, nonce: randomBytes(16).toString('base64url') }));
    expect(error.reason).toBe('nonce_mismatch');
  });

  it('shows an unregistered redirect URI an error page and never redirects to it', async () => {
    const url = await authorization.signInUrl({ state: 's', codeChallenge: pkce().challenge, nonce: 'n', redirectUri: 'https://evil.example/callback', fresh: false });
    const screen = await open(url);
    expect(screen.status).toBe(400);
    expect(screen.location).toBeUndefined();
    expect(screen.html).toContain('AADSTS50011');
    expect(buttons(screen)).toEqual([]);
  });

  it('shows an unknown client an error page', async () => {
    const screen = await open(await adapterFor(randomUUID()).signInUrl({ state: 's', codeChallenge: pkce().challenge, nonce: 'n', redirectUri: REDIRECT_URI, fresh: false }));
    expect(screen.status).toBe(400);
    expect(screen.location).toBeUndefined();
    expect(screen.html).toContain('AADSTS700016');
  });

  it('sends Cancel back as error=access_denied with the state and no code', async () => {
    const state = randomBytes(16).toString('base64url');
    const screen = await open(await authorization.signInUrl({ state, codeChallenge: pkce().challenge, nonce: 'n', redirectUri: REDIRECT_URI, fresh: false }));
    const back = await click(screen, 'Cancel');
    expect(back.status).toBe(302);
    const q = back.location?.searchParams;
    expect(q?.get('error')).toBe('access_denied');
    expect(q?.get('error_description')).toMatch(/^AADSTS65004: /);
    expect(q?.get('state')).toBe(state);
    expect(q?.has('code')).toBe(false);
    // The pending request is spent: a second click is refused.
    expect((await click(screen, 'Cancel')).status).toBe(400);
  });

  it('lists only the directory\'s users for a tenant authority, and only the hinted one with login_hint', async () => {
    const base = `${identity.url}/${CONTOSO}/oauth2/v2.0/authorize?client_id=${CLIENT_ID}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`;
    const tenantScreen = await open(base);
    expect(buttons(tenantScreen)).toEqual(['Sign in as admin@contoso.example', 'Sign in as agent@contoso.example', 'Sign in as apps@contoso.example', 'Cancel']);
    expect(tenantScreen.html).toMatch(/^<!DOCTYPE html>\n<html lang="en">[\s\S]*<title>[^<]+<\/title>[\s\S]*<h1>[^<]+<\/h1>/);
    const hinted = await open(`${base}&login_hint=agent%40contoso.example`);
    expect(buttons(hinted)).toEqual(['Sign in as agent@contoso.example', 'Cancel']);
  });
});

// ---- admin consent ------------------------------------------------------------------------------

describe('admin consent for the directory', () => {
  it('builds the v2.0 adminconsent URL of that directory with the .default Graph scope', () => {
    const url = new URL(authorization.adminConsentUrl({ azureTenantId: CONTOSO, state: 'st', redirectUri: REDIRECT_URI }));
    expect(`${url.origin}${url.pathname}`).toBe(`${identity.url}/${CONTOSO}/v2.0/adminconsent`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: CLIENT_ID, scope: GRAPH_SCOPE, redirect_uri: REDIRECT_URI, state: 'st' });
    expect(() => authorization.adminConsentUrl({ azureTenantId: 'organizations', state: 'st', redirectUri: REDIRECT_URI })).toThrow();
  });

  it('Accept redirects with admin_consent=True, tenant and state, and client-credentials tokens for the directory start working', async () => {
    await expect(appOnlyToken(CONTOSO)).rejects.toMatchObject({ errorCode: 'invalid_client' });
    const state = randomBytes(16).toString('base64url');
    const screen = await open(authorization.adminConsentUrl({ azureTenantId: CONTOSO, state, redirectUri: REDIRECT_URI }));
    expect(screen.status).toBe(200);
    expect(screen.html).toContain('Mail.Read (Application)');
    // Only a role that may grant Graph application permissions can accept.
    expect(buttons(screen)).toEqual(['Accept as admin@contoso.example', 'Cancel']);
    const back = await click(screen, 'Accept as admin@contoso.example');
    expect(back.status).toBe(302);
    expect(`${back.location?.origin}${back.location?.pathname}`).toBe(REDIRECT_URI);
    expect(Object.fromEntries(back.location?.searchParams ?? [])).toEqual({ admin_consent: 'True', tenant: CONTOSO, scope: GRAPH_SCOPE, state });
    expect(identity.adminConsentRequests.at(-1)).toMatchObject({ tenant: CONTOSO, outcome: 'consented' });
    const token = await appOnlyToken(CONTOSO);
    expect(decodeJwt(token)).toMatchObject({ tid: CONTOSO, appid: CLIENT_ID, roles: ['Mail.Read', 'Mail.Send'] });
  });

  it('Cancel redirects with error=access_denied and the state, and grants nothing', async () => {
    const state = randomBytes(16).toString('base64url');
    const screen = await open(authorization.adminConsentUrl({ azureTenantId: FABRIKAM, state, redirectUri: REDIRECT_URI }));
    expect(buttons(screen)).toEqual(['Accept as roles@fabrikam.example', 'Cancel']);
    const back = await click(screen, 'Cancel');
    expect(back.status).toBe(302);
    const q = back.location?.searchParams;
    expect(q?.get('error')).toBe('access_denied');
    expect(q?.get('admin_consent')).toBe('True');
    expect(q?.get('state')).toBe(state);
    expect(q?.has('tenant')).toBe(false);
    expect(identity.hasConsent(FABRIKAM, CLIENT_ID)).toBe(false);
    await expect(appOnlyToken(FABRIKAM)).rejects.toMatchObject({ errorCode: 'invalid_client' });
  });

  it('shows an unregistered redirect URI an error page and never redirects to it', async () => {
    const screen = await open(authorization.adminConsentUrl({ azureTenantId: CONTOSO, state: 's', redirectUri: 'https://evil.example/callback' }));
    expect(screen.status).toBe(400);
    expect(screen.location).toBeUndefined();
    expect(screen.html).toContain('AADSTS50011');
  });
});

describe('fake Graph GET /organization', () => {
  it('refuses an app-only token without Organization.Read.All with 403 Authorization_RequestDenied', async () => {
    identity.grantConsent(CONTOSO, CLIENT_ID);
    const response = await fetch(`${graph.url}/organization`, { headers: { authorization: `Bearer ${await appOnlyToken(CONTOSO)}` } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('Authorization_RequestDenied');
  });
});
