// A tenant's life in AWS: created with its own keys, its admin invited, its account closed. The keys
// come first and the tenant record last, so a failure never leaves a tenant that can be invited (an
// invite needs the record) without keys to encrypt its data. Every step is idempotent: the operator
// repeats a failed command with the same id and the run finishes the job.
import { assertTenantIdShape, createInvite, createTenant, DEFAULT_INVITE_DAYS, tenantName, type InviteDeps, type IssuedInvite } from './consent/invites.js';
import { ConsentRefused } from './consent/errors.js';
import type { TenantRecord } from './consent/model.js';
import { DomainError } from './errors.js';
import type { TenantKeyLifecycle, TenantKeyProvisioner } from './ports.js';
import { closeTenant, type RetentionDeps } from './retention.js';

export interface TenantLifecycleDeps extends InviteDeps {
  keys: TenantKeyProvisioner & TenantKeyLifecycle;
  retention: RetentionDeps;
}


/**
 * A tenant creation that stopped half way. When the id was generated the operator could not know it:
 * the message names it, so the retry passes it and finishes the same tenant instead of starting another.
 */
export class TenantCreationIncomplete extends DomainError {
  readonly code = 'tenant_creation_incomplete';
  constructor(
    readonly tenantId: string,
    readonly retryable: boolean,
    options: { cause: unknown },
  ) {
    super(`tenant ${tenantId} was not completely created; run create-tenant again with "id": "${tenantId}" to finish it`, options);
  }
}

export interface ProvisionedTenant {
  tenant: TenantRecord;
  /** Keys this call created (0 on a retry that found them all). */
  keysCreated: number;
}

export async function provisionTenant(deps: Pick<TenantLifecycleDeps, 'store' | 'clock' | 'ids' | 'keys'>, name: string, tenantId?: string): Promise<ProvisionedTenant> {
  // createTenant's own rules, checked before any key exists: an invalid request must create nothing.
  const trimmed = tenantName(name);
  if (tenantId !== undefined) assertTenantIdShape(tenantId);
  const id = tenantId ?? `t-${deps.ids.next().toLowerCase()}`;

  const existing = await deps.store.getTenant(id);
  // The same request again (e.g. after a client timeout): same answer, and any missing key is made.
  if (existing && existing.name !== trimmed) throw new ConsentRefused('bad_request', `tenant ${id} exists`);
  try {
    const { created } = await deps.keys.createTenantKeys(id);
    const tenant = existing ?? (await createTenant(deps, trimmed, id));
    return { tenant, keysCreated: created };
  } catch (error) {
    if (error instanceof ConsentRefused || tenantId !== undefined) throw error;
    const retryable = error instanceof DomainError ? error.retryable : true;
    throw new TenantCreationIncomplete(id, retryable, { cause: error });
  }
}

/** An invite for the tenant's admin, only while the tenant's keys are usable (never for a closed account). */
export async function inviteTenantAdmin(deps: TenantLifecycleDeps, tenantId: string, days = DEFAULT_INVITE_DAYS): Promise<IssuedInvite> {
  assertTenantIdShape(tenantId);
  if (!(await deps.store.getTenant(tenantId))) throw new ConsentRefused('not_found', `no tenant ${tenantId}`);
  const state = await deps.keys.tenantKeyState(tenantId);
  if (state !== 'active') {
    throw new ConsentRefused('bad_request', state === 'closed' ? `tenant ${tenantId} is closed` : `tenant ${tenantId} has no keys yet: run create-tenant again with its id`);
  }
  return createInvite(deps, tenantId, days);
}

/**
 * Account closure (retention.ts closeTenant): every mailbox disconnected, the tenant's keys scheduled
 * for deletion. Only a known tenant: a mistyped id destroys nothing.
 */
export async function closeTenantAccount(deps: TenantLifecycleDeps, tenantId: string): Promise<{ tenantId: string; mailboxes: number; keysDestroyedBy: string }> {
  assertTenantIdShape(tenantId);
  if (!(await deps.store.getTenant(tenantId))) throw new ConsentRefused('not_found', `no tenant ${tenantId}`);
  const result = await closeTenant({ ...deps.retention, tenantKeys: deps.keys }, tenantId);
  return { tenantId, ...result };
}
