// GoogleOAuthAuthorization against the fake Google authorization server over real HTTP: the adapter
// builds the URL, a fetch-driven "browser" reads the consent screen and posts the decision, the real
// google-auth-library redeems the code and verifies the id token with the fake's published keys.
import { createHash, randomBytes } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GMAIL_CONNECT_SCOPES, GoogleOAuthAuthorization } from '../../shared/adapters/oauth/google-authorization.js';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { AuthorizationRejected, type GoogleAuthorizationRequest, type GooglePurpose } from '../../shared/domain/consent/ports.js';
import { FakeGmail, googleSubject, type IdTokenTamper } from '../../shared/sandbox/fake-gmail.js';

const CLIENT = { clientId: 'consent-client.apps.googleusercontent.com', clientSecret: 'GOCSPX-consent' };
const REDIRECT_URI = 'http://localhost:8788/oauth/google/callback';
const OTHER_REDIRECT_URI = 'http://localhost:8788/oauth/google/other';
const ALICE = 'alice@support.example.com';
const BOB = 'bob@support.example.com';

let fake: FakeGmail;
let google: GoogleOAuthAuthorization;

beforeAll(async () => {
  fake = new FakeGmail({ ...CLIENT, redirectUris: [REDIRECT_URI], appName: 'mail2ticket' });
  await fake.start();
  fake.registerRedirectUri(OTHER_REDIRECT_URI);
  fake.addMailbox(ALICE);
  fake.addMailbox(BOB);
  google = new GoogleOAuthAuthorization({ ...CLIENT, authBaseUrl: fake.authorizeUrl, tokenUrl: fake.tokenUrl, certsUrl: fake.certsUrl, revokeUrl: fake.revokeUrl });
});

afterAll(async () => {
  await fake.stop();
  expect(fake.errors).toEqual([]);
});

interface Flow {
  request: GoogleAuthorizationRequest;
  verifier: string;
  url: URL;
}

function newFlow(purpose: GooglePurpose, extra: Partial<GoogleAuthorizationRequest> = {}): Flow {
  const verifier = randomBytes(48).toString('base64url');
  const request: GoogleAuthorizationRequest = {
    purpose,
    state: randomBytes(16).toString('base64url'),
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    redirectUri: REDIRECT_URI,
    ...extra,
  };
  return { request, verifier, url: new URL(google.authorizationUrl(request)) };
}

interface Page {
  status: number;
  location: string | null;
  html: string;
  contentType: string | null;
  headers: Headers;
}

async function get(url: URL | string): Promise<Page> {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text(), contentType: response.headers.get('content-type'), headers: response.headers };
}

const unescapeHtml = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');

/** The form holding a button with exactly that text, as the browser would submit it. */
function formOf(html: string, buttonText: string): { action: string; fields: URLSearchParams } {
  for (const [, attributes = '', body = ''] of html.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)) {
    const button = /<button[^>]*>([\s\S]*?)<\/button>/.exec(body);
    if (!button || unescapeHtml(button[1] ?? '').trim() !== buttonText) continue;
    expect(attributes).toMatch(/method="post"/);
    const fields = new URLSearchParams();
    for (const [, name = '', value = ''] of body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields.append(unescapeHtml(name), unescapeHtml(value));
    return { action: unescapeHtml(/action="([^"]*)"/.exec(attributes)?.[1] ?? ''), fields };
  }
  throw new Error(`no form with a button "${buttonText}"`);
}

async function post(base: URL | string, form: { action: string; fields: URLSearchParams }): Promise<Page> {
  const response = await fetch(new URL(form.action, base), { method: 'POST', body: form.fields, redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text(), contentType: response.headers.get('content-type'), headers: response.headers };
}

/** Opens the consent screen at the adapter's URL and clicks the button; answers where Google redirected. */
async function click(flow: Flow, buttonText: string): Promise<URL> {
  const page = await get(flow.url);
  expect(page.status).toBe(200);
  const decision = await post(flow.url, formOf(page.html, buttonText));
  expect(decision.status).toBe(302);
  return new URL(decision.location ?? '');
}

async function consentCode(flow: Flow, email: string): Promise<string> {
  const callback = await click(flow, `Continue as ${email}`);
  expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
  expect(callback.searchParams.get('state')).toBe(flow.request.state);
  const code = callback.searchParams.get('code');
  expect(code).toBeTruthy();
  return code as string;
}

function exchange(flow: Flow, code: string, overrides: { codeVerifier?: string; redirectUri?: string; nonce?: string } = {}) {
  return google.exchangeCode({ purpose: flow.request.purpose, code, codeVerifier: flow.verifier, redirectUri: flow.request.redirectUri, nonce: flow.request.nonce, ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<AuthorizationRejected> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthorizationRejected);
  return error as AuthorizationRejected;
}

describe('connect', () => {
  it('asks for exactly gmail.readonly + gmail.send, offline, with consent and PKCE S256', () => {
    const flow = newFlow('connect', { loginHint: ALICE });
    const query = flow.url.searchParams;
    expect(`${flow.url.origin}${flow.url.pathname}`).toBe(fake.authorizeUrl);
    expect(query.get('scope')?.split(' ').sort()).toEqual(['https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/gmail.send']);
    expect(Object.fromEntries(query)).toMatchObject({
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      access_type: 'offline',
      prompt: 'consent',
      code_challenge_method: 'S256',
      code_challenge: flow.request.codeChallenge,
      state: flow.request.state,
      login_hint: ALICE,
    });
    expect(query.has('include_granted_scopes')).toBe(false);
    expect(query.has('nonce')).toBe(false);
  });

  it('returns a refresh token that reads the inbox and sends replies through the Gmail connector', async () => {
    const flow = newFlow('connect', { loginHint: ALICE });
    const code = await consentCode(flow, ALICE);
    const recorded = fake.authorizeRequests.at(-1)?.query;
    expect(recorded?.get('code_challenge')).toBe(flow.request.codeChallenge);
    expect(recorded?.get('code_challenge_method')).toBe('S256');

    const { refreshToken, identity } = await exchange(flow, code);
    expect(refreshToken).toMatch(/^1\/\/0/);
    expect(identity).toBeUndefined();

    const delivered = fake.deliver(ALICE, Buffer.from('From: c@example.net\r\nTo: alice@support.example.com\r\nSubject: hi\r\nMessage-ID: <c1@example.net>\r\n\r\nhello\r\n'));
    const api = new GoogleGmailConnector({ ...CLIENT, rootUrl: `${fake.url}/`, tokenUrl: fake.tokenUrl }).open({ address: ALICE, refreshToken: refreshToken as string });
    const profile = await api.getProfile();
    expect(profile.emailAddress).toBe(ALICE);
    expect((await api.getHeaders(delivered.id, ['Message-ID'])).headers['message-id']).toBe('<c1@example.net>');
    const sent = await api.send(Buffer.from('From: alice@support.example.com\r\nTo: c@example.net\r\nSubject: Re: hi\r\n\r\nthanks\r\n'), delivered.threadId);
    expect(sent.threadId).toBe(delivered.threadId);
    expect(fake.sent(ALICE)).toHaveLength(1);
  });

  it('shows an accessible consent screen: the app, the scopes in words, one button per account, no script', async () => {
    const page = await get(newFlow('connect').url);
    expect(page.contentType).toMatch(/^text\/html/);
    expect(page.html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(page.html).toMatch(/<title>[^<]+<\/title>/);
    expect(page.html).toMatch(/<h1>[^<]*mail2ticket[^<]*<\/h1>/);
    expect(page.html).toContain('<li>View your email messages and settings</li>');
    expect(page.html).toContain('<li>Send email on your behalf</li>');
    expect(page.html).not.toMatch(/<script|\son\w+=|\sstyle=/i);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(formOf(page.html, `Continue as ${ALICE}`).fields.get('account')).toBe(ALICE);
    expect(formOf(page.html, `Continue as ${BOB}`).fields.get('account')).toBe(BOB);
    expect(formOf(page.html, 'Cancel').action).toBe('/o/oauth2/v2/auth/decision');

    const hinted = await get(newFlow('connect', { loginHint: BOB }).url);
    expect(() => formOf(hinted.html, `Continue as ${ALICE}`)).toThrow(/no form/);
    expect(formOf(hinted.html, `Continue as ${BOB}`).fields.get('account')).toBe(BOB);
  });

  it('rejects a connection without gmail.send (granular consent) and revokes the partial grant', async () => {
    fake.declineScopesAtConsent(['https://www.googleapis.com/auth/gmail.send']);
    try {
      const flow = newFlow('connect');
      const code = await consentCode(flow, ALICE);
      const revokes = fake.count('POST', '/revoke');
      const error = await rejection(exchange(flow, code));
      expect(error.reason).toBe('provider_error');
      expect(error.message).toContain('gmail.send');
      expect(error.message).toContain('revoked');
      expect(fake.count('POST', '/revoke')).toBe(revokes + 1);
    } finally {
      fake.declineScopesAtConsent([]);
    }
  });
});

describe('confirm', () => {
  it('asks for a fresh OpenID Connect sign-in with the nonce and PKCE S256', () => {
    const flow = newFlow('confirm', { loginHint: BOB });
    expect(Object.fromEntries(flow.url.searchParams)).toEqual({
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid email',
      prompt: 'select_account',
      max_age: '0',
      nonce: flow.request.nonce,
      code_challenge_method: 'S256',
      code_challenge: flow.request.codeChallenge,
      state: flow.request.state,
      login_hint: BOB,
    });
  });

  it('returns the identity from a verified id token', async () => {
    const before = Math.floor(Date.now() / 1000);
    const flow = newFlow('confirm', { loginHint: BOB });
    const { identity, refreshToken } = await exchange(flow, await consentCode(flow, BOB));
    expect(refreshToken).toBeUndefined();
    expect(identity).toEqual({ email: BOB, emailVerified: true, subject: googleSubject(BOB), authTime: expect.any(Number) });
    expect(identity?.subject).toMatch(/^\d{21}$/);
    expect(identity?.authTime).toBeGreaterThanOrEqual(before);

    const again = newFlow('confirm');
    const second = await exchange(again, await consentCode(again, BOB));
    expect(second.identity?.subject).toBe(identity?.subject);
  });

  it('refuses an id token whose nonce is not this sign-in’s', async () => {
    const flow = newFlow('confirm');
    const code = await consentCode(flow, ALICE);
    const error = await rejection(exchange(flow, code, { nonce: 'another-nonce' }));
    expect(error.reason).toBe('nonce_mismatch');
  });

  const forgeries: Array<[string, IdTokenTamper, string]> = [
    ['signed by a key Google does not publish', { unpublishedKey: true }, 'bad signature'],
    ['issued to another client', { claims: (c) => ({ ...c, aud: 'someone-else.apps.googleusercontent.com' }) }, 'another client'],
    ['not issued by Google', { claims: (c) => ({ ...c, iss: 'https://accounts.example.com' }) }, 'not issued by Google'],
    ['expired', { claims: (c) => ({ ...c, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }) }, 'expired'],
  ];
  it.each(forgeries)('refuses an id token %s, without echoing it', async (_, tamper, words) => {
    const flow = newFlow('confirm');
    const code = await consentCode(flow, ALICE);
    fake.tamperNextIdTokenForTest(tamper);
    const error = await rejection(exchange(flow, code));
    expect(error.reason).toBe('invalid_token');
    expect(error.message).toContain(words);
    expect(error.message).not.toMatch(/eyJ/);
    expect(error.message).not.toContain(code);
  });
});

describe('exchange failures', () => {
  it('refuses a wrong PKCE verifier as invalid_grant, without echoing code or verifier', async () => {
    const flow = newFlow('connect');
    const code = await consentCode(flow, ALICE);
    const wrongVerifier = randomBytes(48).toString('base64url');
    const error = await rejection(exchange(flow, code, { codeVerifier: wrongVerifier }));
    expect(error.reason).toBe('invalid_grant');
    expect(error.message).not.toContain(code);
    expect(error.message).not.toContain(wrongVerifier);
    expect(error.message).not.toContain(CLIENT.clientSecret);
  });

  it('refuses a code redeemed twice as invalid_grant', async () => {
    const flow = newFlow('connect');
    const code = await consentCode(flow, ALICE);
    await exchange(flow, code);
    expect((await rejection(exchange(flow, code))).reason).toBe('invalid_grant');
  });

  it('refuses a code redeemed with another redirect URI than it was issued for', async () => {
    const flow = newFlow('connect');
    const code = await consentCode(flow, ALICE);
    expect((await rejection(exchange(flow, code, { redirectUri: OTHER_REDIRECT_URI }))).reason).toBe('redirect_uri_mismatch');
  });

  it('refuses a code issued to another client', async () => {
    const other = new GoogleOAuthAuthorization({ clientId: 'other.apps.googleusercontent.com', clientSecret: 'x', authBaseUrl: fake.authorizeUrl, tokenUrl: fake.tokenUrl, certsUrl: fake.certsUrl });
    const flow = newFlow('connect');
    const code = await consentCode(flow, ALICE);
    const error = await rejection(other.exchangeCode({ purpose: 'connect', code, codeVerifier: flow.verifier, redirectUri: REDIRECT_URI, nonce: flow.request.nonce }));
    expect(error.reason).toBe('provider_error');
    expect(error.message).toContain('401 invalid_client');
  });
});

describe('the authorization endpoint', () => {
  it('shows redirect_uri_mismatch on its own page for an unregistered redirect URI, never redirecting', async () => {
    const page = await get(newFlow('connect', { redirectUri: 'http://localhost:8788/evil' }).url);
    expect(page.status).toBe(400);
    expect(page.location).toBeNull();
    expect(page.html).toContain('Error 400: redirect_uri_mismatch');
    expect(page.html).toMatch(/<html lang="en">/);
  });

  it('shows invalid_client for an unknown client and invalid_request for a bad parameter', async () => {
    const unknown = newFlow('connect').url;
    unknown.searchParams.set('client_id', 'nobody.apps.googleusercontent.com');
    const client = await get(unknown);
    expect([client.status, client.location]).toEqual([401, null]);
    expect(client.html).toContain('Error 401: invalid_client');

    const method = newFlow('connect').url;
    method.searchParams.set('code_challenge_method', 'S512');
    const bad = await get(method);
    expect([bad.status, bad.location]).toEqual([400, null]);
    expect(bad.html).toContain('Error 400: invalid_request');

    const noScope = newFlow('connect').url;
    noScope.searchParams.delete('scope');
    expect((await get(noScope)).html).toContain('Missing required parameter: scope');
  });

  it('redirects Cancel with error=access_denied and the state, and no code', async () => {
    const flow = newFlow('connect');
    const callback = await click(flow, 'Cancel');
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(flow.request.state);
    expect(callback.searchParams.has('code')).toBe(false);
  });

  it('answers a decision for a used or unknown request with a 400 page', async () => {
    const flow = newFlow('connect');
    const page = await get(flow.url);
    const form = formOf(page.html, `Continue as ${ALICE}`);
    expect((await post(flow.url, form)).status).toBe(302);
    const replay = await post(flow.url, form);
    expect([replay.status, replay.location]).toEqual([400, null]);
    form.fields.set('request', 'made-up');
    expect((await post(flow.url, form)).status).toBe(400);
  });

  it('ignores a redirect URI or account smuggled into the decision form', async () => {
    const flow = newFlow('connect', { loginHint: BOB });
    const page = await get(flow.url);
    const form = formOf(page.html, `Continue as ${BOB}`);
    form.fields.append('redirect_uri', 'http://localhost:8788/evil');
    const ok = await post(flow.url, form);
    expect(ok.location?.startsWith(`${REDIRECT_URI}?`)).toBe(true);

    const hinted = newFlow('connect', { loginHint: BOB });
    const other = formOf((await get(hinted.url)).html, `Continue as ${BOB}`);
    other.fields.set('account', ALICE);
    expect((await post(hinted.url, other)).status).toBe(400);
  });

  it("answers Google's rules at the token endpoint: online sign-in gets an id token, no refresh token, and no Gmail access", async () => {
    const flow = newFlow('confirm');
    const code = await consentCode(flow, ALICE);
    const auth = new OAuth2Client({ ...CLIENT, endpoints: { oauth2TokenUrl: fake.tokenUrl } });
    const { tokens } = await auth.getToken({ code, codeVerifier: flow.verifier, redirect_uri: REDIRECT_URI });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toMatch(/^eyJ/);
    expect(tokens.scope).toBe('openid https://www.googleapis.com/auth/userinfo.email');
    const profile = await fetch(`${fake.url}/gmail/v1/users/me/profile`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(profile.status).toBe(403);
    expect(((await profile.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0]?.reason).toBe('insufficientPermissions');
  });

  it('publishes the signing key as a JWK set as well as PEM', async () => {
    const pem = (await (await fetch(fake.certsUrl)).json()) as Record<string, string>;
    const jwks = (await (await fetch(fake.jwksUrl)).json()) as { keys: Array<{ kid: string; kty: string; alg: string }> };
    expect(Object.keys(pem)).toEqual(jwks.keys.map((k) => k.kid));
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  });
});

it('keeps the connect scopes to the two Gmail scopes the connector needs', () => {
  expect([...GMAIL_CONNECT_SCOPES]).toEqual(['https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/gmail.send']);
});
