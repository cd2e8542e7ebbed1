// Google's OAuth 2.0 token and revocation endpoints as google-auth-library's OAuth2Client calls them:
// POST /token (form-encoded refresh_token and authorization_code grants, PKCE) and POST /revoke?token=.
// Errors are RFC 6749 §5.2 bodies with Google's descriptions, e.g. a revoked grant answers
// 400 {"error":"invalid_grant","error_description":"Token has been expired or revoked."}.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OAuthErrorBody } from './google-errors.js';
import type { Mailbox } from './fake-gmail-store.js';

export const ACCESS_TOKEN_SECONDS = 3599;

export interface AuthorizationCodeOptions {
  codeChallenge: string;
  redirectUri: string;
  /** Google accepts S256 and plain; S256 unless told otherwise. */
  codeChallengeMethod?: 'S256' | 'plain';
}

export interface OAuthReply {
  status: number;
  body: unknown;
}

interface AccessGrant {
  email: string;
  refreshToken: string;
  expiresAt: number;
}

interface PendingCode extends AuthorizationCodeOptions {
  email: string;
  used: boolean;
}

const oauthError = (status: number, error: string, description: string): OAuthReply => ({
  status,
  body: { error, error_description: description } satisfies OAuthErrorBody,
});

const token = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;

export class FakeOAuth {
  private readonly accessTokens = new Map<string, AccessGrant>();
  private readonly codes = new Map<string, PendingCode>();

  constructor(
    private readonly mailboxes: ReadonlyMap<string, Mailbox>,
    private readonly client: { clientId?: string; clientSecret?: string },
  ) {}

  /** The mailbox an API call's `Authorization: Bearer` header belongs to, if the token is live. */
  authenticate(authorization: string | undefined): string | undefined {
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    const grant = bearer ? this.accessTokens.get(bearer) : undefined;
    if (!grant || grant.expiresAt <= Date.now()) return undefined;
    return grant.email;
  }

  issueAuthorizationCode(email: string, options: AuthorizationCodeOptions): string {
    const code = token('4/0');
    this.codes.set(code, { ...options, email, used: false });
    return code;
  }

  /** Revokes every grant of the mailbox: refresh tokens and the access tokens minted from them. */
  revokeMailbox(mailbox: Mailbox): void {
    mailbox.refreshTokens.clear();
    for (const [accessToken, grant] of this.accessTokens) if (grant.email === mailbox.email) this.accessTokens.delete(accessToken);
  }

  /** Access tokens of the mailbox stop working (as if their hour had passed); refresh tokens still do. */
  expireAccessTokens(email: string): void {
    for (const grant of this.accessTokens.values()) if (grant.email === email) grant.expiresAt = 0;
  }

  token(form: URLSearchParams, authorization: string | undefined): OAuthReply {
    const clientError = this.checkClient(form, authorization);
    if (clientError) return clientError;
    const grantType = form.get('grant_type') ?? '';
    if (grantType === 'refresh_token') return this.refreshGrant(form);
    if (grantType === 'authorization_code') return this.codeGrant(form);
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
  }

  /** Google revokes the whole grant whether given the refresh token or one of its access tokens. */
  revoke(tokenValue: string | null): OAuthReply {
    const refreshToken = tokenValue && (this.accessTokens.get(tokenValue)?.refreshToken ?? tokenValue);
    const mailbox = refreshToken ? [...this.mailboxes.values()].find((m) => m.refreshTokens.has(refreshToken)) : undefined;
    if (!refreshToken || !mailbox) return oauthError(400, 'invalid_token', 'Token expired or revoked');
    mailbox.refreshTokens.delete(refreshToken);
    for (const [accessToken, grant] of this.accessTokens) if (grant.refreshToken === refreshToken) this.accessTokens.delete(accessToken);
    return { status: 200, body: {} };
  }

  private refreshGrant(form: URLSearchParams): OAuthReply {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const mailbox = [...this.mailboxes.values()].find((m) => m.refreshTokens.has(refreshToken));
    if (!mailbox) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    return { status: 200, body: this.mint(mailbox, refreshToken, false) };
  }

  private codeGrant(form: URLSearchParams): OAuthReply {
    const code = form.get('code');
    if (!code) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
    const pending = this.codes.get(code);
    if (!pending) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
    if (pending.used) return oauthError(400, 'invalid_grant', 'Bad Request');
    if (form.get('redirect_uri') !== pending.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
    const verifier = form.get('code_verifier');
    if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code verifier.');
    const derived = pending.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
    if (!sameText(derived, pending.codeChallenge)) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
    const mailbox = this.mailboxes.get(pending.email);
    if (!mailbox) return oauthError(400, 'invalid_grant', 'Bad Request');
    pending.used = true;
    const refreshToken = token('1//0');
    mailbox.refreshTokens.add(refreshToken);
    return { status: 200, body: this.mint(mailbox, refreshToken, true) };
  }

  private mint(mailbox: Mailbox, refreshToken: string, includeRefreshToken: boolean) {
    const accessToken = token('ya29.');
    this.accessTokens.set(accessToken, { email: mailbox.email, refreshToken, expiresAt: Date.now() + ACCESS_TOKEN_SECONDS * 1000 });
    return {
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_SECONDS,
      ...(includeRefreshToken ? { refresh_token: refreshToken } : {}),
      scope: mailbox.scope,
      token_type: 'Bearer',
    };
  }

  /** Only when the fake was given client credentials: a client_secret_post or client_secret_basic check. */
  private checkClient(form: URLSearchParams, authorization: string | undefined): OAuthReply | undefined {
    if (this.client.clientId === undefined) return undefined;
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    if (basic) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (id !== this.client.clientId) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (this.client.clientSecret !== undefined && secret !== this.client.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
    return undefined;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
