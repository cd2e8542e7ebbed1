// Data-subject requests on dynalite and s3rver through the real SDK, with the local keyring.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { ingestMessage } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import { eraseRequester, exportRequester, rectifyRequester, restrictRequester, type RequesterDeps } from '../../shared/domain/requesters.js';
import { listTickets, showTicket } from '../../shared/domain/tickets.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';
import { mimeMessage } from '../support/mail.js';
import { EicarScanner, ManualClock, SequentialIds, TEST_ACCESSOR } from '../support/memory.js';

let dir: string;
let storage: LocalStorage;
let client: DynamoDBClient;
let n = 0;
let tenant: string;
let deps: RequesterDeps & Parameters<typeof ingestMessage>[0];

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

function mail(o: { id: string; from: string; to?: string; cc?: string; inReplyTo?: string; body: string; attachment?: { name: string; content: string } }): Buffer {
  return mimeMessage({
    messageId: `${o.id}@customer.example`,
    subject: `Invoice question ${o.id}`,
    from: o.from,
    to: o.to,
    cc: o.cc,
    inReplyTo: o.inReplyTo && `${o.inReplyTo}@customer.example`,
    text: o.body,
    attachments: o.attachment ? [{ filename: o.attachment.name, contentType: 'application/octet-stream', bytes: o.attachment.content }] : [],
  });
}

beforeAll(async () => {
  storage = await startLocalStorage('dsr');
  dir = storage.dir;
  client = storage.client;
});
afterAll(() => storage.stop());

beforeEach(async () => {
  const table = `dsr-${++n}`;
  tenant = `t${n}`;
  await ensureTable(client, table);
  const repo = new DynamoDbTicketRepository(client, table);
  const clock = new ManualClock();
  deps = {
    repo,
    audit: new DynamoDbAuditLog(client, table),
    blobs: storage.blobs(),
    keys: new LocalKeyService({ keyDir: join(dir, 'keys') }),
    scanner: new EicarScanner(),
    clock,
    ids: new SequentialIds(),
    limits: DEFAULT_LIMITS,
  };
  for (const t of [tenant, `${tenant}x`]) await repo.putMailbox({ tenantId: t, mailboxId: 'support', provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
  const ingest = (raw: Buffer, tenantId = tenant) => ingestMessage(deps, Readable.from([raw]), { tenantId, mailboxId: 'support', receivedAt: clock.now() });
  // Alice's own ticket, with a clean and (in a second message) an infected attachment.
  await ingest(mail({ id: 'a1', from: 'Alice <Alice@Customer.example>', body: 'ALICE-ONLY-BODY', attachment: { name: 'invoice.txt', content: 'INVOICE-BYTES' } }));
  await ingest(mail({ id: 'a2', from: 'alice@customer.example', inReplyTo: 'a1', body: 'ALICE-SECOND', attachment: { name: 'tool.com', content: EICAR } }));
  // Bob's ticket where Alice is copied, and Alice's reply in it.
  await ingest(mail({ id: 'b1', from: 'Bob <bob@example.org>', cc: 'alice@customer.example', body: 'BOB-BODY' }));
  await ingest(mail({ id: 'a3', from: 'alice@customer.example', to: 'support@helpdesk.example, bob@example.org', inReplyTo: 'b1', body: 'ALICE-IN-BOBS-THREAD' }));
  // The same address in another tenant.
  await ingest(mail({ id: 'x1', from: 'alice@customer.example', body: 'OTHER-TENANT' }), `${tenant}x`);
});

async function tickets() {
  return listTickets(deps, tenant, TEST_ACCESSOR);
}

describe('data-subject requests', () => {
  it('exports exactly one requester\'s messages, other people redacted, only clean files', async () => {
    const { document, files } = await exportRequester(deps, tenant, ' ALICE@customer.example ', 'DSR-1', TEST_ACCESSOR);
    const messages = document.tickets.flatMap((t) => t.messages);
    expect(messages.map((m) => m.text.trim()).sort()).toEqual(['ALICE-IN-BOBS-THREAD', 'ALICE-ONLY-BODY', 'ALICE-SECOND', 'BOB-BODY']);
    const everything = JSON.stringify(document);
    expect(everything).not.toContain('bob@example.org');
    expect(everything).not.toContain('OTHER-TENANT');
    expect(everything).toContain('[redacted]');
    const paths = files.map((f) => f.path);
    expect(paths.filter((p) => p.startsWith('attachments/'))).toEqual([expect.stringMatching(/invoice\.txt$/)]);
    const withVirus = messages.find((m) => m.text.includes('ALICE-SECOND'));
    expect(withVirus?.raw).toBeNull();
    expect(withVirus?.notices.length).toBeGreaterThan(0);
    const invoice = files.find((f) => f.path.endsWith('invoice.txt'));
    expect((await buffer(await (invoice as (typeof files)[number]).open())).toString().trim()).toBe('INVOICE-BYTES');
    const audit = await deps.audit.list(tenant);
    expect(audit.at(-1)).toMatchObject({ action: 'requester.export', reason: expect.stringContaining('DSR-1') });
  });

  it('finds nothing for the address in another tenant', async () => {
    const { document } = await exportRequester(deps, tenant, 'nobody@customer.example', 'DSR-2', TEST_ACCESSOR);
    expect(document.tickets).toEqual([]);
  });

  it('restriction hides their tickets from agents until lifted, and keeps them', async () => {
    expect(await tickets()).toHaveLength(2);
    await restrictRequester(deps, tenant, 'alice@customer.example', true, 'DSR-3', TEST_ACCESSOR);
    const visible = await tickets();
    expect(visible.map((t) => t.requester.address)).toEqual(['bob@example.org']);
    const aliceTicket = (await deps.repo.listTickets(tenant)).find((t) => !visible.some((v) => v.ticketId === t.ticketId));
    await expect(showTicket(deps, tenant, aliceTicket?.ticketId as string, TEST_ACCESSOR)).rejects.toThrow(/not found/);
    await restrictRequester(deps, tenant, 'alice@customer.example', false, 'DSR-3', TEST_ACCESSOR);
    expect(await tickets()).toHaveLength(2);
  });

  it('rectification corrects name and address everywhere, and the new address is found', async () => {
    const result = await rectifyRequester(deps, tenant, 'alice@customer.example', { name: 'Alice Berg', newEmail: 'alice.berg@customer.example' }, 'DSR-7', TEST_ACCESSOR);
    expect(result).toEqual({ messages: 4, tickets: 2 });
    expect((await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-8', TEST_ACCESSOR)).document.tickets).toEqual([]);
    const { document } = await exportRequester(deps, tenant, 'alice.berg@customer.example', 'DSR-9', TEST_ACCESSOR);
    expect(document.tickets.flatMap((t) => t.messages)).toHaveLength(4);
    const own = (await tickets()).find((t) => t.requester.address === 'alice.berg@customer.example');
    expect(own?.requester.name).toBe('Alice Berg');
    // A new message from the corrected address still joins her ticket as a known participant.
    const reply = await ingestMessage(deps, Readable.from([mail({ id: 'a4', from: 'alice.berg@customer.example', inReplyTo: 'a1', body: 'AFTER' })]), { tenantId: tenant, mailboxId: 'support', receivedAt: deps.clock.now() });
    expect(reply).toMatchObject({ status: 'appended', ticketId: own?.ticketId, notices: [] });
  });

  it('erasure deletes what they sent, redacts them where others wrote, keeps other tenants', async () => {
    const objectsBefore: string[] = [];
    for await (const { key } of deps.blobs.list(mailboxPrefix(tenant, 'support'))) objectsBefore.push(key);
    const result = await eraseRequester(deps, tenant, 'alice@customer.example', 'DSR-4', TEST_ACCESSOR);
    expect(result).toEqual({ deleted: 3, redacted: 1, ticketsDeleted: 1 });
    const left = await tickets();
    expect(left).toHaveLength(1);
    const bobs = await showTicket(deps, tenant, left[0]?.ticketId as string, TEST_ACCESSOR);
    expect(bobs.messages.map((m) => m.text.trim())).toEqual(['BOB-BODY']);
    expect(JSON.stringify(bobs)).not.toContain('alice@customer.example');
    const objectsAfter: string[] = [];
    for await (const { key } of deps.blobs.list(mailboxPrefix(tenant, 'support'))) objectsAfter.push(key);
    expect(objectsAfter.length).toBe(objectsBefore.length - 4); // 3 raw messages + the clean attachment
    expect((await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-5', TEST_ACCESSOR)).document.tickets).toEqual([]);
    expect((await exportRequester(deps, `${tenant}x`, 'alice@customer.example', 'DSR-6', TEST_ACCESSOR)).document.tickets).toHaveLength(1);
  });
});
