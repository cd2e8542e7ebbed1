// An ingest job: "a raw message waits at this intake key; ingest it into this mailbox". Jobs carry
// ids only, never message content. Intake objects are deleted once the message is safely stored.
import { DomainError, InvalidInput } from './errors.js';
import { ingestMessage, type IngestDeps, type IngestResult } from './ingest.js';

export interface IngestJob {
  tenantId: string;
  mailboxId: string;
  intakeKey: string;
  receivedAt: string;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const INTAKE_KEY = /^intake\/[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_.-]{1,128}$/;

export function parseIngestJob(body: string): IngestJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InvalidInput('ingest job is not JSON');
  }
  const job = value as Partial<IngestJob>;
  if (typeof job.tenantId !== 'string' || !SAFE_ID.test(job.tenantId)) throw new InvalidInput('ingest job: bad tenantId');
  if (typeof job.mailboxId !== 'string' || !SAFE_ID.test(job.mailboxId)) throw new InvalidInput('ingest job: bad mailboxId');
  if (typeof job.intakeKey !== 'string' || !INTAKE_KEY.test(job.intakeKey)) throw new InvalidInput('ingest job: bad intakeKey');
  // The intake key must sit under the job's own tenant and mailbox: a job can't reach another's mail.
  if (!job.intakeKey.startsWith(`intake/${job.tenantId}/${job.mailboxId}/`)) throw new InvalidInput('ingest job: intakeKey outside its mailbox');
  if (typeof job.receivedAt !== 'string' || Number.isNaN(Date.parse(job.receivedAt))) throw new InvalidInput('ingest job: bad receivedAt');
  return { tenantId: job.tenantId, mailboxId: job.mailboxId, intakeKey: job.intakeKey, receivedAt: job.receivedAt };
}

export type IngestJobOutcome = { outcome: 'ingested'; result: IngestResult } | { outcome: 'dropped'; code: string };

/**
 * Runs one job. Failures a retry can fix are thrown (the queue redelivers, then dead-letters);
 * final ones (mailbox gone or disconnected) drop the intake object and report why.
 */
export async function runIngestJob(deps: IngestDeps, job: IngestJob): Promise<IngestJobOutcome> {
  try {
    const raw = await deps.blobs.get(job.intakeKey);
    const result = await ingestMessage(deps, raw, { tenantId: job.tenantId, mailboxId: job.mailboxId, receivedAt: new Date(job.receivedAt) });
    await deps.blobs.delete([job.intakeKey]);
    return { outcome: 'ingested', result };
  } catch (error) {
    if (error instanceof DomainError && !error.retryable) {
      await deps.blobs.delete([job.intakeKey]);
      return { outcome: 'dropped', code: error.code };
    }
    throw error;
  }
}
