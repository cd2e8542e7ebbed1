import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/ingest/make-handler.js';
import type { IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository, SequentialIds } from '../support/memory.js';

const context = { functionName: 'ingest', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

function record(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: 'g', MessageDeduplicationId: messageId, SequenceNumber: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:ingest.fifo',
    awsRegion: 'eu-west-1',
  };
}

let repo: MemoryRepository;
let blobs: MemoryBlobStore;
let deps: IngestDeps;

beforeEach(async () => {
  repo = new MemoryRepository();
  blobs = new MemoryBlobStore();
  deps = { repo, blobs, keys: new MemoryKeyService(), scanner: new EicarScanner(), clock: new ManualClock(), ids: new SequentialIds(), limits: DEFAULT_LIMITS };
  await repo.putMailbox({ tenantId: 't1', mailboxId: 'm1', provider: 'local', status: 'connected', createdAt: '2026-11-24T00:00:00Z' });
  await blobs.put('intake/t1/m1/a.eml', Buffer.from('From: a@example.org\r\nSubject: hi\r\nMessage-ID: <a@example.org>\r\n\r\nhello\r\n'));
});

const job = (intakeKey: string, tenantId = 't1', mailboxId = 'm1') => ({ tenantId, mailboxId, intakeKey, receivedAt: '2026-11-24T10:00:00Z' });

describe('ingest worker handler', () => {
  it('ingests the intake object, deletes it, and reports no failures', async () => {
    const response = await makeHandler(deps)({ Records: [record('1', job('intake/t1/m1/a.eml'))] } satisfies SQSEvent, context);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(repo.tickets.size).toBe(1);
    expect(blobs.objects.has('intake/t1/m1/a.eml')).toBe(false);
  });

  it('fails only the bad record and the ones after it in the FIFO group', async () => {
    const response = await makeHandler(deps)(
      { Records: [record('1', job('intake/t1/m1/a.eml')), record('2', 'not json'), record('3', job('intake/t1/m1/a.eml'))] },
      context,
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['2', '3']);
  });

  it('refuses a job whose intake key lies outside its own tenant and mailbox', async () => {
    await blobs.put('intake/t2/m1/x.eml', Buffer.from('From: x@example.org\r\n\r\nx\r\n'));
    const response = await makeHandler(deps)({ Records: [record('1', job('intake/t2/m1/x.eml'))] }, context);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(blobs.objects.has('intake/t2/m1/x.eml')).toBe(true);
    expect(repo.tickets.size).toBe(0);
  });

  it('drops (does not retry) a job for a disconnected mailbox', async () => {
    await repo.putMailbox({ tenantId: 't1', mailboxId: 'm1', provider: 'local', status: 'disconnected', createdAt: '2026-11-24T00:00:00Z' });
    const response = await makeHandler(deps)({ Records: [record('1', job('intake/t1/m1/a.eml'))] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(repo.tickets.size).toBe(0);
    expect(blobs.objects.has('intake/t1/m1/a.eml')).toBe(false);
  });

  it('a retryable failure leaves the intake object for the redelivery', async () => {
    repo.failNextWriteBeforeMessage = true;
    const response = await makeHandler(deps)({ Records: [record('1', job('intake/t1/m1/a.eml'))] }, context);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(blobs.objects.has('intake/t1/m1/a.eml')).toBe(true);
  });
});
