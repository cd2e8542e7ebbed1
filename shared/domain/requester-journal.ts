// The journal of requester erasures: one small record per erasure — the tenant id, the blind index of
// the erased address and what is done to which record (opaque ids only, never an address) — kept in
// the object store, outside the table and so outside its backups. eraseRequester (requesters.ts)
// decides what goes, journals it, then carries it out with applyErasure; after a table restore,
// replayRequesterErasures carries every journaled erasure out again on what the restore brought back.
// The mailbox tombstones (tombstones.ts) do the same for purged mailboxes. This module needs no mail
// parser: the retention jobs can call the replay.
import { normalizeAddress } from './addresses.js';
import type { Address, MessageFields, SuppressedFields, TicketFields, TicketRecord } from './model.js';
import type { BlobStore, KeyService, TicketRepository } from './ports.js';
import { fieldsContext, seal, unseal } from './sealed-fields.js';

/** What an erased address becomes where a record keeps it (another sender's message, a shared ticket). */
export const REDACTED: Address = Object.freeze({ address: '[redacted]', name: '' });

/** What carrying out an erasure needs: no audit (the request is audited; a replay repeats it). */
export interface ErasureDeps {
  repo: TicketRepository;
  blobs: BlobStore;
  keys: KeyService;
}

export const ERASURE_JOURNAL_PREFIX = 'erasures/';

/**
 * What an erasure does to one record, decided once, before anything is deleted, so that a replay
 * repeats exactly this erasure: never the requester's later mail, which no request covered.
 */
export type ErasedRecord =
  /** A message they sent, or one of our replies addressed to them: items, links and objects go. */
  | { action: 'delete_message'; mailboxId: string; ticketId: string; messageId: string }
  /** Another sender's message they only received: their address redacted, the raw copy deleted. */
  | { action: 'redact_message'; mailboxId: string; ticketId: string; messageId: string }
  /** A robot message (auto-reply, bounce) naming them: the record, its links and its raw go. */
  | { action: 'delete_suppressed'; mailboxId: string; messageId: string };

export interface RequesterErasure {
  kind: 'requester-erasure';
  erasureId: string;
  tenantId: string;
  /** The keyed blind index of the erased address (never the address). */
  addressIndex: string;
  erasedAt: string;
  records: ErasedRecord[];
}

export function erasureKey(tenantId: string, erasureId: string): string {
  return `${ERASURE_JOURNAL_PREFIX}t/${tenantId}/${erasureId}.json`;
}

export async function writeErasure(blobs: BlobStore, erasure: RequesterErasure): Promise<void> {
  await blobs.put(erasureKey(erasure.tenantId, erasure.erasureId), Buffer.from(JSON.stringify(erasure)));
}

/** Every journaled erasure, of every tenant; listed in key order, so oldest first within a tenant (erasure ids are ULIDs). */
export async function* listErasures(blobs: BlobStore): AsyncIterable<RequesterErasure> {
  for await (const { key } of blobs.list(ERASURE_JOURNAL_PREFIX)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
    const erasure = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RequesterErasure;
    if (erasure.kind !== 'requester-erasure') throw new Error(`${key} is not a requester erasure`);
    yield erasure;
  }
}

export interface ErasureReport {
  /** Messages deleted: those they sent, and our replies addressed to them. */
  deleted: number;
  /** Other senders' messages they only received: their address redacted, the raw copy erased. */
  redacted: number;
  /** Robot messages (auto-replies, bounces) naming them, deleted. */
  suppressed: number;
  ticketsDeleted: number;
}

/**
 * After a table restore (once the mailbox tombstones are re-applied): every journaled erasure is
 * carried out again on what the restore brought back — the same records, decided when the request was
 * made (never mail that arrived later). Idempotent: a record already gone is passed over, an already
 * redacted one left as it is. Records in a mailbox that is disconnected or gone are counted as
 * `skipped`: hidden from every read, they go with the mailbox's purge (and a closing tenant's keys,
 * which reading them would need, may already be gone).
 */
export async function replayRequesterErasures(deps: ErasureDeps): Promise<ErasureReport & { erasures: number; skipped: number }> {
  const report = { erasures: 0, deleted: 0, redacted: 0, suppressed: 0, ticketsDeleted: 0, skipped: 0 };
  for await (const erasure of listErasures(deps.blobs)) {
    report.erasures++;
    const done = await applyErasure(deps, erasure, new AddressIndexes(deps.keys, erasure.tenantId));
    report.deleted += done.deleted;
    report.redacted += done.redacted;
    report.suppressed += done.suppressed;
    report.ticketsDeleted += done.ticketsDeleted;
    report.skipped += done.skipped;
  }
  return report;
}

/**
 * Carries out a journaled erasure on the table and the objects as they are now (idempotent). Objects go before the
 * items that name them: a failure in between leaves an item (found again by a rerun or the replay),
 * never an object no item names but a claim still does.
 */
export async function applyErasure(deps: ErasureDeps, erasure: RequesterErasure, indexes: AddressIndexes): Promise<ErasureReport & { skipped: number }> {
  const { tenantId, addressIndex } = erasure;
  const result = { deleted: 0, redacted: 0, suppressed: 0, ticketsDeleted: 0, skipped: 0 };
  const connected = new Map<string, Promise<boolean>>();
  const isLive = (mailboxId: string): Promise<boolean> => {
    if (!connected.has(mailboxId)) connected.set(mailboxId, deps.repo.getMailbox(tenantId, mailboxId).then((m) => m !== undefined && m.status !== 'disconnected'));
    return connected.get(mailboxId) as Promise<boolean>;
  };
  const isThem = async (a: Address) => (await indexes.of(a)) === addressIndex;
  const onTickets = erasure.records.filter((r): r is Exclude<ErasedRecord, { action: 'delete_suppressed' }> => r.action !== 'delete_suppressed');

  for (const [ticketId, records] of groupBy(onTickets, (r) => r.ticketId)) {
    // A ticket and its messages live in one mailbox.
    const [first] = records;
    if (!first || !(await isLive(first.mailboxId))) {
      result.skipped += records.length;
      continue;
    }
    const [messages, attachments] = await Promise.all([deps.repo.listMessages(tenantId, ticketId), deps.repo.listAttachments(tenantId, ticketId)]);
    for (const record of records) {
      const message = messages.find((m) => m.messageId === record.messageId);
      if (!message) continue;
      const ctx = fieldsContext(tenantId, message.mailboxId);
      const fields = await unseal<MessageFields>(deps.keys, ctx, message.sealed);
      if (record.action === 'delete_message') {
        const own = attachments.filter((a) => a.messageId === message.messageId);
        await deps.blobs.delete([message.rawKey, message.bodyKey, ...own.map((a) => a.blobKey)].filter((k): k is string => typeof k === 'string'));
        const linkIndexes = await indexes.ofAll([fields.from, ...fields.to, ...fields.cc, ...fields.replyTo]);
        await deps.repo.deleteMessage(message, own, [...new Set([...linkIndexes, addressIndex])]);
        result.deleted++;
        continue;
      }
      const redactAll = async (list: Address[]) => Promise.all(list.map(async (a) => ((await isThem(a)) ? REDACTED : a)));
      const redacted: MessageFields = { ...fields, to: await redactAll(fields.to), cc: await redactAll(fields.cc), replyTo: await redactAll(fields.replyTo) };
      const changed = JSON.stringify(redacted) !== JSON.stringify(fields);
      if (message.rawKey !== null) await deps.blobs.delete([message.rawKey]);
      if (changed || message.rawKey !== null) {
        await deps.repo.replaceMessage({
          ...message,
          rawKey: null,
          rawErasedAt: message.rawErasedAt ?? erasure.erasedAt,
          sealed: changed ? await seal(deps.keys, ctx, redacted) : message.sealed,
        });
        result.redacted++;
      }
      await deps.repo.deleteRequesterLinks(tenantId, addressIndex, [message.messageId]);
    }
    const ticket = await deps.repo.getTicket(tenantId, ticketId);
    if (!ticket) continue;
    if (!(await deps.repo.hasMessages(tenantId, ticketId))) {
      await deps.repo.deleteTicketItem(tenantId, ticketId);
      result.ticketsDeleted++;
    } else {
      await redactTicketRequester(deps, ticket, isThem, addressIndex);
    }
  }

  for (const record of erasure.records) {
    if (record.action !== 'delete_suppressed') continue;
    if (!(await isLive(record.mailboxId))) {
      result.skipped++;
      continue;
    }
    const robot = await deps.repo.getSuppressed(tenantId, record.mailboxId, record.messageId);
    if (!robot) continue;
    const fields = await unseal<SuppressedFields>(deps.keys, fieldsContext(tenantId, robot.mailboxId), robot.sealed);
    await deps.blobs.delete([robot.rawKey]);
    const linkIndexes = await indexes.ofAll([fields.from, ...(fields.to ?? []), ...(fields.cc ?? []), ...(fields.replyTo ?? [])]);
    await deps.repo.deleteSuppressed(robot, [...new Set([...linkIndexes, addressIndex])]);
    result.suppressed++;
  }
  return result;
}

async function redactTicketRequester(deps: ErasureDeps, ticket: TicketRecord, isThem: (a: Address) => Promise<boolean>, index: string): Promise<void> {
  const ctx = fieldsContext(ticket.tenantId, ticket.mailboxId);
  const fields = await unseal<TicketFields>(deps.keys, ctx, ticket.sealed);
  const participants = ticket.participantIndexes.filter((p) => p !== index);
  const requesterIsThem = await isThem(fields.requester);
  if (!requesterIsThem && participants.length === ticket.participantIndexes.length) return;
  const requester = requesterIsThem ? REDACTED : fields.requester;
  await deps.repo.replaceTicket({ ...ticket, participantIndexes: participants, sealed: await seal(deps.keys, ctx, { ...fields, requester }) });
}

/** Blind indexes of addresses within one tenant, each computed once. */
export class AddressIndexes {
  private readonly known = new Map<string, Promise<string>>();

  constructor(
    private readonly keys: KeyService,
    private readonly tenantId: string,
  ) {}

  /** The index of a normalized address; '' for an empty one, which is nobody's. */
  async of(a: Address): Promise<string> {
    const address = normalizeAddress(a.address);
    if (address === '') return '';
    let index = this.known.get(address);
    if (!index) {
      index = this.keys.blindIndex(this.tenantId, 'address', address);
      this.known.set(address, index);
    }
    return index;
  }

  async ofAll(addresses: Address[]): Promise<string[]> {
    return [...new Set(await Promise.all(addresses.map((a) => this.of(a))))].filter((i) => i !== '');
  }
}

/** Items by key, each group in the items' order. */
export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
