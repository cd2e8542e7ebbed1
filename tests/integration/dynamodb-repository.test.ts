// The DynamoDB repository against dynalite through the real AWS SDK, driven by the real domain.
import { Readable } from 'node:stream';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbDirectoryReader } from '../../shared/adapters/dynamodb/dynamodb-directory-reader.js';
import { ingestMessage, type IngestDeps } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { listTickets, showTicket } from '../../shared/domain/tickets.js';
import { ensureTable, startDynalite, type RunningDynalite } from '../../shared/local/dynalite.js';
import { EicarScanner, ManualClock, TEST_ACCESSOR, MemoryBlobStore, MemoryKeyService, SequentialIds } from '../support/memory.js';

let server: RunningDynalite;
let client: DynamoDBClient;
let tableNo = 0;
let deps: IngestDeps & { audit: DynamoDbAuditLog };
let clock: ManualClock;
let tableName: string;

beforeAll(async () => {
  server = await startDynalite();
  client = new DynamoDBClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  client.destroy();
  await server.stop();
});

beforeEach(async () => {
  tableName = `tickets-${++tableNo}`;
  await ensureTable(client, tableName);
  clock = new ManualClock();
  const repo = new DynamoDbTicketRepository(client, tableName);
  deps = { repo, audit: new DynamoDbAuditLog(client, tableName), blobs: new MemoryBlobStore(), keys: new MemoryKeyService(), scanner: new EicarScanner(), clock, ids: new SequentialIds(), limits: DEFAULT_LIMITS };
  for (const [tenantId, mailboxId] of [['acme', 'support'], ['acme', 'sales'], ['globex', 'support']] as const) {
    await repo.putMailbox({ tenantId, mailboxId, provider: 'local', status: 'connected', createdAt: clock.now().toISOString() });
  }
});

const raw = (headers: string, body = 'PHRASE-BODY-31337 the printer is jammed') =>
  Buffer.from(`${headers.trim().split('\n').map((l) => l.trim()).join('\r\n')}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);

const first = raw(`
  From: Alice Example <alice@customer.example>
  To: support@helpdesk.example
  Subject: SUBJECT-PHRASE-88 printer
  Date: Tue, 24 Nov 2026 09:00:00 +0000
  Message-ID: <orig@customer.example>`);

const ingest = (message: Buffer, tenantId = 'acme', mailboxId = 'support', extra = {}) =>
  ingestMessage(deps, Readable.from([message]), { tenantId, mailboxId, receivedAt: clock.now(), ...extra });

describe('DynamoDbTicketRepository', () => {
  it('stores a ticket that reads back, threads a reply and lists newest first', async () => {
    const created = await ingest(first);
    clock.advance(1000);
    const other = await ingest(raw('From: bob@example.org\nSubject: other\nMessage-ID: <b@example.org>'));
    clock.advance(1000);
    const reply = await ingest(raw('From: alice@customer.example\nSubject: Re: printer\nMessage-ID: <r@customer.example>\nIn-Reply-To: <orig@customer.example>', 'thanks'));
    expect(reply).toMatchObject({ status: 'appended', ticketId: created.ticketId });

    const list = await listTickets(deps, 'acme', TEST_ACCESSOR, 'support');
    expect(list.map((t) => t.ticketId)).toEqual([created.ticketId, other.ticketId]);
    const view = await showTicket(deps, 'acme', created.ticketId as string, TEST_ACCESSOR);
    expect(view.subject).toBe('SUBJECT-PHRASE-88 printer');
    expect(view.messages.map((m) => m.text.trim())).toEqual(['PHRASE-BODY-31337 the printer is jammed', 'thanks']);
  });

  it('stores, appends to and reads back a ticket of mail without a sender address (no participants)', async () => {
    const created = await ingest(raw('To: support@helpdesk.example\nSubject: alert\nMessage-ID: <s1@monitor.example>', 'disk full'));
    const appended = await ingest(raw('To: support@helpdesk.example\nSubject: Re: alert\nMessage-ID: <s2@monitor.example>\nIn-Reply-To: <s1@monitor.example>', 'still full'));
    expect(appended).toMatchObject({ status: 'appended', ticketId: created.ticketId });
    expect((await deps.repo.getTicket('acme', created.ticketId as string))?.participantIndexes).toEqual([]);
    expect((await deps.repo.listTickets('acme', 'support')).find((t) => t.ticketId === created.ticketId)?.participantIndexes).toEqual([]);
    // A sender with an address joining later is its first participant.
    await ingest(raw('From: ops@customer.example\nSubject: Re: alert\nMessage-ID: <s3@customer.example>\nIn-Reply-To: <s2@monitor.example>', 'fixed'));
    expect((await deps.repo.getTicket('acme', created.ticketId as string))?.participantIndexes).toHaveLength(1);
  });

  it('keeps tenants and mailboxes apart', async () => {
    const created = await ingest(first);
    await expect(showTicket(deps, 'globex', created.ticketId as string, TEST_ACCESSOR)).rejects.toThrow(/not found/);
    expect(await listTickets(deps, 'globex', TEST_ACCESSOR)).toEqual([]);
    // The same message in another mailbox is not a duplicate and does not thread across mailboxes.
    expect((await ingest(first, 'acme', 'sales')).status).toBe('created');
    expect((await ingest(first, 'globex', 'support')).status).toBe('created');
  });

  it('deduplicates by claim and by provider id', async () => {
    const a = await ingest(first, 'acme', 'support', { providerMessageId: 'p1' });
    expect((await ingest(first)).status).toBe('duplicate');
    const again = await ingest(Buffer.from('unused'), 'acme', 'support', { providerMessageId: 'p1' });
    expect(again).toMatchObject({ status: 'duplicate', ticketId: a.ticketId, subject: 'SUBJECT-PHRASE-88 printer' });
  });

  it('repairs a crash between the secondary writes and the message write on retry', async () => {
    let failed = false;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Item?: { entity?: { S?: string } } };
        if (!failed && input.Item?.entity?.S === 'message') {
          failed = true;
          throw new Error('injected crash before the message write');
        }
        return next(args);
      },
      { step: 'initialize', name: 'crashOnce' },
    );
    try {
      await expect(ingest(first)).rejects.toThrow(/injected crash/);
      clock.advance((DEFAULT_LIMITS.claimLeaseSeconds + 1) * 1000);
      const retried = await ingest(first);
      expect(retried.status).toBe('created');
      const view = await showTicket(deps, 'acme', retried.ticketId as string, TEST_ACCESSOR);
      expect(view.messages).toHaveLength(1);
      expect(await listTickets(deps, 'acme', TEST_ACCESSOR)).toHaveLength(1);
    } finally {
      client.middlewareStack.remove('crashOnce');
    }
  });

  it('stores no subject, address or body in clear in any item', async () => {
    await ingest(first);
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
    expect(Items.length).toBeGreaterThan(3);
    const dump = JSON.stringify(Items, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
    for (const phrase of ['SUBJECT-PHRASE-88', 'PHRASE-BODY-31337', 'alice@customer.example', 'Alice Example', 'orig@customer.example', 'customer.example']) {
      expect(dump).not.toContain(phrase);
    }
  });

  it('resolves a provider address through the webhooks\' directory reader, from claim to release', async () => {
    const repo = deps.repo as DynamoDbTicketRepository;
    const reader = new DynamoDbDirectoryReader(client, tableName);
    const owner = { tenantId: 'acme', mailboxId: 'support' };
    expect(await reader.findAddress('gmail', 'a'.repeat(64))).toBeUndefined();

    expect(await repo.claimAddress('gmail', 'a'.repeat(64), owner)).toEqual(owner);
    expect(await reader.findAddress('gmail', 'a'.repeat(64))).toEqual(owner);
    // The same index under the other provider is another entry.
    expect(await reader.findAddress('graph', 'a'.repeat(64))).toBeUndefined();

    await repo.claimAddress('graph', 'b'.repeat(64), owner, { clientStateIndex: 'c'.repeat(64) });
    expect(await reader.findAddress('graph', 'b'.repeat(64))).toEqual({ ...owner, clientStateIndex: 'c'.repeat(64) });
    expect(await repo.findAddress('graph', 'b'.repeat(64))).toEqual({ ...owner, clientStateIndex: 'c'.repeat(64) });

    await repo.releaseAddress('gmail', 'a'.repeat(64), owner);
    expect(await reader.findAddress('gmail', 'a'.repeat(64))).toBeUndefined();
  });
});
