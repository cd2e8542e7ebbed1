// Every fixture of the corpus through the real domain code, alone in an empty mailbox, checked
// against MANIFEST.json — once as one chunk and once in 61-byte chunks, so no outcome depends on
// how the bytes happen to arrive. Then the threading and dedupe sequences the corpus is built for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { showTicket } from '../../shared/domain/tickets.js';
import { EicarScanner, ManualClock, MemoryAuditLog, TEST_ACCESSOR, MemoryBlobStore, MemoryKeyService, MemoryRepository, SequentialIds } from '../support/memory.js';

const DIR = join(import.meta.dirname, '../fixtures/mail');

interface ManifestEntry {
  file: string;
  expect: {
    status: 'created' | 'suppressed';
    reason?: string;
    subject?: string;
    fromAddress?: string;
    fromName?: string;
    bodyPhrase?: string;
    attachmentFilenames?: string[];
  };
}

const manifest = JSON.parse(readFileSync(join(DIR, 'MANIFEST.json'), 'utf8')) as ManifestEntry[];
const load = (file: string) => readFileSync(join(DIR, file));

async function freshDeps(): Promise<IngestDeps> {
  const repo = new MemoryRepository();
  const clock = new ManualClock();
  await repo.putMailbox({ tenantId: 't', mailboxId: 'm', provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
  return { repo, blobs: new MemoryBlobStore(), keys: new MemoryKeyService(), scanner: new EicarScanner(), clock, ids: new SequentialIds(), limits: DEFAULT_LIMITS };
}

function chunks(raw: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < raw.length; i += size) parts.push(raw.subarray(i, i + size));
  return Readable.from(parts);
}

const ingest = (deps: IngestDeps, stream: Readable) => ingestMessage(deps, stream, { tenantId: 't', mailboxId: 'm', receivedAt: deps.clock.now() });

describe.each([
  ['whole', (raw: Buffer) => Readable.from([raw])],
  ['61-byte chunks', (raw: Buffer) => chunks(raw, 61)],
])('fixture corpus (%s)', (_mode, toStream) => {
  it.each(manifest.map((entry) => [entry.file, entry] as const))('%s', async (_file, entry) => {
    const deps = await freshDeps();
    const result = await ingest(deps, toStream(load(entry.file)));
    const { expect: want } = entry;
    expect(result.status).toBe(want.status);
    if (want.reason) expect(result.reason).toBe(want.reason);
    if (want.subject !== undefined) expect(result.subject).toBe(want.subject);
    if (want.fromAddress !== undefined) expect(result.from.address).toBe(want.fromAddress);
    if (want.fromName !== undefined) expect(result.from.name).toBe(want.fromName);
    if (want.attachmentFilenames) expect(result.attachments.map((a) => a.filename)).toEqual(want.attachmentFilenames);
    if (want.bodyPhrase && result.ticketId) {
      const view = await showTicket({ ...deps, audit: new MemoryAuditLog() }, 't', result.ticketId, TEST_ACCESSOR);
      const message = view.messages[0];
      expect(`${message?.text ?? ''}\n${message?.html ?? ''}`).toContain(want.bodyPhrase);
    }
  });
});

describe('fixture sequences', () => {
  it('threads the replies to the original and keeps the same-subject stranger apart', async () => {
    const deps = await freshDeps();
    const original = await ingest(deps, Readable.from([load('plain-text.eml')]));
    const results = [];
    for (const file of ['reply-to-plain.eml', 'reply-references-only.eml', 'reply-from-new-participant.eml', 'same-subject-other-sender.eml']) {
      results.push(await ingest(deps, Readable.from([load(file)])));
    }
    const [reply, refsOnly, carol, bob] = results;
    expect(reply).toMatchObject({ status: 'appended', ticketId: original.ticketId, notices: [] });
    expect(refsOnly).toMatchObject({ status: 'appended', ticketId: original.ticketId });
    expect(carol?.ticketId).toBe(original.ticketId);
    expect(carol?.notices.map((n) => n.code)).toContain('new_participant');
    expect(bob).toMatchObject({ status: 'created' });
    expect(bob?.ticketId).not.toBe(original.ticketId);
  });

  it('deduplicates the alias copies in either order, never the distinct message sharing a Message-ID', async () => {
    for (const order of [['alias-copy-a.eml', 'alias-copy-b.eml'], ['alias-copy-b.eml', 'alias-copy-a.eml']]) {
      const deps = await freshDeps();
      const first = await ingest(deps, Readable.from([load(order[0] as string)]));
      const second = await ingest(deps, Readable.from([load(order[1] as string)]));
      expect(second).toMatchObject({ status: 'duplicate', ticketId: first.ticketId });
    }
    const deps = await freshDeps();
    const plain = await ingest(deps, Readable.from([load('plain-text.eml')]));
    const impostor = await ingest(deps, Readable.from([load('shared-message-id-distinct.eml')]));
    expect(impostor.status).not.toBe('duplicate');
    expect(impostor.ticketId).not.toBe(plain.ticketId);
  });

  it('threads a reply to the ticket its sender takes part in when two tickets share the Message-ID', async () => {
    const deps = await freshDeps();
    await ingest(deps, Readable.from([load('shared-message-id-distinct.eml')]));
    const plain = await ingest(deps, Readable.from([load('plain-text.eml')]));
    const reply = await ingest(deps, Readable.from([load('reply-to-plain.eml')]));
    expect(reply.ticketId).toBe(plain.ticketId);
  });

  it('records each structural limit once, keeps what came before it', async () => {
    const deps = await freshDeps();
    const deep = await ingest(deps, chunks(load('deep-nesting.eml'), 64));
    expect(deep.notices.filter((n) => n.code === 'nesting_too_deep')).toHaveLength(1);
    const many = await ingest(deps, chunks(load('many-parts.eml'), 1024));
    expect(many.notices.filter((n) => n.code === 'too_many_parts')).toHaveLength(1);
    expect(many.attachments.length).toBeGreaterThan(0);
    expect(many.attachments.length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxAttachments);
    const huge = await ingest(deps, Readable.from([load('huge-header.eml')]));
    expect(huge.notices.map((n) => n.code)).toContain('header_too_large');
    expect(huge.subject).not.toBe('');
  });
});
