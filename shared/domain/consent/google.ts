// Connecting a Gmail / Google Workspace mailbox: Google's authorization-code flow with PKCE, then
// the connector's connect use-case (claim the address, seal the refresh token with the tenant key,
// start the watch). A reconnect must come back with the same account; new tokens replace the old.
import { normalizeProviderAddress, SERVICE_INDEX_TENANT } from '../connectors/credentials.js';
import { connectGmailMailbox, MailboxInUse } from '../gmail/lifecycle.js';
import type { MailboxRecord } from '../model.js';
import type { MailboxOwner } from '../ports.js';
import { ConsentRefused, type ConsentErrorCode } from './errors.js';
import type { AdminSession, OAuthState } from './model.js';
import { credentialsOf, liveMailbox, newMailboxId } from './mailboxes.js';
import { AuthorizationRejected, type GoogleIdentity } from './ports.js';
import { issueState, roundTripSecrets, takeState } from './states.js';
import { googleRedirectUri, type ConsentDeps } from './deps.js';

export interface CallbackQuery {
  state?: string;
  code?: string;
  error?: string;
}

function google(deps: ConsentDeps): NonNullable<ConsentDeps['google']> {
  if (!deps.google) throw new ConsentRefused('provider_error', 'no Google OAuth client is configured');
  return deps.google;
}

/** Where to send the admin: Google's consent screen for a new mailbox, or for `mailboxId` again. */
export async function beginGoogleConnect(deps: ConsentDeps, session: AdminSession, mailboxId?: string): Promise<string> {
  const { authorization } = google(deps);
  const existing = mailboxId ? await liveMailbox(deps, session, mailboxId, 'gmail') : undefined;
  const hint = existing ? (await credentialsOf(deps, existing))?.address : undefined;
  const issued = await issueState(deps, session, 'google-connect', { mailboxId: existing?.mailboxId });
  return authorization.authorizationUrl({ purpose: 'connect', redirectUri: googleRedirectUri(deps), ...issued, ...(hint ? { loginHint: hint } : {}) });
}

export type GoogleCallbackResult =
  | { kind: 'connected'; mailbox: MailboxRecord; reconnected: boolean }
  | { kind: 'confirmed'; state: OAuthState; identity: GoogleIdentity };

/** The admin is back from Google: connect (or reconnect), or a fresh sign-in before a disconnect. */
export async function finishGoogle(deps: ConsentDeps, session: AdminSession, query: CallbackQuery): Promise<GoogleCallbackResult> {
  const state = await takeState(deps, session, query.state, ['google-connect', 'google-confirm']);
  if (query.error) throw new ConsentRefused(query.error === 'access_denied' ? 'access_denied' : 'provider_error');
  if (!query.code) throw new ConsentRefused('bad_request');
  const { authorization, lifecycle } = google(deps);
  const { codeVerifier, nonce } = roundTripSecrets(state);
  const purpose = state.purpose === 'google-connect' ? 'connect' : 'confirm';
  const exchanged = await exchange(() => authorization.exchangeCode({ purpose, code: query.code as string, codeVerifier, redirectUri: googleRedirectUri(deps), nonce }));

  if (state.purpose === 'google-confirm') {
    const identity = exchanged.identity;
    if (!identity) throw new ConsentRefused('provider_error');
    return { kind: 'confirmed', state, identity };
  }
  if (!exchanged.refreshToken) throw new ConsentRefused('provider_error');
  const owner = await ownerFor(deps, session, state, exchanged.refreshToken);
  try {
    const mailbox = await connectGmailMailbox(lifecycle, owner.owner, exchanged.refreshToken);
    return { kind: 'connected', mailbox, reconnected: owner.reconnect };
  } catch (error) {
    if (error instanceof MailboxInUse) throw new ConsentRefused('mailbox_in_use', undefined, { cause: error });
    throw new ConsentRefused('provider_error', undefined, { cause: error });
  }
}

/**
 * The helpdesk mailbox the Google account belongs to: the one being reconnected (same account only),
 * the tenant's existing mailbox of that address (a second connect is a reconnect), or a new one.
 */
async function ownerFor(deps: ConsentDeps, session: AdminSession, state: OAuthState, refreshToken: string): Promise<{ owner: MailboxOwner; reconnect: boolean }> {
  const { lifecycle } = google(deps);
  let address: string;
  try {
    address = normalizeProviderAddress((await lifecycle.gmail.open({ address: '', refreshToken }).getProfile()).emailAddress);
  } catch (error) {
    throw new ConsentRefused('provider_error', undefined, { cause: error });
  }
  if (state.mailboxId) {
    const mailbox = await liveMailbox(deps, session, state.mailboxId, 'gmail');
    const expected = (await credentialsOf(deps, mailbox))?.address;
    if (expected && normalizeProviderAddress(expected) !== address) throw new ConsentRefused('wrong_account');
    return { owner: mailbox, reconnect: true };
  }
  const index = await deps.keys.blindIndex(SERVICE_INDEX_TENANT, 'gmail-address', address);
  const holder = await deps.directory.findAddress('gmail', index);
  if (holder && holder.tenantId !== session.tenantId) throw new ConsentRefused('mailbox_in_use');
  if (holder) {
    const mailbox = await deps.repo.getMailbox(holder.tenantId, holder.mailboxId);
    if (mailbox && mailbox.status !== 'disconnected') return { owner: holder, reconnect: true };
  }
  return { owner: { tenantId: session.tenantId, mailboxId: newMailboxId(deps, 'gmail') }, reconnect: false };
}

/**
 * What a provider's refusal means for the admin. invalid_grant is a code this round trip cannot redeem
 * (already used, issued against another PKCE challenge, or past its life): a refused request (400),
 * not a provider outage (502) — else replayed or injected codes would read as, and alarm as, 5xx.
 */
const REFUSAL_OF: Record<AuthorizationRejected['reason'], ConsentErrorCode> = {
  invalid_grant: 'state_invalid',
  redirect_uri_mismatch: 'redirect_mismatch',
  nonce_mismatch: 'state_invalid',
  invalid_token: 'provider_error',
  provider_error: 'provider_error',
};

async function exchange<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AuthorizationRejected) {
      throw new ConsentRefused(REFUSAL_OF[error.reason], undefined, { cause: error });
    }
    throw new ConsentRefused('provider_error', undefined, { cause: error });
  }
}

export { exchange as redeemAtProvider };
