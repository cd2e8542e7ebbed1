// Tenant ids name files (local key files) and KMS aliases, so only a safe path/alias segment passes.
import { InvalidInput } from '../../domain/errors.js';

const SAFE_TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function assertTenantId(tenantId: string): string {
  if (!SAFE_TENANT_ID.test(tenantId)) throw new InvalidInput('invalid tenant id');
  return tenantId;
}

/** Tenant keys are reached through aliases `<prefix><tenantId>` (data) and `<prefix><tenantId>-index` (HMAC). */
export const DEFAULT_ALIAS_PREFIX = 'alias/mail2ticket/tenant/';
