// What the consent site stores: tenants (the businesses buying the helpdesk), their invites, the
// admin sessions an invite opens, and the one-time states of provider round trips. Ids, hashes and
// dates only — never a cookie, a state or an invite signature in clear.

export interface TenantRecord {
  tenantId: string;
  /** The business's name, shown to its own admins. */
  name: string;
  createdAt: string;
}

export type InviteStatus = 'open' | 'used' | 'revoked';

export interface InviteRecord {
  tenantId: string;
  inviteId: string;
  createdAt: string;
  /** ISO; the link is refused after it. */
  validUntil: string;
  status: InviteStatus;
  usedAt?: string;
  revokedAt?: string;
}

export interface AdminSession {
  /** SHA-256 (hex) of the cookie value; the value itself is only in the browser. */
  sessionHash: string;
  tenantId: string;
  inviteId: string;
  createdAt: string;
  /** At most 8 hours after createdAt. */
  validUntil: string;
}

/** What a round trip to a provider is for; the callback does only that. */
export type StatePurpose =
  | 'google-connect' // authorization code → refresh token → connect (or reconnect `mailboxId`)
  | 'google-confirm' // fresh sign-in before disconnecting `mailboxId`
  | 'microsoft-signin' // admin sign-in → then admin consent for their directory
  | 'microsoft-consent' // admin consent for `azureTenantId`
  | 'microsoft-mailboxes' // not a round trip: the form step after consent (addresses)
  | 'microsoft-confirm' // fresh sign-in before disconnecting `mailboxId`
  | 'disconnect-confirmed'; // not a round trip: the confirmation form after a fresh sign-in

export interface OAuthState {
  /** SHA-256 (hex) of the one-time value sent to the provider (or put in a form). */
  stateHash: string;
  tenantId: string;
  /** The admin session it belongs to: a state is honoured only with the same session cookie. */
  sessionHash: string;
  purpose: StatePurpose;
  /**
   * The PKCE verifier (and OIDC nonce) of the round trip. Kept server-side for ten minutes at most;
   * useless without the code only the admin's browser receives.
   */
  codeVerifier?: string;
  nonce?: string;
  mailboxId?: string;
  azureTenantId?: string;
  verifiedDomains?: string[];
  createdAt: string;
  validUntil: string;
  usedAt?: string;
}
