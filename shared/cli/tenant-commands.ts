// Tenants and invites: `tenants create NAME`, `tenants list`, `tenants invite TENANT_ID [--expires 7d]`,
// `tenants invite revoke INVITE_ID`. An invite's URL points at npm start's consent page (its server
// when one runs, else PORT on loopback); in AWS the same use-cases run with the stack's base URL.
import { parseArgs } from 'node:util';
import { loadLocalConfig } from '../config.js';
import { createInvite, createTenant, DEFAULT_INVITE_DAYS, parseInviteDays, revokeInvite, type InviteDeps } from '../domain/consent/invites.js';
import type { LocalStack } from '../local/stack.js';
import { safeId } from './ids.js';
import { printJsonLine, printTable, UsageError } from './output.js';

export function localInviteDeps(stack: LocalStack): InviteDeps {
  return {
    store: stack.consent.store,
    signingKey: stack.consent.signingKey,
    clock: stack.deps.clock,
    ids: stack.deps.ids,
    baseUrl: stack.endpoints.server ?? `http://127.0.0.1:${loadLocalConfig().port}`,
  };
}

export async function tenantConsentCommand(stack: LocalStack, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, expires: { type: 'string' }, id: { type: 'string' } },
  });
  const deps = localInviteDeps(stack);
  if (sub === 'create') {
    const name = positionals.join(' ');
    if (!name.trim()) throw new UsageError('tenants create needs a NAME');
    const tenant = await createTenant(deps, name, values.id ? safeId('tenant', values.id) : undefined);
    if (values.json) printJsonLine({ id: tenant.tenantId, name: tenant.name, createdAt: tenant.createdAt });
    else process.stdout.write(`tenant ${tenant.tenantId} created (${tenant.name}); invite its admin with: tenants invite ${tenant.tenantId}\n`);
    return 0;
  }
  if (sub === 'list') {
    const tenants = await deps.store.listTenants();
    if (values.json) printJsonLine(tenants.map((t) => ({ id: t.tenantId, name: t.name, createdAt: t.createdAt })));
    else printTable(['TENANT', 'NAME', 'CREATED'], tenants.map((t) => [t.tenantId, t.name, t.createdAt]));
    return 0;
  }
  // invite
  if (positionals[0] === 'revoke') {
    const inviteId = safeId('invite', positionals[1]);
    const invite = await revokeInvite(deps, inviteId);
    if (values.json) printJsonLine({ id: invite.inviteId, tenantId: invite.tenantId, status: invite.status });
    else process.stdout.write(`invite ${invite.inviteId} of tenant ${invite.tenantId} revoked: its link no longer works\n`);
    return 0;
  }
  const tenantId = safeId('tenant', positionals[0]);
  const { invite, url } = await createInvite(deps, tenantId, parseDays(values.expires));
  if (values.json) printJsonLine({ url, id: invite.inviteId, tenantId, expiresAt: invite.validUntil });
  else process.stdout.write(`${url}\n(single use, valid until ${invite.validUntil}; revoke with: tenants invite revoke ${invite.inviteId})\n`);
  return 0;
}

/** `7d`, `36h` or a number of days. */
function parseDays(value: string | undefined): number {
  if (value === undefined) return DEFAULT_INVITE_DAYS;
  const days = parseInviteDays(value);
  if (days === undefined) throw new UsageError('--expires takes days ("7d") or hours ("36h")');
  return days;
}
