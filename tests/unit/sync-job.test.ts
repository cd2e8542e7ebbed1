// Sync jobs fit SQS FIFO's id rules for every mailbox the model allows (tenant and mailbox ids of up to
// 64 characters each), and stay one id per mailbox and per cause.
import { describe, expect, it } from 'vitest';
import { assertSqsFifoId } from '../../shared/adapters/sqs/sqs-job-queue.js';
import { parkedMessageJob, queuedSyncJob, syncGroupId } from '../../shared/domain/connectors/sync-job.js';

const LONG_TENANT = 't'.repeat(64);
const LONG_MAILBOX = 'm'.repeat(64);

describe('sync job ids', () => {
  it('keeps short ids readable', () => {
    expect(syncGroupId({ tenantId: 'default', mailboxId: 'gmail-demo' })).toBe('default.gmail-demo');
    expect(queuedSyncJob({ tenantId: 'default', mailboxId: 'gmail-demo', reason: 'push' }, 'push-123').deduplicationId).toBe('push-123');
  });

  it('regression: a 64-character tenant and mailbox made a 129-character group id, which SQS refuses', () => {
    const job = queuedSyncJob({ tenantId: LONG_TENANT, mailboxId: LONG_MAILBOX, reason: 'safety' }, `safety-${LONG_TENANT}.${LONG_MAILBOX}-29431337`);
    expect(() => assertSqsFifoId('groupId', job.groupId)).not.toThrow();
    expect(() => assertSqsFifoId('deduplicationId', job.deduplicationId)).not.toThrow();
    const parked = parkedMessageJob({ tenantId: LONG_TENANT, mailboxId: LONG_MAILBOX }, { id: '18c2f0a1b2c3d4e5' });
    expect(() => assertSqsFifoId('groupId', parked.groupId)).not.toThrow();
  });

  it('still gives each mailbox its own group, and each cause its own deduplication id, when digested', () => {
    const a = syncGroupId({ tenantId: LONG_TENANT, mailboxId: LONG_MAILBOX });
    const b = syncGroupId({ tenantId: LONG_TENANT, mailboxId: `${'m'.repeat(63)}n` });
    expect(a).not.toBe(b);
    expect(syncGroupId({ tenantId: LONG_TENANT, mailboxId: LONG_MAILBOX })).toBe(a);
    const slot1 = queuedSyncJob({ tenantId: LONG_TENANT, mailboxId: LONG_MAILBOX, reason: 'safety' }, `safety-${LONG_TENANT}.${LONG_MAILBOX}-1`);
    const slot2 = queuedSyncJob({ tenantId: LONG_TENANT, mailboxId: LONG_MAILBOX, reason: 'safety' }, `safety-${LONG_TENANT}.${LONG_MAILBOX}-2`);
    expect(slot1.deduplicationId).not.toBe(slot2.deduplicationId);
  });
});
