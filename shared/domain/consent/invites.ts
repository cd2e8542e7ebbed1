// Tenants and their invites. An invite link carries tenant, invite id and expiry under the stack's
// signing key, so a tampered or expired link is refused before any lookup. Opening it (GET) only
// shows the landing page — mail scanners prefetch links — and the first POST from that page consumes
// it and opens an admin session of at most 8 hours.
import type { Clock, IdGenerator } from '../ports.js';
import { ConsentRefused } from './errors.js';
import type { AdminSession, InviteRecord, TenantRecord } from './model.js';
import type { ConsentStore } from './store.js';
import { digest, newSecret, sign, signatureMatches } from './tokens.js';

export const SESSION_HOURS = 8;
export const DEFAULT_INVITE_DAYS = 7;
export const MAX_INVITE_DAYS = 30;

/** An operator's invite lifetime, `7d`, `36h` or `7` (days), in days; undefined when it is none of these. */
export function parseInviteDays(text: string): number | undefined {
  const match = /^(\d{1,4})([dh]?)$/.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  return match[2] === 'h' ? amount / 24 : amount;
}
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface InviteDeps {
  store: ConsentStore;
  clock: Clock;
  ids: IdGenerator;
  signingKey: Uint8Array;
  /** The site's public origin, e.g. https://api.example.com. */
  baseUrl: string;
}

/** A tenant's name as stored: trimmed, 1 to 200 characters; anything else is refused. */
export function tenantName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 200) throw new ConsentRefused('bad_request', 'a tenant name is 1 to 200 characters');
  return trimmed;
}

/** Refuses a tenant id other than 1 to 64 letters, digits, - or _ (ids go into keys, aliases and URLs). */
export function assertTenantIdShape(tenantId: string): void {
  if (!SAFE_ID.test(tenantId)) throw new ConsentRefused('bad_request', 'a tenant id is 1 to 64 letters, digits, - or _');
}

export async function createTenant(deps: Pick<InviteDeps, 'store' | 'clock' | 'ids'>, name: string, tenantId?: string): Promise<TenantRecord> {
  const trimmed = tenantName(name);
  const id = tenantId ?? `t-${deps.ids.next().toLowerCase()}`;
  assertTenantIdShape(id);
  const tenant: TenantRecord = { tenantId: id, name: trimmed, createdAt: deps.clock.now().toISOString() };
  if (!(await deps.store.createTenant(tenant))) throw new ConsentRefused('bad_request', `tenant ${id} exists`);
  return tenant;
}

export interface IssuedInvite {
  invite: InviteRecord;
  url: string;
}

export async function createInvite(deps: InviteDeps, tenantId: string, days = DEFAULT_INVITE_DAYS): Promise<IssuedInvite> {
  if (!(await deps.store.getTenant(tenantId))) throw new ConsentRefused('not_found', `no tenant ${tenantId}`);
  if (!Number.isFinite(days) || days <= 0 || days > MAX_INVITE_DAYS) throw new ConsentRefused('bad_request', `an invite lasts more than 0 and at most ${MAX_INVITE_DAYS} days`);
  const now = deps.clock.now();
  const invite: InviteRecord = {
    tenantId,
    inviteId: deps.ids.next(),
    createdAt: now.toISOString(),
    validUntil: new Date(now.getTime() + days * 86_400_000).toISOString(),
    status: 'open',
  };
  await deps.store.putInvite(invite);
  const expires = String(Math.floor(Date.parse(invite.validUntil) / 1000));
  const token = [tenantId, invite.inviteId, expires, sign(deps.signingKey, 'invite', tenantId, invite.inviteId, expires)].join('.');
  return { invite, url: `${deps.baseUrl}/connect?invite=${token}` };
}

export async function revokeInvite(deps: Pick<InviteDeps, 'store' | 'clock'>, inviteId: string): Promise<InviteRecord> {
  const invite = await deps.store.findInvite(inviteId);
  if (!invite) throw new ConsentRefused('not_found', `no invite ${inviteId}`);
  if (!(await deps.store.revokeInvite(invite.tenantId, inviteId, deps.clock.now().toISOString()))) {
    throw new ConsentRefused('bad_request', `invite ${inviteId} is already ${invite.status}`);
  }
  return { ...invite, status: 'revoked' };
}

/** A link as it arrived: checked for its signature and expiry, then its record. Never consumes. */
export async function openInvite(deps: InviteDeps, token: string | undefined): Promise<{ tenant: TenantRecord; invite: InviteRecord }> {
  const parts = (token ?? '').split('.');
  const [tenantId, inviteId, expires, signature] = parts;
  if (parts.length !== 4 || !tenantId || !inviteId || !expires || !signature || !SAFE_ID.test(tenantId) || !SAFE_ID.test(inviteId) || !/^\d{1,12}$/.test(expires)) {
    throw new ConsentRefused('invite_invalid');
  }
  if (!signatureMatches(deps.signingKey, signature, 'invite', tenantId, inviteId, expires)) throw new ConsentRefused('invite_invalid');
  if (Number(expires) * 1000 <= deps.clock.now().getTime()) throw new ConsentRefused('invite_expired');
  const [invite, tenant] = await Promise.all([deps.store.getInvite(tenantId, inviteId), deps.store.getTenant(tenantId)]);
  if (!invite || !tenant) throw new ConsentRefused('invite_invalid');
  if (invite.status === 'revoked') throw new ConsentRefused('invite_revoked');
  if (invite.status === 'used') throw new ConsentRefused('invite_used');
  return { tenant, invite };
}

/** The first POST from the landing page: consumes the invite (once, whoever races) and opens a session. */
export async function acceptInvite(deps: InviteDeps, token: string | undefined): Promise<{ cookie: string; session: AdminSession }> {
  const { invite } = await openInvite(deps, token);
  const now = deps.clock.now();
  if (!(await deps.store.consumeInvite(invite.tenantId, invite.inviteId, now.toISOString()))) {
    const current = await deps.store.getInvite(invite.tenantId, invite.inviteId);
    throw new ConsentRefused(current?.status === 'revoked' ? 'invite_revoked' : 'invite_used');
  }
  const cookie = newSecret();
  const session: AdminSession = {
    sessionHash: digest(cookie),
    tenantId: invite.tenantId,
    inviteId: invite.inviteId,
    createdAt: now.toISOString(),
    validUntil: new Date(now.getTime() + SESSION_HOURS * 3_600_000).toISOString(),
  };
  await deps.store.putSession(session);
  return { cookie, session };
}

/** The live session a cookie names, or undefined. */
export async function sessionOf(deps: Pick<InviteDeps, 'store' | 'clock'>, cookie: string | undefined): Promise<AdminSession | undefined> {
  if (!cookie || cookie.length > 100) return undefined;
  const session = await deps.store.getSession(digest(cookie));
  if (!session || Date.parse(session.validUntil) <= deps.clock.now().getTime()) return undefined;
  return session;
}

/** The CSRF token of a page: bound to the session cookie (or, before one, to a pre-session cookie). */
export function csrfToken(signingKey: Uint8Array, binding: string): string {
  return sign(signingKey, 'csrf', binding);
}

export function csrfMatches(signingKey: Uint8Array, binding: string | undefined, token: string | undefined): boolean {
  return !!binding && !!token && signatureMatches(signingKey, token, 'csrf', binding);
}
