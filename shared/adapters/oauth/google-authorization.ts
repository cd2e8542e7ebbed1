// GoogleAuthorization on google-auth-library's OAuth2Client: Google's authorization-code flow with
// PKCE (S256) for connecting a Gmail mailbox, and an OpenID Connect sign-in (fresh, nonce-bound) to
// confirm who an admin is. The id token is verified by OAuth2Client.verifyIdToken: RS256 signature
// against Google's published keys, audience = our client id, issuer accounts.google.com, expiry.
//
// Nothing secret reaches an error: gaxios errors carry the request (code, verifier, client secret)
// and google-auth-library puts the whole id token into its verification messages, so each failure
// is re-described from its status and Google's error code only, and the library's error is dropped.
import { CodeChallengeMethod, OAuth2Client, type Credentials, type TokenPayload } from 'google-auth-library';
import { AuthorizationRejected, type GoogleAuthorization, type GoogleAuthorizationRequest, type GoogleIdentity, type GooglePurpose } from '../../domain/consent/ports.js';

/** The least Gmail access that runs a helpdesk mailbox. */
export const GMAIL_CONNECT_SCOPES = [
  // Read the inbox: users.history.list, users.messages.list (with a `q` search) and users.messages.get
  // in format raw, users.watch / users.stop. gmail.metadata cannot search or read bodies; gmail.modify
  // would also allow changing and trashing mail, which we never do.
  'https://www.googleapis.com/auth/gmail.readonly',
  // Send replies (users.messages.send) into the customer's thread, without rights to drafts or labels
  // that gmail.compose or gmail.modify would add.
  'https://www.googleapis.com/auth/gmail.send',
] as const;

/** A sign-in that proves the account: its id (`sub`) and its address. */
const CONFIRM_SCOPES = ['openid', 'email'];

export interface GoogleOAuthAuthorizationOptions {
  clientId: string;
  clientSecret: string;
  /** Google's authorization endpoint, https://accounts.google.com/o/oauth2/v2/auth by default; a fake's in tests. */
  authBaseUrl?: string;
  /** Google's token endpoint, https://oauth2.googleapis.com/token by default. */
  tokenUrl?: string;
  /**
   * Google's id token keys as `{kid: PEM}`, https://www.googleapis.com/oauth2/v1/certs by default (under
   * Node google-auth-library verifies with the PEM set; the JWK set is for browsers).
   */
  certsUrl?: string;
  /** Google's revocation endpoint, https://oauth2.googleapis.com/revoke by default: used to undo a partial grant. */
  revokeUrl?: string;
}

export class GoogleOAuthAuthorization implements GoogleAuthorization {
  /** One client for all exchanges: it holds no user's credentials, and it caches Google's keys for their max-age. */
  private readonly client: OAuth2Client;

  constructor(private readonly options: GoogleOAuthAuthorizationOptions) {
    this.client = new OAuth2Client({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      endpoints: {
        ...(options.authBaseUrl ? { oauth2AuthBaseUrl: options.authBaseUrl } : {}),
        ...(options.tokenUrl ? { oauth2TokenUrl: options.tokenUrl } : {}),
        ...(options.certsUrl ? { oauth2FederatedSignonPemCertsUrl: options.certsUrl } : {}),
        ...(options.revokeUrl ? { oauth2RevokeUrl: options.revokeUrl } : {}),
      },
    });
  }

  authorizationUrl(request: GoogleAuthorizationRequest): string {
    if (!request.state || !request.codeChallenge) throw new Error('A Google authorization request needs a state and a PKCE challenge');
    const common = {
      response_type: 'code',
      redirect_uri: request.redirectUri,
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
      ...(request.loginHint ? { login_hint: request.loginHint } : {}),
    };
    if (request.purpose === 'connect') {
      // offline: a refresh token for the background sync; consent: issued again on every reconnect.
      // include_granted_scopes stays unset so the grant holds exactly these two scopes.
      return this.client.generateAuthUrl({ ...common, scope: [...GMAIL_CONNECT_SCOPES], access_type: 'offline', prompt: 'consent' });
    }
    if (!request.nonce) throw new Error('A Google sign-in needs a nonce');
    // select_account + max_age=0: the admin picks the account and signs in afresh, whatever session the browser holds.
    return this.client.generateAuthUrl({ ...common, scope: CONFIRM_SCOPES, prompt: 'select_account', max_age: '0', nonce: request.nonce });
  }

  async exchangeCode(input: { purpose: GooglePurpose; code: string; codeVerifier: string; redirectUri: string; nonce: string }): Promise<{ refreshToken?: string; identity?: GoogleIdentity }> {
    let tokens: Credentials;
    try {
      ({ tokens } = await this.client.getToken({ code: input.code, codeVerifier: input.codeVerifier, redirect_uri: input.redirectUri }));
    } catch (error) {
      throw tokenEndpointRejection(error);
    }
    if (input.purpose === 'connect') return { refreshToken: await this.connected(tokens) };
    return { identity: await this.signedIn(tokens, input.nonce) };
  }

  private async connected(tokens: Credentials): Promise<string> {
    const refreshToken = tokens.refresh_token;
    if (!refreshToken) throw new AuthorizationRejected('provider_error', 'Google granted the Gmail connection without a refresh token');
    // Granular consent lets the user untick a scope; a mailbox we cannot read or answer from is no connection.
    const granted = tokens.scope?.split(' ');
    const missing = granted ? GMAIL_CONNECT_SCOPES.filter((scope) => !granted.includes(scope)) : [];
    if (missing.length === 0) return refreshToken;
    const revoked = await this.client.revokeToken(refreshToken).then(
      () => 'the partial grant was revoked',
      (error: unknown) => `revoking the partial grant failed (${describeHttpFailure(error)})`,
    );
    throw new AuthorizationRejected('provider_error', `Google granted the Gmail connection without ${missing.join(' and ')}; ${revoked}`);
  }

  private async signedIn(tokens: Credentials, nonce: string): Promise<GoogleIdentity> {
    if (!tokens.id_token) throw new AuthorizationRejected('provider_error', 'Google answered the sign-in without an id token');
    let payload: (TokenPayload & { auth_time?: unknown }) | undefined;
    try {
      payload = (await this.client.verifyIdToken({ idToken: tokens.id_token, audience: this.options.clientId })).getPayload();
    } catch (error) {
      throw idTokenRejection(error);
    }
    if (!payload) throw new AuthorizationRejected('invalid_token', 'Google id token without claims');
    if (payload.nonce !== nonce) throw new AuthorizationRejected('nonce_mismatch', 'Google id token carries another nonce than this sign-in sent');
    if (!payload.email || !payload.sub) throw new AuthorizationRejected('invalid_token', 'Google id token without email or subject');
    return {
      email: payload.email,
      emailVerified: payload.email_verified === true,
      subject: payload.sub,
      ...(typeof payload.auth_time === 'number' ? { authTime: payload.auth_time } : {}),
    };
  }
}

interface HttpFailure {
  response?: { status?: number; data?: unknown };
}

/** Google's RFC 6749 error code, when it is one (never free text that could echo a request). */
function oauthErrorCode(error: unknown): string | undefined {
  const data = (error as HttpFailure | null)?.response?.data as { error?: unknown } | undefined;
  return typeof data?.error === 'string' && /^[a-z_]{1,64}$/.test(data.error) ? data.error : undefined;
}

function describeHttpFailure(error: unknown): string {
  const status = (error as HttpFailure | null)?.response?.status;
  if (status === undefined) return 'no answer';
  const code = oauthErrorCode(error);
  return `HTTP ${status}${code ? ` ${code}` : ''}`;
}

function tokenEndpointRejection(error: unknown): AuthorizationRejected {
  const code = oauthErrorCode(error);
  if (code === 'invalid_grant') return new AuthorizationRejected('invalid_grant', `Google refused the authorization code (${describeHttpFailure(error)})`);
  if (code === 'redirect_uri_mismatch') return new AuthorizationRejected('redirect_uri_mismatch', `Google refused the redirect URI of the exchange (${describeHttpFailure(error)})`);
  return new AuthorizationRejected('provider_error', `Google's token endpoint failed (${describeHttpFailure(error)})`);
}

/** google-auth-library's verification messages (which embed the token) mapped to safe words. */
const ID_TOKEN_FAILURES: ReadonlyArray<readonly [string, string]> = [
  ['No pem found', 'signed with a key Google does not publish'],
  ['Invalid token signature', 'bad signature'],
  ['Token used too late', 'expired'],
  ['Token used too early', 'not yet valid'],
  ['Expiration time too far in future', 'lifetime too long'],
  ['Invalid issuer', 'not issued by Google'],
  ['Wrong recipient', 'issued to another client'],
];

function idTokenRejection(error: unknown): AuthorizationRejected {
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Failed to retrieve verification certificates')) {
    return new AuthorizationRejected('provider_error', `Google's id token keys could not be fetched (${describeHttpFailure(error)})`);
  }
  const reason = ID_TOKEN_FAILURES.find(([prefix]) => message.startsWith(prefix))?.[1] ?? 'malformed';
  return new AuthorizationRejected('invalid_token', `Google id token rejected: ${reason}`);
}
