// The consent site's storage port. Conditional writes make every one-time thing one-time: an invite
// is consumed once, a state is taken once, however many requests race.
import type { AdminSession, InviteRecord, OAuthState, TenantRecord } from './model.js';

export type TakenState = { state: OAuthState } | { replayed: OAuthState } | undefined;

export interface ConsentStore {
  /** False when the id is taken. */
  createTenant(tenant: TenantRecord): Promise<boolean>;
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  listTenants(): Promise<TenantRecord[]>;
  putInvite(invite: InviteRecord): Promise<void>;
  getInvite(tenantId: string, inviteId: string): Promise<InviteRecord | undefined>;
  findInvite(inviteId: string): Promise<InviteRecord | undefined>;
  /** open → used at `at`; false when it was not open (used, revoked) or is unknown. */
  consumeInvite(tenantId: string, inviteId: string, at: string): Promise<boolean>;
  /** open → revoked; false when it was not open. */
  revokeInvite(tenantId: string, inviteId: string, at: string): Promise<boolean>;
  putSession(session: AdminSession): Promise<void>;
  getSession(sessionHash: string): Promise<AdminSession | undefined>;
  deleteSession(sessionHash: string): Promise<void>;
  putState(state: OAuthState): Promise<void>;
  /** Marks the state used and answers it, once; later takes answer `replayed`; unknown → undefined. */
  takeState(stateHash: string, at: string): Promise<TakenState>;
}
