// Data-subject requests on dynalite and s3rver through the real SDK, with the local keyring.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { BatchWriteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { MAX_HTML_TO_TEXT_CHARS } from '../../shared/domain/parse.js';
import { ingestMessage } from '../../shared/domain/ingest.js';
import { DEFAULT_LIMITS } from '../../shared/domain/limits.js';
import { mailboxPrefix } from '../../shared/domain/object-keys.js';
import { ERASURE_JOURNAL_PREFIX } from '../../shared/domain/requester-journal.js';
import { reapplyTombstones } from '../../shared/domain/retention.js';
import { eraseRequester, exportRequester, rectifyRequester, replayRequesterErasures, restrictRequester, type RequesterDeps } from '../../shared/domain/requesters.js';
import { listTickets, readBody, showTicket } from '../../shared/domain/tickets.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';
import { mimeMessage } from '../support/mail.js';
import { EicarScanner, ManualClock, SequentialIds, TEST_ACCESSOR } from '../support/memory.js';

let dir: string;
let storage: LocalStorage;
let client: DynamoDBClient;
let n = 0;
let tenant: string;
let table: string;
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
  table = `dsr-${++n}`;
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
  // Alice's own ticket, with a clean and (in a second message) an infected attachment.
  await ingest(mail({ id: 'a1', from: 'Alice <Alice@Customer.example>', body: 'ALICE-ONLY-BODY', attachment: { name: 'invoice.txt', content: 'INVOICE-BYTES' } }));
  await ingest(mail({ id: 'a2', from: 'alice@customer.example', inReplyTo: 'a1', body: 'ALICE-SECOND', attachment: { name: 'tool.com', content: EICAR } }));
  // Bob's ticket where Alice is copied, and Alice's reply in it.
  await ingest(mail({ id: 'b1', from: 'Bob <bob@example.org>', cc: 'alice@customer.example', body: 'BOB-BODY' }));
  await ingest(mail({ id: 'a3', from: 'alice@customer.example', to: 'support@helpdesk.example, bob@example.org', inReplyTo: 'b1', body: 'ALICE-IN-BOBS-THREAD' }));
  // The same address in another tenant.
  await ingest(mail({ id: 'x1', from: 'alice@customer.example', body: 'OTHER-TENANT' }), `${tenant}x`);
});

function ingest(raw: Buffer, tenantId = tenant, outbound?: { ticketId: string }) {
  return ingestMessage(deps, Readable.from([raw]), { tenantId, mailboxId: 'support', receivedAt: deps.clock.now(), ...(outbound ? { outbound } : {}) });
}

async function tickets() {
  return listTickets(deps, tenant, TEST_ACCESSOR);
}

async function objectKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of deps.blobs.list(mailboxPrefix(tenant, 'support'))) keys.push(key);
  return keys;
}

async function rawText(key: string): Promise<string> {
  return (await buffer((await deps.blobs.get(key)).pipe(deps.keys.decryptStream({ tenantId: tenant, mailboxId: 'support', purpose: 'raw' })))).toString();
}

/** Every item of the table, as a backup holds it. */
async function tableItems(): Promise<Array<Record<string, AttributeValue>>> {
  const items: Array<Record<string, AttributeValue>> = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}) }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** A point-in-time restore of the table (the bucket is not restored): every item as it was then. */
async function restoreTable(backup: Array<Record<string, AttributeValue>>): Promise<void> {
  const write = async (requests: NonNullable<ConstructorParameters<typeof BatchWriteItemCommand>[0]['RequestItems']>[string]) => {
    for (let i = 0; i < requests.length; i += 25) {
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests.slice(i, i + 25) } }));
      expect(out.UnprocessedItems?.[table] ?? []).toEqual([]);
    }
  };
  await write((await tableItems()).map((item) => ({ DeleteRequest: { Key: { PK: item.PK as AttributeValue, SK: item.SK as AttributeValue } } })));
  await write(backup.map((Item) => ({ PutRequest: { Item } })));
}

const AUTO_REPLY = () =>
  mimeMessage({ messageId: 'ooo-1@customer.example', subject: 'Out of office: Alice', from: 'Alice <alice@customer.example>', headers: ['Auto-Submitted: auto-replied'], text: 'ALICE-AUTOREPLY until Monday' });

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

  it('export leaked other people\'s addresses: the original .eml of a message she only received is not in the files', async () => {
    const { document, files } = await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-1b', TEST_ACCESSOR);
    const messages = document.tickets.flatMap((t) => t.messages);
    const byText = (text: string) => messages.find((m) => m.text.includes(text));
    // Only what she sent, and only where every part is clean, leaves whole.
    const raws = files.filter((f) => f.path.startsWith('raw/')).map((f) => f.path).sort();
    expect(raws).toEqual([byText('ALICE-ONLY-BODY')?.raw, byText('ALICE-IN-BOBS-THREAD')?.raw].sort());
    expect(byText('BOB-BODY')).toMatchObject({ raw: null, rawOmitted: 'not_sender', from: { address: '[redacted]' } });
    expect(byText('ALICE-SECOND')).toMatchObject({ raw: null, rawOmitted: 'not_clean' });
    for (const file of files) {
      const content = (await buffer(await file.open())).toString();
      expect(content).not.toContain('BOB-BODY');
      expect(content).not.toMatch(/^(From|Cc):.*bob@example\.org/im);
    }
  });

  it('never exports the original of a message whose parts were not all parsed and scanned', async () => {
    // Nested past the limit: the EICAR part inside is never parsed, so never scanned.
    const raw = Buffer.from(
      [
        'From: alice@customer.example',
        'To: support@helpdesk.example',
        'Subject: invoice',
        'Message-ID: <nested@customer.example>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=a',
        '',
        '--a',
        'Content-Type: text/plain',
        '',
        'NESTED-BODY',
        '--a',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: multipart/mixed; boundary=c',
        '',
        '--c',
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment; filename=invoice.exe',
        '',
        EICAR,
        '--c--',
        '--b--',
        '--a--',
        '',
      ].join('\r\n'),
    );
    const result = await ingestMessage({ ...deps, limits: { ...DEFAULT_LIMITS, maxNestingDepth: 2 } }, Readable.from([raw]), { tenantId: tenant, mailboxId: 'support', receivedAt: deps.clock.now() });
    expect(result.notices.map((n) => n.code)).toContain('nesting_too_deep');
    expect(result.attachments).toEqual([]); // nothing scanned that could have said otherwise

    const { document, files } = await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-1c', TEST_ACCESSOR);
    const nested = document.tickets.flatMap((t) => t.messages).find((m) => m.text.includes('NESTED-BODY'));
    expect(nested).toMatchObject({ raw: null, rawOmitted: 'not_clean' });
    for (const file of files) expect((await buffer(await file.open())).toString()).not.toContain('EICAR-STANDARD');
  });

  it('exports the original of a message whose HTML was too large to turn into text: every part of it was read', async () => {
    const html = `<p>BIG-HTML ${'z'.repeat(MAX_HTML_TO_TEXT_CHARS)}</p>`;
    const raw = Buffer.from(
      ['From: Alice <alice@customer.example>', 'To: support@helpdesk.example', 'Subject: big html', 'Message-ID: <big-html-export@customer.example>', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', html, ''].join('\r\n'),
    );
    const result = await ingest(raw);
    expect(result.notices.map((n) => n.code)).toEqual(['text_not_derived']);
    const { document } = await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-1d', TEST_ACCESSOR);
    const big = document.tickets.flatMap((t) => t.messages).find((m) => m.messageId === result.messageId);
    expect(big).toMatchObject({ rawOmitted: null, raw: expect.stringMatching(/\.eml$/) });
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
    expect(result).toEqual({ deleted: 3, redacted: 1, suppressed: 0, ticketsDeleted: 1 });
    const left = await tickets();
    expect(left).toHaveLength(1);
    const bobs = await showTicket(deps, tenant, left[0]?.ticketId as string, TEST_ACCESSOR);
    expect(bobs.messages.map((m) => m.text.trim())).toEqual(['BOB-BODY']);
    expect(JSON.stringify(bobs)).not.toContain('alice@customer.example');
    const objectsAfter: string[] = [];
    for await (const { key } of deps.blobs.list(mailboxPrefix(tenant, 'support'))) objectsAfter.push(key);
    expect(objectsAfter.length).toBe(objectsBefore.length - 5); // 3 raw messages + the clean attachment, and the raw copy of Bob's (she was copied)
    expect((await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-5', TEST_ACCESSOR)).document.tickets).toEqual([]);
    expect((await exportRequester(deps, `${tenant}x`, 'alice@customer.example', 'DSR-6', TEST_ACCESSOR)).document.tickets).toHaveLength(1);
  });

  it('auto-replies from the requester were invisible: export lists them, erasure deletes the record and its raw', async () => {
    const robot = await ingest(AUTO_REPLY());
    expect(robot).toMatchObject({ status: 'suppressed', ticketId: null });
    const rawOfRobot = (await objectKeys()).filter((k) => k.includes('/raw/'));
    const robotRaw = [];
    for (const key of rawOfRobot) if ((await rawText(key)).includes('ALICE-AUTOREPLY')) robotRaw.push(key);
    expect(robotRaw).toHaveLength(1);

    const { document, files } = await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-10', TEST_ACCESSOR);
    expect(document.suppressed).toEqual([
      expect.objectContaining({ messageId: robot.messageId, reason: 'auto_submitted', subject: 'Out of office: Alice', from: { address: 'alice@customer.example', name: 'Alice' }, text: expect.stringContaining('ALICE-AUTOREPLY'), raw: null }),
    ]);
    // Its attachments were never scanned: its original does not leave.
    expect(files.map((f) => f.path)).not.toContain(`raw/${robot.messageId}.eml`);
    // Nobody else's export lists it.
    expect((await exportRequester(deps, tenant, 'bob@example.org', 'DSR-11', TEST_ACCESSOR)).document.suppressed).toEqual([]);

    const result = await eraseRequester(deps, tenant, 'alice@customer.example', 'DSR-12', TEST_ACCESSOR);
    expect(result.suppressed).toBe(1);
    expect(await deps.repo.getSuppressed(tenant, 'support', robot.messageId)).toBeUndefined();
    expect(await objectKeys()).not.toContain(robotRaw[0]);
    // Its record and its links are gone; its claim (opaque ids and an HMAC) stays, as every erased message's does.
    expect((await tableItems()).filter((i) => i.entity?.S !== 'claim' && (i.entity?.S === 'suppressed' || i.messageId?.S === robot.messageId))).toEqual([]);
    expect((await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-13', TEST_ACCESSOR)).document.suppressed).toEqual([]);
  });

  it('rectifying a restricted requester\'s address lifted the restriction: it moves with the address', async () => {
    await restrictRequester(deps, tenant, 'alice@customer.example', true, 'DSR-20', TEST_ACCESSOR);
    expect((await tickets()).map((t) => t.requester.address)).toEqual(['bob@example.org']);
    await rectifyRequester(deps, tenant, 'alice@customer.example', { newEmail: 'alice.berg@customer.example' }, 'DSR-21', TEST_ACCESSOR);
    expect((await tickets()).map((t) => t.requester.address)).toEqual(['bob@example.org']);
    const restrictions = await deps.repo.listRestrictions(tenant);
    expect(restrictions.has(await deps.keys.blindIndex(tenant, 'address', 'alice.berg@customer.example'))).toBe(true);
    expect(restrictions.has(await deps.keys.blindIndex(tenant, 'address', 'alice@customer.example'))).toBe(false);
    // Lifted under the corrected address, it is lifted.
    await restrictRequester(deps, tenant, 'alice.berg@customer.example', false, 'DSR-22', TEST_ACCESSOR);
    expect(await tickets()).toHaveLength(2);
  });

  it('erasure left her address in stored copies: our replies to her go, and the raw copy of what she only received', async () => {
    const [bobs] = (await tickets()).filter((t) => t.requester.address === 'bob@example.org');
    const [alices] = (await tickets()).filter((t) => t.requester.address.toLowerCase() === 'alice@customer.example');
    // Our reply to Alice on her ticket, quoting her, and our reply to Bob on his (she is not on it).
    const toAlice = await ingest(
      mimeMessage({ messageId: 'r1@helpdesk.example', subject: 'Re: Invoice question a1', from: 'support@helpdesk.example', to: 'Alice <alice@customer.example>', inReplyTo: 'a1@customer.example', text: 'REPLY-TO-ALICE > ALICE-ONLY-BODY' }),
      tenant,
      { ticketId: alices?.ticketId as string },
    );
    const toBob = await ingest(
      mimeMessage({ messageId: 'r2@helpdesk.example', subject: 'Re: Invoice question b1', from: 'support@helpdesk.example', to: 'bob@example.org', inReplyTo: 'b1@customer.example', text: 'REPLY-TO-BOB' }),
      tenant,
      { ticketId: bobs?.ticketId as string },
    );
    expect([toAlice.status, toBob.status]).toEqual(['appended', 'appended']);
    const b1 = await findMessage('BOB-BODY');
    const b1Raw = b1.rawKey as string;
    expect(await rawText(b1Raw)).toContain('alice@customer.example');

    const result = await eraseRequester(deps, tenant, 'alice@customer.example', 'DSR-30', TEST_ACCESSOR);
    expect(result).toEqual({ deleted: 4, redacted: 1, suppressed: 0, ticketsDeleted: 1 });
    // Bob's message stays readable without its raw copy, which no longer names her anywhere.
    const after = await findMessage('BOB-BODY');
    expect(after).toMatchObject({ rawKey: null, rawErasedAt: expect.any(String) });
    expect(await objectKeys()).not.toContain(b1Raw);
    const view = await showTicket(deps, tenant, bobs?.ticketId as string, TEST_ACCESSOR);
    expect(view.messages.map((m) => m.text.trim())).toEqual(['BOB-BODY', 'REPLY-TO-BOB']);
    for (const key of (await objectKeys()).filter((k) => k.includes('/raw/'))) expect(await rawText(key)).not.toMatch(/alice/i);
    // Bob's own export still works and says why his original is missing.
    const bobExport = await exportRequester(deps, tenant, 'bob@example.org', 'DSR-31', TEST_ACCESSOR);
    const bobMessage = bobExport.document.tickets.flatMap((t) => t.messages).find((m) => m.text.includes('BOB-BODY'));
    expect(bobMessage).toMatchObject({ raw: null, rawOmitted: 'erased' });
    expect(bobExport.files.map((f) => f.path).filter((p) => p.startsWith('raw/'))).toEqual([]);
    // A rerun changes nothing more.
    expect(await eraseRequester(deps, tenant, 'alice@customer.example', 'DSR-32', TEST_ACCESSOR)).toEqual({ deleted: 0, redacted: 0, suppressed: 0, ticketsDeleted: 0 });
  });

  it('a table restore brought erased requester data back: the journal (outside the table) erases it again, and only it', async () => {
    await ingest(AUTO_REPLY());
    const backup = await tableItems();
    await eraseRequester(deps, tenant, 'alice@customer.example', 'DSR-40', TEST_ACCESSOR);
    const erasedState = await tableItems();

    // The journal names the erasure by blind index and ids only.
    const journal: string[] = [];
    for await (const { key } of deps.blobs.list(ERASURE_JOURNAL_PREFIX)) if (key.includes(`/t/${tenant}/`)) journal.push((await buffer(await deps.blobs.get(key))).toString());
    expect(journal).toHaveLength(1);
    expect(journal[0]).toContain(await deps.keys.blindIndex(tenant, 'address', 'alice@customer.example'));
    expect(journal[0]).not.toMatch(/alice|customer\.example|bob|example\.org|Invoice/i);

    await restoreTable(backup);
    expect((await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-41', TEST_ACCESSOR)).document.tickets).toHaveLength(2);
    // Mail she sends after the restore is no erasure's business.
    const later = await ingest(mail({ id: 'a9', from: 'alice@customer.example', body: 'ALICE-AFTER-RESTORE' }));

    // The restore runbook's step (purge reapply, the sweeper's reapply task): tombstones, then erasures.
    const repo = new DynamoDbTicketRepository(client, table);
    const reapplied = await reapplyTombstones({ repo, retention: repo, blobs: deps.blobs, clock: deps.clock, keys: deps.keys });
    const replayed = reapplied.requesterErasures;
    expect(replayed).toMatchObject({ deleted: 3, redacted: 1, suppressed: 1, ticketsDeleted: 1 });
    expect(replayed.erasures).toBeGreaterThanOrEqual(1);
    const { document } = await exportRequester(deps, tenant, 'alice@customer.example', 'DSR-42', TEST_ACCESSOR);
    expect(document.suppressed).toEqual([]);
    expect(document.tickets.flatMap((t) => t.messages).map((m) => m.text.trim())).toEqual(['ALICE-AFTER-RESTORE']);
    expect(document.tickets.map((t) => t.ticketId)).toEqual([later.ticketId]);
    // The table is as the erasure left it, plus the new mail (and the access log's new records).
    const key = (i: Record<string, AttributeValue>) => `${i.PK?.S}|${i.SK?.S}`;
    const notAudit = (i: Record<string, AttributeValue>) => !String(i.PK?.S).endsWith('#AUDIT');
    const now = new Set((await tableItems()).filter(notAudit).map(key));
    const expected = new Set(erasedState.filter(notAudit).map(key));
    expect([...expected].filter((k) => !now.has(k))).toEqual([]);
    const extra = [...now].filter((k) => !expected.has(k) && !k.includes(later.ticketId as string) && !k.includes(later.messageId));
    expect(extra).toEqual([expect.stringMatching(/#FP#[0-9a-f]+\|CLAIM$/)]); // the new mail's claim
    const bobsMessage = await findMessage('BOB-BODY');
    expect(bobsMessage.rawKey).toBeNull();
    const bobsFields = await showTicket(deps, tenant, bobsMessage.ticketId, TEST_ACCESSOR);
    expect(JSON.stringify(bobsFields)).not.toContain('alice@customer.example');
    // Idempotent: a second replay finds nothing left to do.
    expect(await replayRequesterErasures(deps)).toMatchObject({ deleted: 0, redacted: 0, suppressed: 0, ticketsDeleted: 0 });
  });

  it('a replay leaves the records of a mailbox disconnected since to its purge, and says so', async () => {
    // The bucket is shared by this file's tests: earlier tests' erasures name mailboxes this table lacks.
    const { skipped: elsewhere } = await replayRequesterErasures(deps);
    const backup = await tableItems();
    await eraseRequester(deps, tenant, 'alice@customer.example', 'DSR-50', TEST_ACCESSOR);
    await restoreTable(backup);
    const mailbox = await deps.repo.getMailbox(tenant, 'support');
    await deps.repo.putMailbox({ ...(mailbox as NonNullable<typeof mailbox>), status: 'disconnected', disconnectedAt: deps.clock.now().toISOString() });
    const replayed = await replayRequesterErasures(deps);
    expect(replayed).toMatchObject({ deleted: 0, redacted: 0, suppressed: 0, ticketsDeleted: 0, skipped: elsewhere + 4 });
  });
});

/** The message of this tenant whose body holds the text. */
async function findMessage(text: string) {
  for (const ticket of await deps.repo.listTickets(tenant)) {
    for (const message of await deps.repo.listMessages(tenant, ticket.ticketId)) {
      if ((await readBody(deps, message)).text.includes(text)) return message;
    }
  }
  throw new Error(`no message holds ${text}`);
}
