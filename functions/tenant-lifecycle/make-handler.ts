// The operator's tenant commands in AWS, invoked directly (`aws lambda invoke --payload '{"task":…}'`):
// create a tenant with its keys, invite its admin, revoke an invite, close an account. The answers are
// the JSON of the local CLI's `tenants … --json`. A bad payload is thrown, so the invoke reports a
// FunctionError with the reason. Logs carry tenant and invite ids (opaque), never a tenant's name.
import { logger } from '../../shared/adapters/system/observability.js';
import { parseInviteDays, revokeInvite } from '../../shared/domain/consent/invites.js';
import { InvalidInput } from '../../shared/domain/errors.js';
import type { Metrics } from '../../shared/domain/ports.js';
import { closeTenantAccount, inviteTenantAdmin, provisionTenant, type TenantLifecycleDeps } from '../../shared/domain/tenant-lifecycle.js';

export interface TenantLifecycleHandlerDeps extends TenantLifecycleDeps {
  metrics: Metrics;
  /** Publishes what the invocation counted (Powertools in Lambda). */
  flush?: () => void;
}

/** Counted per invocation; the stack alarms on the second (infra/constructs/tenant-lifecycle.ts). */
export const KEYS_CREATED_METRIC = 'tenant_keys_created';
export const KEYS_SCHEDULED_METRIC = 'tenant_keys_scheduled_for_deletion';

export const TASKS = ['create-tenant', 'invite', 'revoke-invite', 'close-tenant'] as const;
export type TenantLifecycleTask = (typeof TASKS)[number];

export type TenantLifecycleResult =
  | { id: string; name: string; createdAt: string }
  | { url: string; id: string; tenantId: string; expiresAt: string }
  | { id: string; tenantId: string; status: string }
  | { tenantId: string; mailboxes: number; keysDestroyedBy: string };

export function makeHandler(deps: TenantLifecycleHandlerDeps) {
  return async (event: unknown): Promise<TenantLifecycleResult> => {
    const payload = objectOf(event);
    const task = payload.task;
    try {
      switch (task) {
        case 'create-tenant': {
          const { tenant, keysCreated } = await provisionTenant(deps, requiredString(payload, 'name'), optionalString(payload, 'id'));
          deps.metrics.count(KEYS_CREATED_METRIC, keysCreated);
          logger.info('tenant created', { task, tenantId: tenant.tenantId, keysCreated });
          return { id: tenant.tenantId, name: tenant.name, createdAt: tenant.createdAt };
        }
        case 'invite': {
          const tenantId = requiredString(payload, 'tenantId');
          const { invite, url } = await inviteTenantAdmin(deps, tenantId, daysOf(payload.expires));
          logger.info('invite issued', { task, tenantId, inviteId: invite.inviteId, validUntil: invite.validUntil });
          return { url, id: invite.inviteId, tenantId, expiresAt: invite.validUntil };
        }
        case 'revoke-invite': {
          const invite = await revokeInvite(deps, requiredString(payload, 'inviteId'));
          logger.info('invite revoked', { task, tenantId: invite.tenantId, inviteId: invite.inviteId });
          return { id: invite.inviteId, tenantId: invite.tenantId, status: invite.status };
        }
        case 'close-tenant': {
          const result = await closeTenantAccount(deps, requiredString(payload, 'tenantId'));
          // One per closed account (its data and index keys): the alarm tells a human.
          deps.metrics.count(KEYS_SCHEDULED_METRIC, 1);
          logger.warn('tenant closed: keys scheduled for deletion', { task, ...result });
          return result;
        }
        default:
          throw new InvalidInput(`the payload's "task" must be one of ${TASKS.map((t) => `"${t}"`).join(', ')}`);
      }
    } catch (error) {
      // The name and code (and a half-made tenant's opaque id) only: a message may hold the payload's values.
      const { name, code, tenantId } = (error ?? {}) as { name?: string; code?: string; tenantId?: string };
      logger.error('tenant lifecycle task failed', { task: typeof task === 'string' ? task.slice(0, 40) : typeof task, error: name ?? 'unknown', code, tenantId });
      throw error;
    } finally {
      deps.flush?.();
    }
  };
}

function objectOf(event: unknown): Record<string, unknown> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new InvalidInput('the payload must be a JSON object with a "task"');
  return event as Record<string, unknown>;
}

function requiredString(payload: Record<string, unknown>, field: string): string {
  const value = payload[field];
  if (typeof value !== 'string' || !value.trim()) throw new InvalidInput(`"${field}" must be a non-empty string`);
  return value;
}

function optionalString(payload: Record<string, unknown>, field: string): string | undefined {
  return payload[field] === undefined ? undefined : requiredString(payload, field);
}

/** As the CLI's --expires: `"7d"`, `"36h"`, or a number of days; absent → the default. */
function daysOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const days = typeof value === 'string' ? parseInviteDays(value) : undefined;
  if (days === undefined) throw new InvalidInput('"expires" takes days ("7d", 7) or hours ("36h")');
  return days;
}
