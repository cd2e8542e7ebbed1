// The access log: every read of mailbox data appends a record of who, when, which ids and why —
// never content. Records chain by hash (each carries the previous one's), so an edited, removed or
// reordered record is detected by `verifyAuditChain`.
import { createHash } from 'node:crypto';
import type { AuditLog, Clock, IdGenerator } from './ports.js';

export type AuditAction =
  | 'ticket.list'
  | 'ticket.view'
  | 'attachment.download'
  | 'requester.export'
  | 'requester.restrict'
  | 'requester.unrestrict'
  | 'requester.erase'
  | 'requester.rectify'
  | 'ticket.reply';

export interface Accessor {
  /** Who: an operator, an admin session, a service — an identifier, not a person's details. */
  actor: string;
  /** Why: a request reference or a stated purpose. */
  reason: string;
}

export interface AuditRecord {
  tenantId: string;
  auditId: string;
  at: string;
  actor: string;
  action: AuditAction;
  /** The ids read (ticket, message, attachment ids), or the ids asked for when refused. */
  subjectIds: string[];
  outcome: 'ok' | 'not_found' | 'refused';
  reason: string;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditDeps {
  audit: AuditLog;
  clock: Clock;
  ids: IdGenerator;
}

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  const canonical = JSON.stringify([
    record.tenantId,
    record.auditId,
    record.at,
    record.actor,
    record.action,
    record.subjectIds,
    record.outcome,
    record.reason,
    record.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export async function recordAccess(
  deps: AuditDeps,
  tenantId: string,
  accessor: Accessor,
  action: AuditAction,
  subjectIds: string[],
  outcome: AuditRecord['outcome'] = 'ok',
): Promise<AuditRecord> {
  return deps.audit.append(tenantId, (prevHash) => {
    const body = { tenantId, auditId: deps.ids.next(), at: deps.clock.now().toISOString(), actor: accessor.actor, action, subjectIds, outcome, reason: accessor.reason, prevHash };
    return { ...body, hash: hashRecord(body) };
  });
}

/** Walks the chain oldest first; the first record whose hash or link does not hold is reported. */
export function verifyAuditChain(records: AuditRecord[]): { ok: true; count: number } | { ok: false; brokenAt: string; count: number } {
  let prev = GENESIS_HASH;
  for (const record of records) {
    const { hash, ...body } = record;
    if (record.prevHash !== prev || hashRecord(body) !== hash) return { ok: false, brokenAt: record.auditId, count: records.length };
    prev = hash;
  }
  return { ok: true, count: records.length };
}
