// Ports of the consent page: the providers' interactive authorization (Google's authorization-code
// flow with PKCE; Microsoft's OpenID Connect sign-in and admin consent) and the store of tenants,
// invites, admin sessions and one-time OAuth states. Adapters: shared/adapters/oauth/ and dynamodb/.

/** Why we send an admin to Google: to connect (or reconnect) a mailbox, or to prove who they are before a disconnect. */
export type GooglePurpose = 'connect' | 'confirm';

export interface GoogleAuthorizationRequest {
  purpose: GooglePurpose;
  /** One-time, opaque; returned unchanged on the callback. */
  state: string;
  /** BASE64URL(SHA-256(code_verifier)), sent with code_challenge_method=S256. */
  codeChallenge: string;
  /** OpenID Connect nonce; echoed in the id token of a `confirm`. */
  nonce: string;
  redirectUri: string;
  /** The address we expect (reconnect, confirm): Google preselects that account. */
  loginHint?: string;
}

export interface GoogleIdentity {
  email: string;
  emailVerified: boolean;
  /** Google's stable account id (`sub`). */
  subject: string;
  /** Seconds since the epoch at which the user authenticated (`auth_time`), when Google says. */
  authTime?: number;
}

export interface GoogleAuthorization {
  /**
   * Google's authorization URL. `connect`: scopes gmail.readonly + gmail.send, access_type=offline,
   * prompt=consent (so a refresh token is always issued), PKCE S256. `confirm`: scopes openid + email,
   * prompt=select_account, max_age=0 (a fresh sign-in), PKCE S256, the nonce.
   */
  authorizationUrl(request: GoogleAuthorizationRequest): string;
  /**
   * Redeems the code at the token endpoint with the verifier and the exact redirect URI. `connect`
   * answers the refresh token; `confirm` answers the identity from the id token after verifying its
   * signature (Google's keys), audience (our client id), issuer, expiry and nonce.
   * Rejections by Google (invalid_grant, redirect_uri_mismatch…) throw AuthorizationRejected.
   */
  exchangeCode(input: { purpose: GooglePurpose; code: string; codeVerifier: string; redirectUri: string; nonce: string }): Promise<{ refreshToken?: string; identity?: GoogleIdentity }>;
}

/** What an OpenID Connect sign-in of a Microsoft Entra user proves. */
export interface MicrosoftSignIn {
  /** The directory (Entra tenant) the user signed in to: the id token's `tid`. */
  azureTenantId: string;
  /** The user's object id (`oid`). */
  objectId: string;
  /** Holds a role that may grant application permissions to Microsoft Graph (Global or Privileged Role Administrator), per the `wids` claim. */
  isAdmin: boolean;
  /** The directory's verified domains (Graph GET /organization with the signed-in user's delegated token), lower-cased. */
  verifiedDomains: string[];
  /** Seconds since the epoch at which the user authenticated, when the token says. */
  authTime?: number;
}

export interface MicrosoftAuthorization {
  /**
   * The v2.0 authorize URL for an OpenID Connect sign-in (scopes openid profile User.Read, response_type
   * code, response_mode query, PKCE S256, nonce). `fresh` asks for prompt=login (a new sign-in).
   */
  signInUrl(input: { state: string; codeChallenge: string; nonce: string; redirectUri: string; fresh: boolean }): Promise<string>;
  /** Redeems the code (verifier, exact redirect URI), checks the nonce, reads the directory's verified domains. */
  completeSignIn(input: { code: string; codeVerifier: string; redirectUri: string; nonce: string }): Promise<MicrosoftSignIn>;
  /** The v2.0 admin-consent URL for that directory, asking for our app's Graph application permissions (`.default`). */
  adminConsentUrl(input: { azureTenantId: string; state: string; redirectUri: string }): string;
}

/** The provider refused a code, a verifier, a redirect URI or a token; the message is safe to log (no token). */
export class AuthorizationRejected extends Error {
  constructor(
    readonly reason: 'invalid_grant' | 'redirect_uri_mismatch' | 'invalid_token' | 'nonce_mismatch' | 'provider_error',
    message: string,
  ) {
    super(message);
    this.name = 'AuthorizationRejected';
  }
}
