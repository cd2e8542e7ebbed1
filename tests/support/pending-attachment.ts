// The starting point of the scan tests on the in-memory parts: an attachment the real ingestion
// stored and left `pending` for the scanner function, as it does in AWS.
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { DeferredScanner } from '../../shared/adapters/system/draining-scanners.js';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import type { AttachmentRecord } from '../../shared/domain/model.js';
import { mimeMessage } from './mail.js';
import { SequentialIds } from './memory.js';

/** Ingestion as in AWS: attachments are stored and held `pending`, never scanned inline. */
export function deferredIngestDeps(parts: Pick<IngestDeps, 'repo' | 'blobs' | 'keys' | 'clock'>): IngestDeps {
  return { ...parts, scanner: new DeferredScanner(), ids: new SequentialIds(), limits: DEFAULT_LIMITS };
}

let n = 0;
/** Ingests a message with one attachment holding `content`, received now, and returns its item, checked `pending`. */
export async function ingestPendingAttachment(deps: IngestDeps, tenantId: string, mailboxId: string, content: string): Promise<AttachmentRecord> {
  n++;
  const raw = mimeMessage({
    from: 'a@customer.example',
    subject: `case ${n}`,
    messageId: `case-${n}@customer.example`,
    text: 'see attached',
    attachments: [{ filename: 'file.bin', contentType: 'application/octet-stream; name="file.bin"', bytes: content }],
  });
  const result = await ingestMessage(deps, Readable.from([raw]), { tenantId, mailboxId, receivedAt: deps.clock.now() });
  const stored = await deps.repo.getAttachment(tenantId, result.attachments[0]?.id as string);
  expect(stored).toMatchObject({ scan: 'pending' });
  return stored as AttachmentRecord;
}
