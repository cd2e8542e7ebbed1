// Connecting Microsoft 365 mailboxes. Graph application permissions (Mail.ReadWrite, Mail.Send) always need
// an administrator's consent, so: an OpenID Connect sign-in of that admin (which directory — the id
// token's tid — and whether they hold an admin role), then the admin-consent endpoint for exactly that
// directory, then the admin names the mailboxes, each under a verified domain of the directory. The
// directory is never taken from a redirect parameter: one customer could attach another's otherwise.
import { normalizeProviderAddress, SERVICE_INDEX_TENANT } from '../connectors/credentials.js';
import { connectGraphMailbox, GraphMailboxInUse } from '../graph/lifecycle.js';
import type { MailboxRecord } from '../model.js';
import { ConsentRefused } from './errors.js';
import type { AdminSession, OAuthState } from './model.js';
import { credentialsOf, liveMailbox, newMailboxId } from './mailboxes.js';
import type { MicrosoftSignIn } from './ports.js';
import { redeemAtProvider } from './google.js';
import { issueState, roundTripSecrets, takeState } from './states.js';
import { microsoftRedirectUri, type ConsentDeps } from './deps.js';

export interface MicrosoftCallbackQuery {
  state?: string;
  code?: string;
  error?: string;
  admin_consent?: string;
  tenant?: string;
}

function microsoft(deps: ConsentDeps): NonNullable<ConsentDeps['microsoft']> {
  if (!deps.microsoft) throw new ConsentRefused('provider_error', 'no Microsoft Entra app is configured');
  return deps.microsoft;
}

export async function beginMicrosoftConnect(deps: ConsentDeps, session: AdminSession, mailboxId?: string): Promise<string> {
  const { authorization } = microsoft(deps);
  const existing = mailboxId ? await liveMailbox(deps, session, mailboxId, 'graph') : undefined;
  const issued = await issueState(deps, session, 'microsoft-signin', { mailboxId: existing?.mailboxId });
  return authorization.signInUrl({ ...issued, redirectUri: microsoftRedirectUri(deps), fresh: false });
}

export type MicrosoftCallbackResult =
  | { kind: 'redirect'; url: string }
  | { kind: 'choose_mailboxes'; step: string; verifiedDomains: string[] }
  | { kind: 'reconnected'; mailbox: MailboxRecord }
  | { kind: 'confirmed'; state: OAuthState; signIn: MicrosoftSignIn };

export async function finishMicrosoft(deps: ConsentDeps, session: AdminSession, query: MicrosoftCallbackQuery): Promise<MicrosoftCallbackResult> {
  const state = await takeState(deps, session, query.state, ['microsoft-signin', 'microsoft-consent', 'microsoft-confirm']);
  if (query.error) throw new ConsentRefused(query.error === 'access_denied' || query.error === 'consent_required' ? 'access_denied' : 'provider_error');
  const { authorization, lifecycle } = microsoft(deps);

  if (state.purpose === 'microsoft-consent') {
    if (query.admin_consent?.toLowerCase() !== 'true') throw new ConsentRefused('access_denied');
    // The callback's `tenant` must be the directory the signed-in admin belongs to; it is checked, never used.
    if (!state.azureTenantId || query.tenant !== state.azureTenantId) throw new ConsentRefused('wrong_directory');
    if (state.mailboxId) {
      const mailbox = await liveMailbox(deps, session, state.mailboxId, 'graph');
      const credentials = await credentialsOf(deps, mailbox);
      if (!credentials || credentials.azureTenantId !== state.azureTenantId) throw new ConsentRefused('wrong_directory');
      const reconnected = await connect(() => connectGraphMailbox(lifecycle, mailbox, { azureTenantId: state.azureTenantId as string, address: credentials.address, ...(credentials.userId ? { userId: credentials.userId } : {}) }));
      return { kind: 'reconnected', mailbox: reconnected };
    }
    const step = await issueState(deps, session, 'microsoft-mailboxes', { azureTenantId: state.azureTenantId, verifiedDomains: state.verifiedDomains ?? [] });
    return { kind: 'choose_mailboxes', step: step.state, verifiedDomains: state.verifiedDomains ?? [] };
  }

  if (!query.code) throw new ConsentRefused('bad_request');
  const { codeVerifier, nonce } = roundTripSecrets(state);
  const signIn = await redeemAtProvider(() => authorization.completeSignIn({ code: query.code as string, codeVerifier, nonce, redirectUri: microsoftRedirectUri(deps) }));
  if (!signIn.isAdmin) throw new ConsentRefused('not_admin');
  if (state.purpose === 'microsoft-confirm') return { kind: 'confirmed', state, signIn };

  if (state.mailboxId) {
    const mailbox = await liveMailbox(deps, session, state.mailboxId, 'graph');
    if ((await credentialsOf(deps, mailbox))?.azureTenantId !== signIn.azureTenantId) throw new ConsentRefused('wrong_directory');
  }
  const consent = await issueState(deps, session, 'microsoft-consent', {
    azureTenantId: signIn.azureTenantId,
    verifiedDomains: signIn.verifiedDomains,
    mailboxId: state.mailboxId,
  });
  return { kind: 'redirect', url: authorization.adminConsentUrl({ azureTenantId: signIn.azureTenantId, state: consent.state, redirectUri: microsoftRedirectUri(deps) }) };
}

export type RefusedAddress = { address: string; reason: 'domain_not_verified' | 'invalid_address' | 'mailbox_in_use' | 'provider_error' };

export interface MailboxesResult {
  connected: MailboxRecord[];
  refused: RefusedAddress[];
  /** When something was refused: a new step token to try again with (the old one is spent). */
  step?: string;
  verifiedDomains: string[];
}

const MAX_ADDRESSES = 20;
/** 20 addresses of the longest legal length (254) with their separators, and room to spare. */
export const MAX_ADDRESS_TEXT = 8000;
const ADDRESS = /^[^\s@<>",;]{1,64}@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)$/;

/** The admin named the mailboxes to connect in the directory they consented for. */
export async function connectMicrosoftMailboxes(deps: ConsentDeps, session: AdminSession, stepToken: string | undefined, addressText: string): Promise<MailboxesResult> {
  // Checked before the one-time step is spent: the admin goes back to the form and resubmits, rather
  // than signing in to Microsoft and consenting all over again.
  const addresses = [...new Set(addressText.split(/[\s,;]+/).map((a) => a.trim().toLowerCase()).filter(Boolean))];
  if (addressText.length > MAX_ADDRESS_TEXT || addresses.length === 0 || addresses.length > MAX_ADDRESSES) throw new ConsentRefused('bad_request');
  const step = await takeState(deps, session, stepToken, ['microsoft-mailboxes']);
  const { lifecycle } = microsoft(deps);
  const azureTenantId = step.azureTenantId;
  if (!azureTenantId) throw new ConsentRefused('state_invalid');
  const verifiedDomains = (step.verifiedDomains ?? []).map((d) => d.toLowerCase());

  const connected: MailboxRecord[] = [];
  const refused: RefusedAddress[] = [];
  for (const raw of addresses) {
    const domain = ADDRESS.exec(raw)?.[1];
    if (!domain) {
      refused.push({ address: raw, reason: 'invalid_address' });
      continue;
    }
    if (!verifiedDomains.includes(domain)) {
      refused.push({ address: raw, reason: 'domain_not_verified' });
      continue;
    }
    const address = normalizeProviderAddress(raw);
    const index = await deps.keys.blindIndex(SERVICE_INDEX_TENANT, 'graph-address', address);
    const holder = await deps.directory.findAddress('graph', index);
    if (holder && holder.tenantId !== session.tenantId) {
      refused.push({ address: raw, reason: 'mailbox_in_use' });
      continue;
    }
    const owner = holder ?? { tenantId: session.tenantId, mailboxId: newMailboxId(deps, 'graph') };
    try {
      connected.push(await connectGraphMailbox(lifecycle, owner, { azureTenantId, address }));
    } catch (error) {
      refused.push({ address: raw, reason: error instanceof GraphMailboxInUse ? 'mailbox_in_use' : 'provider_error' });
    }
  }
  if (refused.length === 0) return { connected, refused, verifiedDomains };
  const again = await issueState(deps, session, 'microsoft-mailboxes', { azureTenantId, verifiedDomains });
  return { connected, refused, step: again.state, verifiedDomains };
}

async function connect(call: () => Promise<MailboxRecord>): Promise<MailboxRecord> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GraphMailboxInUse) throw new ConsentRefused('mailbox_in_use', undefined, { cause: error });
    throw new ConsentRefused('provider_error', undefined, { cause: error });
  }
}
