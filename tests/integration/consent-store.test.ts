// Tenants, invites, admin sessions and one-time states in the ticket table (dynalite, real SDK), with
// the domain rules on top: a signed invite link is refused when tampered with, expired, used or
// revoked; it is consumed once however many POSTs race; a state is taken once and only by its session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConsentStore } from '../../shared/adapters/dynamodb/dynamodb-consent-store.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { ulidIds } from '../../shared/adapters/system/system.js';
import { ConsentRefused } from '../../shared/domain/consent/errors.js';
import { acceptInvite, createInvite, createTenant, csrfMatches, csrfToken, openInvite, revokeInvite, sessionOf, type InviteDeps } from '../../shared/domain/consent/invites.js';
import { issueState, roundTripSecrets, takeState } from '../../shared/domain/consent/states.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';

let storage: LocalStorage;
let store: DynamoDbConsentStore;
let now = new Date('2026-12-02T10:00:00Z');
const clock = { now: () => now };
const signingKey = Buffer.alloc(32, 7);
let deps: InviteDeps;

beforeAll(async () => {
  storage = await startLocalStorage('consent');
  await ensureTable(storage.client, 'tickets');
  store = new DynamoDbConsentStore(storage.client, 'tickets');
  deps = { store, clock, ids: ulidIds(), signingKey, baseUrl: 'https://consent.example' };
});
afterAll(async () => storage?.stop());

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConsentRefused) return error.code;
    throw error;
  }
  return 'accepted';
}

const tokenOf = (url: string) => new URL(url).searchParams.get('invite') as string;

describe('tenants and invites', () => {
  it('creates a tenant once, lists it, and issues a signed link under /connect that opens without being consumed', async () => {
    const tenant = await createTenant(deps, '  Acme Support AB ');
    expect(tenant).toMatchObject({ name: 'Acme Support AB' });
    expect(tenant.tenantId).toMatch(/^t-[0-9a-z]{26}$/);
    expect(await refusal(createTenant(deps, 'Again', tenant.tenantId))).toBe('bad_request');
    expect((await store.listTenants()).map((t) => t.tenantId)).toContain(tenant.tenantId);

    const { url, invite } = await createInvite(deps, tenant.tenantId, 7);
    expect(url.startsWith('https://consent.example/connect?invite=')).toBe(true);
    expect(invite.validUntil).toBe('2026-12-09T10:00:00.000Z');
    // A GET (or a mail scanner's prefetch) twice: still open.
    await openInvite(deps, tokenOf(url));
    const opened = await openInvite(deps, tokenOf(url));
    expect(opened.invite.status).toBe('open');
    expect(opened.tenant.name).toBe('Acme Support AB');
  });

  it('refuses tampered, foreign-signed and malformed links before any lookup, and expired ones by their signed date', async () => {
    const tenant = await createTenant(deps, 'Tamper Inc');
    const token = tokenOf((await createInvite(deps, tenant.tenantId, 1)).url);
    const [t, id, exp, sig] = token.split('.') as [string, string, string, string];
    expect(await refusal(openInvite(deps, [t, id, String(Number(exp) + 86_400), sig].join('.')))).toBe('invite_invalid');
    expect(await refusal(openInvite(deps, ['default', id, exp, sig].join('.')))).toBe('invite_invalid');
    expect(await refusal(openInvite({ ...deps, signingKey: Buffer.alloc(32, 8) }, token))).toBe('invite_invalid');
    expect(await refusal(openInvite(deps, 'nonsense'))).toBe('invite_invalid');
    expect(await refusal(openInvite(deps, undefined))).toBe('invite_invalid');
    const later = now;
    now = new Date(now.getTime() + 86_400_000 + 1000);
    try {
      expect(await refusal(openInvite(deps, token))).toBe('invite_expired');
    } finally {
      now = later;
    }
  });

  it('is consumed by exactly one of many racing POSTs, which gets an 8-hour session; the others are told it was used', async () => {
    const tenant = await createTenant(deps, 'Race Ltd');
    const token = tokenOf((await createInvite(deps, tenant.tenantId)).url);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => acceptInvite(deps, token)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === 'rejected')) expect((lost.reason as ConsentRefused).code).toBe('invite_used');
    const { cookie, session } = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acceptInvite>>>).value;
    expect(Date.parse(session.validUntil) - Date.parse(session.createdAt)).toBe(8 * 3_600_000);
    expect(session.sessionHash).not.toContain(cookie);
    expect((await sessionOf(deps, cookie))?.tenantId).toBe(tenant.tenantId);
    expect(await refusal(openInvite(deps, token))).toBe('invite_used');
    // After eight hours the cookie opens nothing.
    const later = now;
    now = new Date(now.getTime() + 8 * 3_600_000);
    try {
      expect(await sessionOf(deps, cookie)).toBeUndefined();
    } finally {
      now = later;
    }
  });

  it('revokes an open invite by its id alone; the link is then refused as revoked', async () => {
    const tenant = await createTenant(deps, 'Revoke GmbH');
    const { url, invite } = await createInvite(deps, tenant.tenantId);
    expect((await revokeInvite(deps, invite.inviteId)).status).toBe('revoked');
    expect(await refusal(openInvite(deps, tokenOf(url)))).toBe('invite_revoked');
    expect(await refusal(acceptInvite(deps, tokenOf(url)))).toBe('invite_revoked');
    expect(await refusal(revokeInvite(deps, invite.inviteId))).toBe('bad_request');
    expect(await refusal(revokeInvite(deps, '01J00000000000000000000000'))).toBe('not_found');
  });

  it('binds CSRF tokens to the cookie they were issued for', () => {
    const token = csrfToken(signingKey, 'cookie-a');
    expect(csrfMatches(signingKey, 'cookie-a', token)).toBe(true);
    expect(csrfMatches(signingKey, 'cookie-b', token)).toBe(false);
    expect(csrfMatches(signingKey, 'cookie-a', undefined)).toBe(false);
    expect(csrfMatches(signingKey, undefined, token)).toBe(false);
  });

  it('erasing the tenant removes its consent records with it', async () => {
    const tenant = await createTenant(deps, 'Leaving SA');
    await createInvite(deps, tenant.tenantId);
    const repo = new DynamoDbTicketRepository(storage.client, 'tickets');
    expect(await repo.deleteTenantRecords(tenant.tenantId)).toBeGreaterThanOrEqual(2);
    expect(await store.getTenant(tenant.tenantId)).toBeUndefined();
  });
});

describe('one-time states', () => {
  it('is taken once, by its own session, for its own purpose, within ten minutes', async () => {
    const tenant = await createTenant(deps, 'States BV');
    const { session } = await acceptInvite(deps, tokenOf((await createInvite(deps, tenant.tenantId)).url));
    const { session: other } = await acceptInvite(deps, tokenOf((await createInvite(deps, tenant.tenantId)).url));

    const issued = await issueState(deps, session, 'google-connect', { mailboxId: 'gmail-1' });
    expect(issued.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const taken = await takeState(deps, session, issued.state, ['google-connect']);
    expect(taken).toMatchObject({ purpose: 'google-connect', mailboxId: 'gmail-1', tenantId: tenant.tenantId });
    expect(roundTripSecrets(taken).codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await refusal(takeState(deps, session, issued.state, ['google-connect']))).toBe('state_replayed');

    const foreign = await issueState(deps, session, 'google-connect');
    expect(await refusal(takeState(deps, other, foreign.state, ['google-connect']))).toBe('state_invalid');
    const wrongPurpose = await issueState(deps, session, 'microsoft-mailboxes');
    expect(await refusal(takeState(deps, session, wrongPurpose.state, ['google-connect']))).toBe('state_invalid');
    expect(await refusal(takeState(deps, session, 'never-issued', ['google-connect']))).toBe('state_invalid');

    const late = await issueState(deps, session, 'google-connect');
    const before = now;
    now = new Date(now.getTime() + 10 * 60_000 + 1);
    try {
      expect(await refusal(takeState(deps, session, late.state, ['google-connect']))).toBe('state_expired');
    } finally {
      now = before;
    }
  });

  it('is taken by exactly one of many concurrent callbacks', async () => {
    const tenant = await createTenant(deps, 'Concurrent Oy');
    const { session } = await acceptInvite(deps, tokenOf((await createInvite(deps, tenant.tenantId)).url));
    const issued = await issueState(deps, session, 'microsoft-signin');
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => takeState(deps, session, issued.state, ['microsoft-signin'])));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });
});
