// rescanPendingAttachments, the hourly backstop of the scanner function, on the in-memory parts (real
// AES-GCM, a scanner that really looks for EICAR): what tests/integration/scanner.test.ts cannot
// provoke with the real stores, an object store failing on one object, a budget that keeps running
// out across hours, an attachment item whose message was never written.
import { beforeEach, describe, expect, it } from 'vitest';
import type { TenantRecord } from '../../shared/domain/consent/model.js';
import type { IngestDeps } from '../../shared/domain/ingest.js';
import { rescanPendingAttachments, type AttachmentRef, type PendingRescanDeps, type PendingRescanOptions, type ScanOutcome } from '../../shared/domain/scan.js';
import { EicarScanner, ManualClock, MemoryBlobStore, MemoryKeyService, MemoryRepository } from '../support/memory.js';
import { deferredIngestDeps, ingestPendingAttachment } from '../support/pending-attachment.js';

const MB = 'mailbox-1';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The in-memory object store, with S3 trouble (not a missing object) on the keys named. */
class TroubledBlobStore extends MemoryBlobStore {
  readonly failing = new Set<string>();
  override async get(key: string) {
    if (this.failing.has(key)) throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError' });
    return super.get(key);
  }
}

let repo: MemoryRepository;
let blobs: TroubledBlobStore;
let clock: ManualClock;
let tenants: TenantRecord[];
let deps: PendingRescanDeps;
let ingestDeps: IngestDeps;
let scans: Array<{ attachment: AttachmentRef; result: ScanOutcome | { outcome: 'error'; error: unknown } }>;

beforeEach(() => {
  repo = new MemoryRepository();
  blobs = new TroubledBlobStore();
  clock = new ManualClock();
  tenants = [];
  const keys = new MemoryKeyService();
  deps = { repo, blobs, keys, scanner: new EicarScanner(), tenants: { listTenants: async () => tenants }, clock };
  ingestDeps = deferredIngestDeps({ repo, blobs, keys, clock });
  scans = [];
});

async function addTenant(tenantId: string): Promise<void> {
  tenants.push({ tenantId, name: tenantId, createdAt: clock.now().toISOString() });
  await repo.putMailbox({ tenantId, mailboxId: MB, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
}

/** A message's attachment, held `pending` as in AWS (and never seen by a stream here). */
const pendingAttachment = (tenantId: string, content = 'quarterly figures') => ingestPendingAttachment(ingestDeps, tenantId, MB, content);

function options(overrides: Partial<PendingRescanOptions> = {}): PendingRescanOptions {
  return { graceMs: 30 * MINUTE, mayStart: () => true, scanning: true, onScanned: (attachment, result) => scans.push({ attachment, result }), ...overrides };
}

describe('rescanPendingAttachments', () => {
  it('goes on past an attachment whose object the store fails to give, and counts it still pending', async () => {
    await addTenant('acme');
    const troubled = await pendingAttachment('acme');
    const fine = await pendingAttachment('acme');
    blobs.failing.add(troubled.blobKey as string);
    clock.advance(31 * MINUTE);

    expect(await rescanPendingAttachments(deps, options())).toEqual({ tenants: 1, rescanned: 1, stillPending: 1, recent: 0, withoutMessage: 0, complete: true });
    expect(scans.map((s) => [s.attachment.attachmentId, s.result.outcome])).toEqual([
      [troubled.attachmentId, 'error'],
      [fine.attachmentId, 'clean'],
    ]);
    expect((scans[0]?.result as { error: Error }).error.name).toBe('InternalError');
    expect(await repo.getAttachment('acme', troubled.attachmentId)).toMatchObject({ scan: 'pending' });
    expect(await repo.getAttachment('acme', fine.attachmentId)).toMatchObject({ scan: 'clean' });
  });

  it('reaches every tenant over the hours even when each run has time for one scan only', async () => {
    for (const tenantId of ['acme', 'globex', 'initech']) {
      await addTenant(tenantId);
      await pendingAttachment(tenantId);
      await pendingAttachment(tenantId);
    }
    clock.advance(31 * MINUTE);
    const scannedTenants: string[] = [];
    for (let hour = 0; hour < 3; hour++) {
      let budget = 1;
      const report = await rescanPendingAttachments(deps, options({ mayStart: () => budget-- > 0 }));
      expect(report).toMatchObject({ rescanned: 1, complete: false });
      scannedTenants.push(...scans.splice(0).map((s) => s.attachment.tenantId));
      clock.advance(HOUR);
    }
    expect(scannedTenants.sort()).toEqual(['acme', 'globex', 'initech']);
  });

  it('counts, but neither scans nor reports as overdue, a pending attachment without its message item', async () => {
    await addTenant('acme');
    const orphan = await pendingAttachment('acme');
    // The item as an ingestion that crashed before its last write (the message) leaves it.
    await repo.updateAttachmentScan({ ...orphan, ticketId: 'ticket-never-written', attachmentId: 'att-orphan' });
    clock.advance(2 * HOUR);

    const report = await rescanPendingAttachments(deps, options());
    expect(report).toEqual({ tenants: 1, rescanned: 1, stillPending: 0, recent: 0, withoutMessage: 1, complete: true });
    expect(scans.map((s) => s.attachment.attachmentId)).toEqual([orphan.attachmentId]);
    expect(await repo.getAttachment('acme', 'att-orphan')).toMatchObject({ scan: 'pending' });
  });

  it('only counts what is due when no scanner is available', async () => {
    await addTenant('acme');
    await pendingAttachment('acme');
    clock.advance(31 * MINUTE);
    await pendingAttachment('acme'); // within the grace
    expect(await rescanPendingAttachments(deps, options({ scanning: false }))).toEqual({ tenants: 1, rescanned: 0, stillPending: 1, recent: 1, withoutMessage: 0, complete: true });
    expect(scans).toEqual([]);
  });
});
