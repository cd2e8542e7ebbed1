// One-time states of provider round trips (and of the forms that follow one). The value travels to
// the provider and back (or in a hidden field); only its digest is stored, with the PKCE verifier,
// the nonce and what the callback may do. A state is honoured once, within ten minutes, and only
// with the session cookie it was issued to.
import type { Clock } from '../ports.js';
import { ConsentRefused } from './errors.js';
import type { AdminSession, OAuthState, StatePurpose } from './model.js';
import type { ConsentStore } from './store.js';
import { digest, newSecret, pkcePair } from './tokens.js';

export const STATE_MINUTES = 10;

export interface IssuedState {
  state: string;
  codeChallenge: string;
  nonce: string;
}

type StateExtras = Pick<OAuthState, 'mailboxId' | 'azureTenantId' | 'verifiedDomains'>;

export async function issueState(
  deps: { store: ConsentStore; clock: Clock },
  session: AdminSession,
  purpose: StatePurpose,
  extras: StateExtras = {},
): Promise<IssuedState> {
  const state = newSecret();
  const { verifier, challenge } = pkcePair();
  const nonce = newSecret();
  const now = deps.clock.now();
  await deps.store.putState({
    stateHash: digest(state),
    tenantId: session.tenantId,
    sessionHash: session.sessionHash,
    purpose,
    codeVerifier: verifier,
    nonce,
    ...definedOnly(extras),
    createdAt: now.toISOString(),
    validUntil: new Date(now.getTime() + STATE_MINUTES * 60_000).toISOString(),
  });
  return { state, codeChallenge: challenge, nonce };
}

/** Takes a state for one of `purposes`; refuses unknown, replayed, expired, foreign or mis-purposed ones. */
export async function takeState(
  deps: { store: ConsentStore; clock: Clock },
  session: AdminSession,
  value: string | undefined,
  purposes: readonly StatePurpose[],
): Promise<OAuthState> {
  if (!value || value.length > 100) throw new ConsentRefused('state_invalid');
  const now = deps.clock.now();
  const taken = await deps.store.takeState(digest(value), now.toISOString());
  if (!taken) throw new ConsentRefused('state_invalid');
  if ('replayed' in taken) throw new ConsentRefused('state_replayed');
  const { state } = taken;
  // Bound to the session that started the round trip: a state carried to another browser is worthless.
  if (state.sessionHash !== session.sessionHash || state.tenantId !== session.tenantId) throw new ConsentRefused('state_invalid');
  if (!purposes.includes(state.purpose)) throw new ConsentRefused('state_invalid');
  if (Date.parse(state.validUntil) <= now.getTime()) throw new ConsentRefused('state_expired');
  return state;
}

/** A state that must have gone through PKCE: its verifier and nonce, or a refusal. */
export function roundTripSecrets(state: OAuthState): { codeVerifier: string; nonce: string } {
  if (!state.codeVerifier || !state.nonce) throw new ConsentRefused('state_invalid');
  return { codeVerifier: state.codeVerifier, nonce: state.nonce };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
