// Google's OAuth 2.0 token and revocation endpoints as google-auth-library's OAuth2Client calls them:
// POST /token (form-encoded refresh_token and authorization_code grants, PKCE) and POST /revoke?token=.
// Errors are RFC 6749 §5.2 bodies with Google's descriptions, e.g. a revoked grant answers
// 400 {"error":"invalid_grant","error_description":"Token has been expired or revoked."}.
// Google's rules for what an exchange answers: a refresh_token only for access_type=offline, an
// id_token whenever the granted scope includes openid. Access tokens carry their grant's scope, and the
// Gmail API refuses a method the scope does not cover (403 insufficientPermissions).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OAuthErrorBody } from './google-errors.js';
import type { Mailbox } from './fake-gmail-store.js';
import type { IdTokenRequest } from './fake-google-authorize.js';

export const ACCESS_TOKEN_SECONDS = 3599;

export interface AuthorizationCodeOptions {
  codeChallenge: string;
  redirectUri: string;
  /** Google accepts S256 and plain; S256 unless told otherwise. */
  codeChallengeMethod?: 'S256' | 'plain';
  /** Space-separated scopes the code grants; the mailbox's Gmail scope unless told. */
  scope?: string;
  /** OpenID Connect nonce, echoed in the id token when the scope includes openid. */
  nonce?: string;
  /** access_type=offline: the exchange answers a refresh token. True unless told otherwise. */
  offline?: boolean;
}

/** What a code remembers from the authorization request and the user's consent. */
export interface CodeGrant {
  /** The client the code was issued to; only that client may redeem it. */
  clientId?: string;
  redirectUri: string;
  /** Absent when the request carried no PKCE challenge (then no verifier is checked). */
  codeChallenge?: string;
  codeChallengeMethod: 'S256' | 'plain';
  /** Space-separated granted scopes. */
  scope: string;
  nonce?: string;
  offline: boolean;
  /** Seconds since the epoch at which the user signed in and consented. */
  authTime: number;
}

export interface IdTokenIssuer {
  idToken(request: IdTokenRequest): Promise<string>;
}

export interface OAuthReply {
  status: number;
  body: unknown;
}

interface AccessGrant {
  email: string;
  /** The refresh token it was minted from; absent for an online grant. */
  refreshToken: string | undefined;
  scope: string;
  expiresAt: number;
}

interface PendingCode extends CodeGrant {
  email: string;
  used: boolean;
}

const oauthError = (status: number, error: string, description: string): OAuthReply => ({
  status,
  body: { error, error_description: description } satisfies OAuthErrorBody,
});

const token = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

/** One refresh_token grant as the token endpoint saw it: which token (by SHA-256), and its outcome. */
export interface RefreshUse {
  refreshTokenSha256: string;
  email: string | undefined;
  outcome: 'ok' | 'rotated' | 'invalid_grant';
}

export class FakeOAuth {
  /** Every refresh_token grant, in arrival order. */
  readonly refreshUses: RefreshUse[] = [];
  /** Mailboxes whose refresh grants rotate the refresh token (RFC 6749 §6). */
  readonly rotating = new Set<string>();
  private readonly accessTokens = new Map<string, AccessGrant>();
  /** Refresh tokens revoked or rotated away, with their mailbox: a later use is still attributed. */
  private readonly retired = new Map<string, string>();
  private readonly codes = new Map<string, PendingCode>();
  /** The scope of refresh tokens issued by a code grant (others have their mailbox's scope). */
  private readonly refreshScopes = new Map<string, string>();

  constructor(
    private readonly mailboxes: ReadonlyMap<string, Mailbox>,
    private readonly client: { clientId?: string; clientSecret?: string },
    private readonly idTokens: IdTokenIssuer,
  ) {}

  /** The mailbox and scope an API call's `Authorization: Bearer` header carries, if the token is live. */
  authenticate(authorization: string | undefined): { email: string; scope: string } | undefined {
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    const grant = bearer ? this.accessTokens.get(bearer) : undefined;
    if (!grant || grant.expiresAt <= Date.now()) return undefined;
    return { email: grant.email, scope: grant.scope };
  }

  /** A code issued without the authorization endpoint: offline, with the mailbox's Gmail scope unless told. */
  issueAuthorizationCode(email: string, options: AuthorizationCodeOptions): string {
    const mailbox = this.mailboxes.get(email);
    return this.issueCode(email, {
      redirectUri: options.redirectUri,
      codeChallenge: options.codeChallenge,
      codeChallengeMethod: options.codeChallengeMethod ?? 'S256',
      scope: options.scope ?? mailbox?.scope ?? '',
      ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
      offline: options.offline ?? true,
      authTime: Math.floor(Date.now() / 1000),
    });
  }

  /** A single-use code for the authorization_code grant (the authorization endpoint issues through here). */
  issueCode(email: string, grant: CodeGrant): string {
    const code = token('4/0');
    this.codes.set(code, { ...grant, email, used: false });
    return code;
  }

  /** Revokes every grant of the mailbox: refresh tokens and the access tokens minted from them. */
  revokeMailbox(mailbox: Mailbox): void {
    for (const refreshToken of mailbox.refreshTokens) this.retired.set(refreshToken, mailbox.email);
    mailbox.refreshTokens.clear();
    for (const [accessToken, grant] of this.accessTokens) if (grant.email === mailbox.email) this.accessTokens.delete(accessToken);
  }

  /** Access tokens of the mailbox stop working (as if their hour had passed); refresh tokens still do. */
  expireAccessTokens(email: string): void {
    for (const grant of this.accessTokens.values()) if (grant.email === email) grant.expiresAt = 0;
  }

  async token(form: URLSearchParams, authorization: string | undefined): Promise<OAuthReply> {
    const client = this.checkClient(form, authorization);
    if ('status' in client) return client;
    const grantType = form.get('grant_type') ?? '';
    if (grantType === 'refresh_token') return this.refreshGrant(form, client.id);
    if (grantType === 'authorization_code') return this.codeGrant(form, client.id);
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
  }

  /** Google revokes the whole grant whether given the refresh token or one of its access tokens. */
  revoke(tokenValue: string | null): OAuthReply {
    const online = tokenValue ? this.accessTokens.get(tokenValue) : undefined;
    if (tokenValue && online && online.refreshToken === undefined) {
      // An online grant (no refresh token) is just its access token.
      this.accessTokens.delete(tokenValue);
      return { status: 200, body: {} };
    }
    const refreshToken = tokenValue && (this.accessTokens.get(tokenValue)?.refreshToken ?? tokenValue);
    const mailbox = refreshToken ? [...this.mailboxes.values()].find((m) => m.refreshTokens.has(refreshToken)) : undefined;
    if (!refreshToken || !mailbox) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    mailbox.refreshTokens.delete(refreshToken);
    this.refreshScopes.delete(refreshToken);
    for (const [accessToken, grant] of this.accessTokens) if (grant.refreshToken === refreshToken) this.accessTokens.delete(accessToken);
    return { status: 200, body: {} };
  }

  private async refreshGrant(form: URLSearchParams, clientId: string | undefined): Promise<OAuthReply> {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const mailbox = [...this.mailboxes.values()].find((m) => m.refreshTokens.has(refreshToken));
    const use: RefreshUse = { refreshTokenSha256: createHash('sha256').update(refreshToken).digest('hex'), email: mailbox?.email ?? this.retired.get(refreshToken), outcome: 'invalid_grant' };
    this.refreshUses.push(use);
    if (!mailbox) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    const scope = this.refreshScopes.get(refreshToken) ?? mailbox.scope;
    const authTime = Math.floor(Date.now() / 1000);
    if (this.rotating.has(mailbox.email)) {
      // RFC 6749 §6: a new refresh token in the answer; the client MUST discard the old one, which
      // stops working here (a client that keeps using it gets invalid_grant).
      const rotated = token('1//0');
      mailbox.refreshTokens.delete(refreshToken);
      this.retired.set(refreshToken, mailbox.email);
      mailbox.refreshTokens.add(rotated);
      this.refreshScopes.delete(refreshToken);
      this.refreshScopes.set(rotated, scope);
      use.outcome = 'rotated';
      return { status: 200, body: await this.mint(mailbox, { scope, refreshToken: rotated, includeRefreshToken: true, clientId, authTime }) };
    }
    use.outcome = 'ok';
    return { status: 200, body: await this.mint(mailbox, { scope, refreshToken, includeRefreshToken: false, clientId, authTime }) };
  }

  private async codeGrant(form: URLSearchParams, clientId: string | undefined): Promise<OAuthReply> {
    const code = form.get('code');
    if (!code) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
    const pending = this.codes.get(code);
    if (!pending) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
    if (pending.used) return oauthError(400, 'invalid_grant', 'Bad Request');
    if (pending.clientId !== undefined && clientId !== pending.clientId) return oauthError(400, 'invalid_grant', 'Bad Request');
    if (form.get('redirect_uri') !== pending.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (pending.codeChallenge !== undefined) {
      const verifier = form.get('code_verifier');
      if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code verifier.');
      const derived = pending.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
      if (!sameText(derived, pending.codeChallenge)) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
    }
    const mailbox = this.mailboxes.get(pending.email);
    if (!mailbox) return oauthError(400, 'invalid_grant', 'Bad Request');
    pending.used = true;
    let refreshToken: string | undefined;
    if (pending.offline) {
      refreshToken = token('1//0');
      mailbox.refreshTokens.add(refreshToken);
      this.refreshScopes.set(refreshToken, pending.scope);
    }
    const body = await this.mint(mailbox, {
      scope: pending.scope,
      refreshToken,
      includeRefreshToken: pending.offline,
      clientId: pending.clientId ?? clientId,
      authTime: pending.authTime,
      ...(pending.nonce !== undefined ? { nonce: pending.nonce } : {}),
    });
    return { status: 200, body };
  }

  private async mint(
    mailbox: Mailbox,
    grant: { scope: string; refreshToken: string | undefined; includeRefreshToken: boolean; clientId: string | undefined; authTime: number; nonce?: string },
  ) {
    const accessToken = token('ya29.');
    this.accessTokens.set(accessToken, { email: mailbox.email, refreshToken: grant.refreshToken, scope: grant.scope, expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000 });
    const openid = grant.scope.split(' ').includes('openid');
    const idToken = openid
      ? await this.idTokens.idToken({
          clientId: grant.clientId ?? this.client.clientId ?? '',
          email: mailbox.email,
          authTime: grant.authTime,
          accessToken,
          ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
        })
      : undefined;
    return {
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_SECONDS,
      ...(grant.includeRefreshToken && grant.refreshToken ? { refresh_token: grant.refreshToken } : {}),
      scope: grant.scope,
      token_type: 'Bearer',
      ...(idToken ? { id_token: idToken } : {}),
    };
  }

  /**
   * The calling client's id (client_secret_post or client_secret_basic). Only when the fake was given
   * client credentials are they checked, like Google does.
   */
  private checkClient(form: URLSearchParams, authorization: string | undefined): OAuthReply | { id: string | undefined } {
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    if (basic) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (this.client.clientId === undefined) return { id: id ?? undefined };
    if (id !== this.client.clientId) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (this.client.clientSecret !== undefined && secret !== this.client.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
    return { id };
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const GMAIL_FULL = 'https://mail.google.com/';
const GMAIL_SCOPE = 'https://www.googleapis.com/auth/gmail.';
const scopes = (...names: string[]) => new Set([GMAIL_FULL, ...names.map((n) => `${GMAIL_SCOPE}${n}`)]);
/** The Gmail API reference's "Authorization scopes" of each method the fake serves. */
const READ_SCOPES = scopes('modify', 'readonly', 'metadata');
const BODY_SCOPES = scopes('modify', 'readonly');
const PROFILE_SCOPES = scopes('modify', 'compose', 'readonly', 'metadata');
const SEND_SCOPES = scopes('modify', 'compose', 'send');
const IMPORT_SCOPES = scopes('modify', 'insert');
const WRITE_SCOPES = scopes('modify');

/**
 * Whether an access token's scope covers a Gmail API call (segments after /users/{userId}/).
 * gmail.metadata reads labels and headers only: no `q` search, no raw or full message.
 */
export function gmailScopeAllows(scope: string, method: string, segments: readonly string[], query: URLSearchParams): boolean {
  const [resource, id, sub] = segments;
  let accepted = WRITE_SCOPES;
  if (resource === 'profile') accepted = PROFILE_SCOPES;
  else if (resource === 'history' || resource === 'watch' || resource === 'stop') accepted = READ_SCOPES;
  else if (resource === 'messages' && method === 'POST' && id === 'send') accepted = SEND_SCOPES;
  else if (resource === 'messages' && method === 'POST' && id === 'import') accepted = IMPORT_SCOPES;
  else if (resource === 'messages' && method === 'GET' && sub === 'attachments') accepted = BODY_SCOPES;
  else if (resource === 'messages' && method === 'GET' && id === undefined) accepted = query.has('q') ? BODY_SCOPES : READ_SCOPES;
  else if (resource === 'messages' && method === 'GET') accepted = ['metadata', 'minimal'].includes(query.get('format') ?? '') ? READ_SCOPES : BODY_SCOPES;
  return scope.split(' ').some((s) => accepted.has(s));
}
