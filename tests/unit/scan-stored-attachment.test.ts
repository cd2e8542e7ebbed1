// scanStoredAttachment, the one step the scanner function and `attachments rescan` share, on the
// in-memory parts (real AES-GCM, a scanner that really looks for EICAR). Writes that race a scan are
// made while the scanner is reading, which is exactly when they happen in production.
import { beforeEach, describe, expect, it } from 'vitest';
import type { IngestDeps } from '../../shared/domain/ingest.js';
import type { AttachmentRecord } from '../../shared/domain/model.js';
import type { Scanner, ScanVerdict } from '../../shared/domain/ports.js';
import { scanStoredAttachment, statusAfter, type ScanDeps } from '../../shared/domain/scan.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository } from '../support/memory.js';
import { deferredIngestDeps, ingestPendingAttachment } from '../support/pending-attachment.js';

const T = 'tenant-a';
const MB = 'mailbox-1';
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

let repo: MemoryRepository;
let blobs: MemoryBlobStore;
let keys: MemoryKeyService;
let ingestDeps: IngestDeps;

beforeEach(async () => {
  repo = new MemoryRepository();
  blobs = new MemoryBlobStore();
  keys = new MemoryKeyService();
  const clock = new ManualClock();
  ingestDeps = deferredIngestDeps({ repo, blobs, keys, clock });
  await repo.putMailbox({ tenantId: T, mailboxId: MB, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
});

/** A message's attachment, held `pending` as in AWS. */
const pendingAttachment = (content: string) => ingestPendingAttachment(ingestDeps, T, MB, content);

/** The EICAR-finding scanner, with something done while it reads the bytes. */
function scannerDuring(action: () => Promise<void>, verdict?: ScanVerdict): Scanner {
  const inner = new EicarScanner();
  if (verdict) inner.verdictOverride = verdict;
  return {
    async scan(content) {
      await action();
      return inner.scan(content);
    },
  };
}

const deps = (scanner: Scanner = new EicarScanner()): ScanDeps => ({ repo, blobs, keys, scanner });

describe('scanStoredAttachment', () => {
  it('records clean, keeping every other field', async () => {
    const a = await pendingAttachment('hello');
    expect(await scanStoredAttachment(deps(), a)).toEqual({ outcome: 'clean' });
    const { scan: _s, ...rest } = a;
    expect(await repo.getAttachment(T, a.attachmentId)).toEqual({ ...rest, scan: 'clean' });
  });

  it('records infected before deleting the bytes', async () => {
    const a = await pendingAttachment(EICAR);
    const recordAtDelete: Array<AttachmentRecord | undefined> = [];
    const watched = Object.assign(Object.create(blobs) as MemoryBlobStore, {
      delete: async (keys: readonly string[]) => {
        recordAtDelete.push(await repo.getAttachment(T, a.attachmentId));
        return blobs.delete(keys);
      },
    });
    expect(await scanStoredAttachment({ ...deps(), blobs: watched }, a)).toEqual({ outcome: 'infected', signature: 'Eicar-Test-Signature' });
    expect(recordAtDelete).toEqual([expect.objectContaining({ scan: 'infected', scanDetail: 'Eicar-Test-Signature', blobKey: null })]);
    expect(blobs.objects.has(a.blobKey as string)).toBe(false);
  });

  it('does nothing for an attachment already decided (a re-delivered record), whatever the caller says', async () => {
    const a = await pendingAttachment(EICAR);
    await scanStoredAttachment(deps(), a);
    const decided = await repo.getAttachment(T, a.attachmentId);
    let scans = 0;
    const counting = scannerDuring(async () => void scans++);
    // `a` is the caller's stale copy: still pending, still naming the bytes.
    expect(await scanStoredAttachment(deps(counting), a)).toEqual({ outcome: 'skipped', reason: 'decided' });
    expect(scans).toBe(0);
    expect(await repo.getAttachment(T, a.attachmentId)).toEqual(decided);
  });

  it('leaves the record as it was when the scanner gives no verdict, and says a retry may help', async () => {
    const a = await pendingAttachment('hello');
    const down = scannerDuring(async () => undefined, { status: 'unscanned', reason: 'scanner_unavailable' });
    const outcome = await scanStoredAttachment(deps(down), a);
    expect(outcome).toEqual({ outcome: 'held', reason: 'scanner_unavailable', retry: true });
    expect(await repo.getAttachment(T, a.attachmentId)).toEqual(a);
    expect(statusAfter(outcome, a.scan)).toBe('pending');
  });

  it('records content that cannot be inspected as unscanned with its reason: no retry would change it', async () => {
    const a = await pendingAttachment('an encrypted archive, say');
    const outcome = await scanStoredAttachment(deps(scannerDuring(async () => undefined, { status: 'unscanned', reason: 'encrypted' })), a);
    expect(outcome).toEqual({ outcome: 'held', reason: 'encrypted', retry: false });
    expect(await repo.getAttachment(T, a.attachmentId)).toMatchObject({ scan: 'unscanned', scanDetail: 'encrypted', blobKey: a.blobKey });
  });

  it('never resurrects an attachment deleted while it was scanned', async () => {
    const a = await pendingAttachment(EICAR);
    const erase = scannerDuring(() => repo.deleteMessage(a, [a], []));
    expect(await scanStoredAttachment(deps(erase), a)).toEqual({ outcome: 'skipped', reason: 'gone' });
    expect(await repo.getAttachment(T, a.attachmentId)).toBeUndefined();
  });

  it('leaves a record rewritten during the scan with other bytes to that write’s own scan', async () => {
    const a = await pendingAttachment(EICAR);
    const rewritten: AttachmentRecord = { ...a, blobKey: `${a.blobKey}-retry` };
    const outcome = await scanStoredAttachment(deps(scannerDuring(() => repo.updateAttachmentScan(rewritten))), a);
    expect(outcome).toEqual({ outcome: 'skipped', reason: 'superseded' });
    expect(await repo.getAttachment(T, a.attachmentId)).toEqual(rewritten);
    expect(blobs.objects.has(a.blobKey as string)).toBe(true); // not this scan's to delete
  });

  it('does not overwrite a verdict another scan wrote meanwhile', async () => {
    const a = await pendingAttachment('hello');
    // Another scan (say `attachments rescan` beside the stream) found it infected while this one read it.
    const other = scannerDuring(() => repo.updateAttachmentScan({ ...a, scan: 'infected', scanDetail: 'Other-Signature', blobKey: null }));
    expect(await scanStoredAttachment(deps(other), a)).toEqual({ outcome: 'skipped', reason: 'superseded' });
    expect(await repo.getAttachment(T, a.attachmentId)).toMatchObject({ scan: 'infected', scanDetail: 'Other-Signature', blobKey: null });
  });

  it('scans a record re-put as pending by an ingest retry after its verdict (same bytes)', async () => {
    const a = await pendingAttachment('hello');
    await scanStoredAttachment(deps(), a);
    await repo.updateAttachmentScan({ ...a, scan: 'pending' }); // writeIngested's idempotent re-put
    expect(await scanStoredAttachment(deps(), a)).toEqual({ outcome: 'clean' });
    expect(await repo.getAttachment(T, a.attachmentId)).toMatchObject({ scan: 'clean', blobKey: a.blobKey });
  });

  it('keeps a record whose bytes are gone held and never served, without asking for a retry', async () => {
    const a = await pendingAttachment('hello');
    await blobs.delete([a.blobKey as string]);
    const outcome = await scanStoredAttachment(deps(), a);
    expect(outcome).toEqual({ outcome: 'held', reason: 'bytes_missing', retry: false });
    expect(await repo.getAttachment(T, a.attachmentId)).toEqual(a);
    expect(statusAfter(outcome, a.scan)).toBe('pending');
  });

  it('fails (rejects) on storage trouble so the caller retries, leaving the record as it was', async () => {
    const a = await pendingAttachment('hello');
    const broken = Object.assign(Object.create(blobs) as MemoryBlobStore, { get: async () => Promise.reject(new Error('S3 is down')) });
    await expect(scanStoredAttachment({ ...deps(), blobs: broken }, a)).rejects.toThrow('S3 is down');
    expect(await repo.getAttachment(T, a.attachmentId)).toEqual(a);
  });
});
