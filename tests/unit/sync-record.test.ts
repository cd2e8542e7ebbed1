// What a sync worker does with a failed record: a provider's throttle is deferred for as long as it
// asked; a transient failure of ours comes back shortly instead of after the queue's hour-long
// visibility timeout (which holds the mailbox's FIFO group); a misconfigured app and any other error
// fail the record unchanged.
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { syncRecordHandler } from '../../functions/shared/sync-record.js';
import { queuedSyncJob } from '../../shared/domain/connectors/sync-job.js';
import { DependencyUnavailable, IngestInProgress, NotFound } from '../../shared/domain/errors.js';
import type { QueuedJob } from '../../shared/domain/ports.js';
import { ProviderMisconfigured, ProviderThrottled } from '../../shared/domain/provider-errors.js';

function record(receives = 1): SQSRecord {
  const job = queuedSyncJob({ tenantId: 'tenant-a', mailboxId: 'mbx-1', reason: 'push' }, 'dedup-1');
  return { messageId: 'm-1', receiptHandle: 'receipt-1', body: job.body, attributes: { ApproximateReceiveCount: String(receives) } } as unknown as SQSRecord;
}

function handlerFailingWith(error: Error, transientRetrySeconds?: number) {
  const deferred: Array<{ receiptHandle: string; seconds: number }> = [];
  const enqueued: QueuedJob[] = [];
  const handle = syncRecordHandler(
    'test',
    {
      queue: { enqueue: async (job: QueuedJob) => void enqueued.push(job) },
      deferral: { defer: async (receiptHandle, seconds) => void deferred.push({ receiptHandle, seconds }) },
      maxReceiveCount: 8,
      ...(transientRetrySeconds === undefined ? {} : { transientRetrySeconds }),
    },
    async () => {
      throw error;
    },
  );
  return { handle, deferred, enqueued };
}

describe('a failed sync record', () => {
  it.each([
    ['another ingestion of the message is under way', new IngestInProgress('under way')],
    ['a store is briefly unavailable', new DependencyUnavailable('the table throttled')],
  ])('comes back in a minute when %s', async (_label, error) => {
    const { handle, deferred, enqueued } = handlerFailingWith(error);
    await expect(handle(record())).rejects.toBe(error);
    expect(deferred).toEqual([{ receiptHandle: 'receipt-1', seconds: 60 }]);
    expect(enqueued).toEqual([]);
  });

  it("comes back sooner on a queue whose visibility timeout is shorter (the local stack's)", async () => {
    const { handle, deferred } = handlerFailingWith(new IngestInProgress('under way'), 30);
    await expect(handle(record())).rejects.toBeInstanceOf(IngestInProgress);
    expect(deferred).toEqual([{ receiptHandle: 'receipt-1', seconds: 30 }]);
  });

  it('waits out a provider throttle for as long as it asked', async () => {
    const error = new ProviderThrottled('slow down', 120);
    const { handle, deferred } = handlerFailingWith(error);
    await expect(handle(record())).rejects.toBe(error);
    expect(deferred).toEqual([{ receiptHandle: 'receipt-1', seconds: 120 }]);
  });

  it.each([
    ['our app is refused (misconfigured): no retry each minute against the token endpoint', new ProviderMisconfigured('invalid_client')],
    ['the error is not retryable', new NotFound('no such mailbox')],
    ['the error is no domain error', new Error('bug')],
  ])('keeps the queue visibility when %s', async (_label, error) => {
    const { handle, deferred } = handlerFailingWith(error);
    await expect(handle(record())).rejects.toBe(error);
    expect(deferred).toEqual([]);
  });
});

describe('a sync that ran out of its time budget', () => {
  function pausing(reserveMs: number | undefined) {
    const enqueued: QueuedJob[] = [];
    const budgets: Array<{ spent(): boolean } | undefined> = [];
    const handle = syncRecordHandler(
      'test',
      {
        queue: { enqueue: async (job: QueuedJob) => void enqueued.push(job) },
        deferral: { defer: async () => undefined },
        maxReceiveCount: 8,
        ...(reserveMs === undefined ? {} : { timeReserveMs: reserveMs }),
      },
      async (_job, attempt) => {
        budgets.push(attempt.budget);
        return { outcome: attempt.budget?.spent() ? 'paused' : 'synced' };
      },
    );
    return { handle, enqueued, budgets };
  }
  const withReason = (reason: 'push' | 'renew' | 'safety') =>
    ({ ...record(), body: queuedSyncJob({ tenantId: 'tenant-a', mailboxId: 'mbx-1', reason, notifiedAt: '2026-12-03T10:00:00.000Z' }, 'd').body }) as SQSRecord;

  it('is continued by a fresh job of the same mailbox at once, keeping a push or safety reason, never redoing a renewal', async () => {
    const { handle, enqueued } = pausing(60_000);
    const context = { getRemainingTimeInMillis: () => 30_000 };
    await handle(withReason('push'), context);
    await handle(withReason('safety'), context);
    await handle(withReason('renew'), context);
    expect(enqueued.map((j) => [JSON.parse(j.body).reason, j.groupId, j.deduplicationId])).toEqual([
      ['push', 'tenant-a.mbx-1', 'paused-m-1'],
      ['safety', 'tenant-a.mbx-1', 'paused-m-1'],
      ['continue', 'tenant-a.mbx-1', 'paused-m-1'],
    ]);
    expect(JSON.parse(enqueued[0]!.body).notifiedAt).toBe('2026-12-03T10:00:00.000Z');
  });

  it('has a budget only with a reserve and a Lambda context, spent when less time is left than the reserve', async () => {
    const { handle, enqueued, budgets } = pausing(60_000);
    await handle(withReason('push'), { getRemainingTimeInMillis: () => 90_000 });
    await handle(withReason('push'));
    const none = pausing(undefined);
    await none.handle(withReason('push'), { getRemainingTimeInMillis: () => 1 });
    expect(budgets.map((b) => b?.spent())).toEqual([false, undefined]);
    expect(none.budgets).toEqual([undefined]);
    expect([...enqueued, ...none.enqueued]).toEqual([]);
  });
});
