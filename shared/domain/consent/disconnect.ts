// Disconnecting a mailbox from the page: a fresh provider sign-in of the admin proves it is them now
// (the Gmail account itself; an administrator of the mailbox's Microsoft directory), then a
// confirmation that shows the deletion deadline, then the retention use-case: data hidden at once,
// deleted within the retention period, the provider's side released.
import { normalizeProviderAddress } from '../connectors/credentials.js';
import { disconnectMailbox } from '../retention.js';
import type { MailboxRecord } from '../model.js';
import { ConsentRefused } from './errors.js';
import type { AdminSession } from './model.js';
import { credentialsOf, liveMailbox } from './mailboxes.js';
import type { GoogleCallbackResult } from './google.js';
import type { MicrosoftCallbackResult } from './microsoft.js';
import { issueState, takeState } from './states.js';
import { googleRedirectUri, microsoftRedirectUri, type ConsentDeps } from './deps.js';

/** How old the provider's authentication of the admin may be for a disconnect: the round trip itself, with slack for clocks. */
const FRESH_SIGN_IN_SECONDS = 10 * 60;

/** Where the admin signs in afresh before the confirmation. */
export async function beginDisconnect(deps: ConsentDeps, session: AdminSession, mailboxId: string | undefined): Promise<string> {
  const mailbox = await liveMailbox(deps, session, mailboxId);
  const credentials = await credentialsOf(deps, mailbox);
  if (mailbox.provider === 'gmail') {
    if (!deps.google) throw new ConsentRefused('provider_error');
    const issued = await issueState(deps, session, 'google-confirm', { mailboxId: mailbox.mailboxId });
    return deps.google.authorization.authorizationUrl({ purpose: 'confirm', redirectUri: googleRedirectUri(deps), ...issued, ...(credentials ? { loginHint: credentials.address } : {}) });
  }
  if (!deps.microsoft) throw new ConsentRefused('provider_error');
  const issued = await issueState(deps, session, 'microsoft-confirm', { mailboxId: mailbox.mailboxId });
  return deps.microsoft.authorization.signInUrl({ ...issued, redirectUri: microsoftRedirectUri(deps), fresh: true });
}

export interface DisconnectConfirmation {
  /** One-time token of the confirmation form. */
  confirmation: string;
  mailbox: MailboxRecord;
  address: string | null;
  deletionDeadline: string;
}

/** After the fresh sign-in: the right person? Then a one-time confirmation with the deadline. */
export async function confirmationFor(
  deps: ConsentDeps,
  session: AdminSession,
  result: Extract<GoogleCallbackResult, { kind: 'confirmed' }> | Extract<MicrosoftCallbackResult, { kind: 'confirmed' }>,
): Promise<DisconnectConfirmation> {
  const mailbox = await liveMailbox(deps, session, result.state.mailboxId);
  const credentials = await credentialsOf(deps, mailbox);
  // A fresh sign-in, not a remembered one: when the provider says when the admin authenticated, it was just now.
  const authTime = 'identity' in result ? result.identity.authTime : result.signIn.authTime;
  if (authTime !== undefined && deps.clock.now().getTime() / 1000 - authTime > FRESH_SIGN_IN_SECONDS) throw new ConsentRefused('wrong_account');
  if ('identity' in result) {
    const signedIn = normalizeProviderAddress(result.identity.email);
    if (!result.identity.emailVerified || !credentials || signedIn !== normalizeProviderAddress(credentials.address)) throw new ConsentRefused('wrong_account');
  } else if (!credentials || credentials.azureTenantId !== result.signIn.azureTenantId) {
    throw new ConsentRefused('wrong_directory');
  }
  const issued = await issueState(deps, session, 'disconnect-confirmed', { mailboxId: mailbox.mailboxId });
  return {
    confirmation: issued.state,
    mailbox,
    address: credentials?.address ?? null,
    deletionDeadline: new Date(deps.clock.now().getTime() + deps.retentionDays * 86_400_000).toISOString(),
  };
}

export async function confirmDisconnect(deps: ConsentDeps, session: AdminSession, confirmation: string | undefined): Promise<MailboxRecord> {
  const state = await takeState(deps, session, confirmation, ['disconnect-confirmed']);
  const mailbox = await liveMailbox(deps, session, state.mailboxId);
  return disconnectMailbox(deps.retention, mailbox.tenantId, mailbox.mailboxId, deps.retentionDays);
}
