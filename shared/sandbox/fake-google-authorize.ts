// Google's authorization endpoint (accounts.google.com/o/oauth2/v2/auth) as the "Using OAuth 2.0 for
// Web Server Applications" and "OpenID Connect" guides document it, with a tiny consent screen a
// headless browser can click, and the signing keys of Google's id tokens (RS256 JWTs under a `kid`,
// published as PEM at /oauth2/v1/certs and as a JWK set at /oauth2/v3/certs).
//
// Like Google, requests it cannot trust to come back to the client (unknown client, unregistered
// redirect URI, a missing or malformed parameter) are answered on its own error page and never
// redirected; everything else goes back to the registered redirect URI with `code` or `error`.
// The pending request lives server-side under a random id; the consent form carries only that id,
// the chosen account and the decision, so nothing a browser posts can change where the code goes.
import { createHash, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { exportJWK, SignJWT } from 'jose';
import type { CodeGrant } from './fake-gmail-oauth.js';
import { escapeHtml } from '../web/html.js';

export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const AUTHORIZE_PATH = '/o/oauth2/v2/auth';
export const DECISION_PATH = '/o/oauth2/v2/auth/decision';
export const PEM_CERTS_PATH = '/oauth2/v1/certs';
export const JWK_CERTS_PATH = '/oauth2/v3/certs';

const ID_TOKEN_SECONDS = 3600;
/** Requests waiting for a decision; past this many the oldest is forgotten (a fake must not grow without bound). */
const MAX_PENDING = 1000;
const GMAIL = 'https://www.googleapis.com/auth/gmail.';
const USERINFO_EMAIL = 'https://www.googleapis.com/auth/userinfo.email';
const USERINFO_PROFILE = 'https://www.googleapis.com/auth/userinfo.profile';

/** The consent screen's wording of each scope Google knows here (as Google's own screen words them). */
const SCOPE_TEXT: Record<string, string> = {
  openid: 'Associate you with your personal info on Google',
  [USERINFO_EMAIL]: 'See your primary Google Account email address',
  [USERINFO_PROFILE]: "See your personal info, including any personal info you've made publicly available",
  'https://mail.google.com/': 'Read, compose, send, and permanently delete all your email from Gmail',
  [`${GMAIL}modify`]: 'Read, compose, and send emails from your Gmail account',
  [`${GMAIL}readonly`]: 'View your email messages and settings',
  [`${GMAIL}send`]: 'Send email on your behalf',
  [`${GMAIL}compose`]: 'Manage drafts and send emails',
  [`${GMAIL}insert`]: 'Add emails into your Gmail mailbox',
  [`${GMAIL}labels`]: 'See and edit your email labels',
  [`${GMAIL}metadata`]: 'View your email message metadata such as labels and headers, but not the email body',
};
/** Sign-in scopes are always granted; granular consent only lets the user untick the others. */
const SIGN_IN_SCOPES = new Set(['openid', USERINFO_EMAIL, USERINFO_PROFILE]);
/** Parameters that may appear once at most (RFC 6749 §3.1). */
const SINGLE_PARAMETERS = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'access_type', 'prompt', 'login_hint', 'nonce', 'max_age'];
const PROMPTS = new Set(['none', 'consent', 'select_account']);

// ---- id tokens and their keys -------------------------------------------------------------------

export interface IdTokenRequest {
  /** The token's audience and authorized party: the client the code was issued to. */
  clientId: string;
  email: string;
  nonce?: string;
  /** Seconds since the epoch at which the user signed in. */
  authTime: number;
  /** The access token issued beside the id token, hashed into `at_hash`. */
  accessToken?: string;
}

export type IdTokenClaims = Record<string, unknown>;

export interface IdTokenTamper {
  /** Rewrites the claims before signing (another audience or issuer, an expired token…). */
  claims?: (claims: IdTokenClaims) => IdTokenClaims;
  /** Signs with a fresh key that the certs URLs do not publish, under the published `kid`. */
  unpublishedKey?: boolean;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const newRsaKeyPair = promisify(generateKeyPair);

async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await newRsaKeyPair('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

/** Google's id token signer: one RSA key made at start, published under its `kid`. */
export class FakeGoogleKeys {
  private key: SigningKey | undefined;
  private tamper: IdTokenTamper | undefined;

  async start(): Promise<void> {
    this.key ??= await newSigningKey(randomBytes(20).toString('hex'));
  }

  /** Test-only: the next id token issued is altered as told, to prove a client verifies what it gets. */
  tamperNext(tamper: IdTokenTamper): void {
    this.tamper = tamper;
  }

  async idToken(request: IdTokenRequest): Promise<string> {
    const key = this.started();
    const now = Math.floor(Date.now() / 1000);
    let claims: IdTokenClaims = {
      iss: GOOGLE_ISSUER,
      azp: request.clientId,
      aud: request.clientId,
      sub: googleSubject(request.email),
      email: request.email,
      email_verified: true,
      ...(request.accessToken ? { at_hash: createHash('sha256').update(request.accessToken).digest().subarray(0, 16).toString('base64url') } : {}),
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      auth_time: request.authTime,
      iat: now,
      exp: now + ID_TOKEN_SECONDS,
    };
    const tamper = this.tamper;
    this.tamper = undefined;
    if (tamper?.claims) claims = tamper.claims(claims);
    const signer = tamper?.unpublishedKey ? await newSigningKey(key.kid) : key;
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(signer.privateKey);
  }

  /** GET /oauth2/v1/certs: `{kid: PEM}`. Google serves X.509 certificates; an SPKI public key verifies the same way. */
  pemCerts(): Record<string, string> {
    const key = this.started();
    return { [key.kid]: key.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  }

  /** GET /oauth2/v3/certs: a JWK set. */
  async jwks(): Promise<{ keys: Array<Record<string, unknown>> }> {
    const key = this.started();
    return { keys: [{ ...(await exportJWK(key.publicKey)), alg: 'RS256', use: 'sig', kid: key.kid }] };
  }

  private started(): SigningKey {
    if (!this.key) throw new Error('fake-google: signing key not made yet (start() first)');
    return this.key;
  }
}

/** A stable 21-digit account id for an address, shaped like Google's `sub`. */
export function googleSubject(email: string): string {
  const digest = BigInt(`0x${createHash('sha256').update(email.toLowerCase()).digest('hex')}`);
  return `1${(digest % 10n ** 20n).toString().padStart(20, '0')}`;
}

// ---- the authorization endpoint ----------------------------------------------------------------

export interface PageReply {
  status: number;
  headers: Record<string, string>;
  /** A complete HTML document; absent for a redirect. */
  html?: string;
}

export interface AuthorizeDeps {
  /** When set, only this client is known (others get Error 401: invalid_client); otherwise any client_id is accepted. */
  clientId: string | undefined;
  /** The app name the consent screen shows. */
  appName: string;
  /** The fake's mailboxes, as lower-case addresses. */
  accounts(): string[];
  issueCode(email: string, grant: CodeGrant): string;
}

interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain';
  nonce: string | undefined;
  offline: boolean;
  /** The accounts the consent screen offered. */
  accounts: string[];
}

type Checked<T> = { ok: true; value: T } | { ok: false; reply: PageReply };

export class FakeGoogleAuthorize {
  private readonly redirectUris = new Set<string>();
  private readonly pending = new Map<string, PendingAuthorization>();
  private declined = new Set<string>();

  constructor(private readonly deps: AuthorizeDeps) {}

  /** An authorized redirect URI of the client, compared as an exact string like Google does. */
  registerRedirectUri(uri: string): void {
    const url = new URL(uri);
    if (url.hash) throw new Error('fake-google: a redirect URI cannot have a fragment');
    this.redirectUris.add(uri);
  }

  /** The user unticks these scopes on the granular consent screen (sign-in scopes cannot be unticked). */
  declineScopesAtConsent(scopes: readonly string[]): void {
    this.declined = new Set(scopes);
  }

  /** GET /o/oauth2/v2/auth */
  authorize(query: URLSearchParams): PageReply {
    const request = this.validate(query);
    if (!request.ok) return request.reply;
    const { value } = request;
    if (query.get('prompt')?.split(' ').includes('none')) {
      // No browser session exists here, so a silent request can never be satisfied.
      return redirect(value.redirectUri, { error: 'login_required', state: value.state });
    }
    const id = randomBytes(24).toString('base64url');
    this.pending.set(id, value);
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value as string);
    return { status: 200, headers: PAGE_HEADERS, html: this.consentPage(id, value) };
  }

  /** POST /o/oauth2/v2/auth/decision (form-encoded: request, decision, account). */
  decide(form: URLSearchParams): PageReply {
    const id = form.get('request') ?? '';
    const pending = this.pending.get(id);
    if (!pending) return errorPage(400, 'invalid_request', 'This sign-in request is no longer valid. Go back to the app and try again.');
    this.pending.delete(id);
    const decision = form.get('decision');
    if (decision === 'deny') return redirect(pending.redirectUri, { error: 'access_denied', state: pending.state });
    const account = form.get('account')?.toLowerCase() ?? '';
    if (decision !== 'allow' || !pending.accounts.includes(account)) return errorPage(400, 'invalid_request', 'The sign-in form was not understood.');
    const granted = pending.scopes.filter((scope) => SIGN_IN_SCOPES.has(scope) || !this.declined.has(scope));
    if (granted.length === 0) return redirect(pending.redirectUri, { error: 'access_denied', state: pending.state });
    const scope = granted.join(' ');
    const code = this.deps.issueCode(account, {
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      ...(pending.codeChallenge !== undefined ? { codeChallenge: pending.codeChallenge } : {}),
      codeChallengeMethod: pending.codeChallengeMethod,
      scope,
      ...(pending.nonce !== undefined ? { nonce: pending.nonce } : {}),
      offline: pending.offline,
      authTime: Math.floor(Date.now() / 1000),
    });
    return redirect(pending.redirectUri, { state: pending.state, code, scope, authuser: '0', prompt: 'consent' });
  }

  private validate(query: URLSearchParams): Checked<PendingAuthorization> {
    const repeated = SINGLE_PARAMETERS.find((name) => query.getAll(name).length > 1);
    // Until client and redirect URI are known to be good, every problem stays on Google's own page.
    const clientId = query.get('client_id');
    if (!clientId) return invalid('Missing required parameter: client_id');
    if (this.deps.clientId !== undefined && clientId !== this.deps.clientId) return fail(errorPage(401, 'invalid_client', 'The OAuth client was not found.'));
    const redirectUri = query.get('redirect_uri');
    if (!redirectUri) return invalid('Missing required parameter: redirect_uri');
    if (!this.redirectUris.has(redirectUri)) {
      return fail(errorPage(400, 'redirect_uri_mismatch', "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. The redirect URI in the request does not match the ones authorized for the OAuth client."));
    }
    if (repeated) return invalid(`Parameter not allowed to repeat: ${repeated}`);
    const responseType = query.get('response_type');
    if (!responseType) return invalid('Missing required parameter: response_type');
    if (responseType !== 'code') return fail(errorPage(400, 'unsupported_response_type', `Invalid response_type: ${responseType}`));
    const scopes = normalizeScopes(query.get('scope') ?? '');
    if (scopes.length === 0) return invalid('Missing required parameter: scope');
    const unknown = scopes.filter((scope) => !(scope in SCOPE_TEXT));
    if (unknown.length > 0) return fail(errorPage(400, 'invalid_scope', `Some requested scopes were invalid. {invalid=[${unknown.join(', ')}]}`));
    const codeChallenge = query.get('code_challenge') ?? undefined;
    const method = query.get('code_challenge_method') ?? undefined;
    if (method !== undefined && codeChallenge === undefined) return invalid('Missing required parameter: code_challenge');
    if (method !== undefined && method !== 'S256' && method !== 'plain') return invalid(`Invalid code_challenge_method: ${method}`);
    if (codeChallenge !== undefined && !/^[A-Za-z0-9\-._~]{43,128}$/.test(codeChallenge)) return invalid('Invalid code_challenge');
    const accessType = query.get('access_type') ?? 'online';
    if (accessType !== 'online' && accessType !== 'offline') return invalid(`Invalid access_type: ${accessType}`);
    const prompts = (query.get('prompt') ?? '').split(' ').filter(Boolean);
    if (prompts.some((p) => !PROMPTS.has(p)) || (prompts.includes('none') && prompts.length > 1)) return invalid(`Invalid prompt: ${query.get('prompt')}`);
    const maxAge = query.get('max_age');
    if (maxAge !== null && !/^\d+$/.test(maxAge)) return invalid(`Invalid max_age: ${maxAge}`);
    const hinted = query.get('login_hint')?.toLowerCase();
    const accounts = this.deps.accounts();
    return {
      ok: true,
      value: {
        clientId,
        redirectUri,
        scopes,
        state: query.get('state') ?? undefined,
        codeChallenge,
        // Google's default when a challenge comes without a method.
        codeChallengeMethod: method === 'S256' ? 'S256' : 'plain',
        nonce: query.get('nonce') ?? undefined,
        offline: accessType === 'offline',
        accounts: hinted && accounts.includes(hinted) ? [hinted] : accounts,
      },
    };
  }

  private consentPage(id: string, request: PendingAuthorization): string {
    const app = escapeHtml(this.deps.appName);
    const hidden = `<input type="hidden" name="request" value="${escapeHtml(id)}">`;
    const accounts = request.accounts
      .map(
        (email) =>
          `<li><form method="post" action="${DECISION_PATH}">${hidden}<input type="hidden" name="decision" value="allow"><input type="hidden" name="account" value="${escapeHtml(email)}"><button type="submit">Continue as ${escapeHtml(email)}</button></form></li>`,
      )
      .join('\n');
    const scopes = request.scopes.map((scope) => `<li>${escapeHtml(SCOPE_TEXT[scope] ?? scope)}</li>`).join('\n');
    return layout(
      `Sign in - Google Accounts`,
      `<h1>Choose an account to continue to ${app}</h1>
<p id="scopes-intro">${app} will be able to:</p>
<ul aria-labelledby="scopes-intro">
${scopes}
</ul>
<h2 id="accounts">Accounts</h2>
${request.accounts.length > 0 ? `<ul aria-labelledby="accounts">\n${accounts}\n</ul>` : '<p>No Google Account is available.</p>'}
<form method="post" action="${DECISION_PATH}">${hidden}<input type="hidden" name="decision" value="deny"><button type="submit">Cancel</button></form>`,
    );
  }
}

/** `email` and `profile` are granted as the userinfo scopes Google names them by; order kept, duplicates dropped. */
function normalizeScopes(scope: string): string[] {
  const aliases: Record<string, string> = { email: USERINFO_EMAIL, profile: USERINFO_PROFILE };
  return [...new Set(scope.split(/\s+/).filter(Boolean).map((s) => aliases[s] ?? s))];
}

const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No script, style or frame; forms post to this origin (form-action is left open: the decision redirects to the client).
  'content-security-policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function invalid(description: string): Checked<never> {
  return fail(errorPage(400, 'invalid_request', description));
}

function fail(reply: PageReply): Checked<never> {
  return { ok: false, reply };
}

/** Google's own "Access blocked" page: shown to the user, never redirected to the client. */
function errorPage(status: number, error: string, description: string): PageReply {
  return {
    status,
    headers: PAGE_HEADERS,
    html: layout(`Error ${status}: ${error}`, `<h1>Access blocked: Authorization Error</h1>\n<p>${escapeHtml(description)}</p>\n<p>Error ${status}: ${escapeHtml(error)}</p>`),
  };
}

function redirect(to: string, params: Record<string, string | undefined>): PageReply {
  const url = new URL(to);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return { status: 302, headers: { location: url.toString(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } };
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

