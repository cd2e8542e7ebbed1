// Data-subject requests for one end customer, by email address, within one tenant: access/export,
// rectification, restriction and erasure. Every request carries the admin's reference to the verified
// request and is audited. Addresses are normalized (trimmed, lower-cased) and found through their
// blind index, so another tenant's data is unreachable: its index differs and every key starts with
// the tenant. Robot messages (auto-replies, bounces: ingested as suppressed, with no ticket) are linked
// to the addresses they name like any message, so every request covers them too.
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { normalizeAddress } from './addresses.js';
import { recordAccess, type Accessor, type AuditDeps } from './audit.js';
import { BlobNotFound } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import { MimeGuard } from './mime-guard.js';
import type {
  Address,
  AttachmentFields,
  AttachmentRecord,
  MessageFields,
  MessageRecord,
  Notice,
  NoticeCode,
  SuppressedFields,
  SuppressedRecord,
  SuppressionReason,
  TicketFields,
} from './model.js';
import { createMailParser } from './parse.js';
import type { BlobStore, KeyService, RequesterLink, TicketRepository } from './ports.js';
import { AddressIndexes, applyErasure, groupBy, REDACTED, writeErasure, type ErasedRecord, type ErasureReport, type RequesterErasure } from './requester-journal.js';
import { fieldsContext, seal, unseal } from './sealed-fields.js';
import { readBody } from './tickets.js';

export interface RequesterDeps extends AuditDeps {
  repo: TicketRepository;
  blobs: BlobStore;
  keys: KeyService;
}

export { REDACTED, replayRequesterErasures, type ErasureReport } from './requester-journal.js';

export const EXPORT_SCHEMA = 'mail2ticket/requester-export/1';

export interface ExportFile {
  path: string;
  open(): Promise<Readable>;
}

/**
 * Why a message's original .eml is not in the export: it is not theirs (only messages they sent
 * leave whole: another sender's message names other people), not every part of it is clean, or its
 * raw copy was erased (an erasure request of someone else on it).
 */
export type RawOmitted = 'not_sender' | 'not_clean' | 'erased';

export interface RequesterExport {
  schema: typeof EXPORT_SCHEMA;
  requestRef: string;
  exportedAt: string;
  requester: { address: string };
  tickets: Array<{
    ticketId: string;
    subject: string;
    createdAt: string;
    messages: Array<
      ExportedMail & {
        direction: MessageRecord['direction'];
        raw: string | null;
        rawOmitted: RawOmitted | null;
        attachments: Array<{ id: string; filename: string; contentType: string; size: number; sha256: string; scan: AttachmentRecord['scan']; file: string | null }>;
      }
    >;
  }>;
  /** Robot messages naming them (auto-replies, bounces), which never became tickets. */
  suppressed: Array<
    ExportedMail & {
      reason: SuppressionReason;
      /** Always null: a robot message's attachments are never scanned, so its original never leaves. */
      raw: null;
      rawOmitted: RawOmitted;
    }
  >;
}

/** What the export tells of any one message, on a ticket or not. */
interface ExportedMail {
  messageId: string;
  receivedAt: string;
  subject: string;
  date: string | null;
  from: Address;
  to: Address[];
  cc: Address[];
  text: string;
  notices: Notice[];
}

async function linksOf(deps: RequesterDeps, tenantId: string, email: string): Promise<{ address: string; index: string; links: RequesterLink[] }> {
  const address = normalizeAddress(email);
  const index = await deps.keys.blindIndex(tenantId, 'address', address);
  const visible = new Set((await deps.repo.listMailboxes(tenantId)).filter((m) => m.status !== 'disconnected').map((m) => m.mailboxId));
  const links = (await deps.repo.listRequesterLinks(tenantId, index)).filter((l) => visible.has(l.mailboxId));
  return { address, index, links };
}

/** Links to messages on tickets, grouped by ticket; links to robot messages (no ticket) apart. */
function splitLinks(links: RequesterLink[]): { byTicket: Map<string, RequesterLink[]>; suppressed: RequesterLink[] } {
  const onTickets = links.filter((l): l is RequesterLink & { ticketId: string } => l.ticketId !== null);
  return { byTicket: groupBy(onTickets, (l) => l.ticketId), suppressed: links.filter((l) => l.ticketId === null) };
}

/** Right of access: their messages and tickets as portable JSON, with the files that may be served. */
export async function exportRequester(
  deps: RequesterDeps,
  tenantId: string,
  email: string,
  requestRef: string,
  accessor: Accessor,
): Promise<{ document: RequesterExport; files: ExportFile[] }> {
  const { address, links } = await linksOf(deps, tenantId, email);
  const files: ExportFile[] = [];
  const document: RequesterExport = { schema: EXPORT_SCHEMA, requestRef, exportedAt: deps.clock.now().toISOString(), requester: { address }, tickets: [], suppressed: [] };
  const isThem = (a: Address) => normalizeAddress(a.address) === address;
  const redact = (a: Address): Address => (isThem(a) ? a : REDACTED);
  const { byTicket, suppressed } = splitLinks(links);

  for (const [ticketId, ticketLinks] of byTicket) {
    const ticket = await deps.repo.getTicket(tenantId, ticketId);
    if (!ticket) continue;
    const ctx = fieldsContext(tenantId, ticket.mailboxId);
    const ticketFields = await unseal<TicketFields>(deps.keys, ctx, ticket.sealed);
    const wanted = new Set(ticketLinks.map((l) => l.messageId));
    const [messages, attachments] = await Promise.all([deps.repo.listMessages(tenantId, ticketId), deps.repo.listAttachments(tenantId, ticketId)]);
    const entry: RequesterExport['tickets'][number] = { ticketId, subject: ticketFields.subject, createdAt: ticket.createdAt, messages: [] };
    for (const message of messages.filter((m) => wanted.has(m.messageId))) {
      const fields = await unseal<MessageFields>(deps.keys, ctx, message.sealed);
      const own = attachments.filter((a) => a.messageId === message.messageId);
      const notices: Notice[] = [];
      const exported = await Promise.all(
        own.map(async (a) => {
          const f = await unseal<AttachmentFields>(deps.keys, ctx, a.sealed);
          const servable = a.scan === 'clean' && a.blobKey !== null;
          const path = servable ? `attachments/${a.attachmentId}-${safeFilename(f.filename)}` : null;
          if (path && a.blobKey) files.push({ path, open: () => decrypted(deps, a.blobKey as string, tenantId, a.mailboxId, 'attachment') });
          else notices.push({ code: 'attachment_unscanned', detail: `${f.filename} is not included: ${a.scan}` });
          return { id: a.attachmentId, filename: f.filename, contentType: a.contentType, size: a.size, sha256: f.sha256, scan: a.scan, file: path };
        }),
      );
      const rawOmitted = omittedRaw(message, fields, own, isThem);
      const raw = rawOmitted === null ? `raw/${message.messageId}.eml` : null;
      const rawKey = message.rawKey;
      if (raw && rawKey) files.push({ path: raw, open: () => decrypted(deps, rawKey, tenantId, message.mailboxId, 'raw') });
      if (rawOmitted === 'not_clean') notices.push({ code: 'attachment_unscanned', detail: 'the original .eml is not included because not every part of it is clean' });
      entry.messages.push({
        messageId: message.messageId,
        receivedAt: message.receivedAt,
        direction: message.direction,
        subject: fields.subject,
        date: fields.date,
        from: redact(fields.from),
        to: fields.to.map(redact),
        cc: fields.cc.map(redact),
        text: (await readBody(deps, message)).text,
        raw,
        rawOmitted,
        attachments: exported,
        notices,
      });
    }
    document.tickets.push(entry);
  }

  for (const link of suppressed) {
    const record = await deps.repo.getSuppressed(tenantId, link.mailboxId, link.messageId);
    if (!record) continue;
    const fields = await unseal<SuppressedFields>(deps.keys, fieldsContext(tenantId, record.mailboxId), record.sealed);
    // Only the text and date are read back from the raw message; its attachments are skipped unread.
    const { text, date, missing } = await readSuppressedText(deps, record);
    const notices: Notice[] = [];
    if (missing) notices.push({ code: 'unparsed', detail: 'the raw copy of this automatic message is no longer stored: only its recorded fields are included' });
    if (isThem(fields.from)) notices.push({ code: 'attachment_unscanned', detail: 'the original .eml of an automatic message is not included: its parts are never scanned' });
    document.suppressed.push({
      messageId: record.messageId,
      receivedAt: record.receivedAt,
      reason: record.reason,
      subject: fields.subject,
      date,
      from: redact(fields.from),
      to: (fields.to ?? []).map(redact),
      cc: (fields.cc ?? []).map(redact),
      text,
      raw: null,
      rawOmitted: isThem(fields.from) ? 'not_clean' : 'not_sender',
      notices,
    });
  }
  await recordAccess(deps, tenantId, { ...accessor, reason: `${accessor.reason} [request ${requestRef}]` }, 'requester.export', links.map((l) => l.messageId), found(links));
  return { document, files };
}

/**
 * Whether the original .eml may leave, and if not why. Only a message they sent: the raw copy of
 * anyone else's (ours included) names other people in its headers and quotes their text, which the
 * export redacts everywhere else. And only where every part is clean: the raw carries every part.
 */
function omittedRaw(message: MessageRecord, fields: MessageFields, attachments: AttachmentRecord[], isThem: (a: Address) => boolean): RawOmitted | null {
  if (!isThem(fields.from)) return 'not_sender';
  if (message.rawKey === null) return 'erased';
  const allClean = attachments.every((a) => a.scan === 'clean') && fields.notices.every((n) => NOTICES_OF_A_FULLY_SCANNED_MESSAGE.has(n.code));
  return allClean ? null : 'not_clean';
}

/**
 * The notices that say nothing about the message's parts. Any other (a part past the nesting or
 * part limit, a header block too large, a truncated or unreadable message, an attachment skipped,
 * infected or unscanned) means some of the raw was never parsed or scanned, so it may not leave. An
 * allow-list: a notice added later keeps the raw in until it is placed here.
 */
const NOTICES_OF_A_FULLY_SCANNED_MESSAGE: ReadonlySet<NoticeCode> = new Set<NoticeCode>(['message_id_synthesized', 'new_participant', 'text_not_derived']);

/**
 * The text of a robot message, parsed from its raw copy under the ingestion limits; attachments drained
 * unread. A raw copy already gone (a restored table before its erasures are replayed) is reported.
 */
async function readSuppressedText(deps: RequesterDeps, record: SuppressedRecord): Promise<{ text: string; date: string | null; missing: boolean }> {
  let encrypted: Readable;
  try {
    encrypted = await deps.blobs.get(record.rawKey);
  } catch (error) {
    if (error instanceof BlobNotFound) return { text: '', date: null, missing: true };
    throw error;
  }
  const limits = DEFAULT_LIMITS;
  const parser = createMailParser(limits, {
    onAttachment: async (part) => {
      part.content.resume();
      await finished(part.content);
    },
  });
  const guard = new MimeGuard({ maxNestingDepth: limits.maxNestingDepth, maxParts: limits.maxParts, maxHeaderLineBytes: Math.min(16 * 1024, limits.maxHeaderBytes) });
  await pipeline(encrypted, deps.keys.decryptStream({ tenantId: record.tenantId, mailboxId: record.mailboxId, purpose: 'raw' }), guard, parser.sink);
  const mail = await parser.result;
  return { text: mail.text, date: mail.date, missing: false };
}

/** Restriction: kept, but hidden from processing and agents until lifted. */
export async function restrictRequester(deps: RequesterDeps, tenantId: string, email: string, restricted: boolean, requestRef: string, accessor: Accessor): Promise<void> {
  const index = await deps.keys.blindIndex(tenantId, 'address', normalizeAddress(email));
  await deps.repo.setRestriction(tenantId, index, restricted);
  await recordAccess(deps, tenantId, { ...accessor, reason: `${accessor.reason} [request ${requestRef}]` }, restricted ? 'requester.restrict' : 'requester.unrestrict', []);
}

/**
 * Erasure. What goes, per record that names them:
 * - a message they sent, and a reply of ours addressed to them (it is written to them and usually
 *   quotes them): the items, its links, the raw message, the body and the attachments;
 * - another sender's message they only received (To, Cc, Reply-To): their address is redacted in its
 *   fields and its raw copy is deleted (the raw names them in its headers); the sender's parsed body
 *   and attachments stay, and the message records when its raw copy was erased;
 * - a robot message (auto-reply, bounce) naming them in any role: its record, links and raw;
 * - a ticket left without messages; where they were the requester of a shared ticket, the requester
 *   is redacted.
 * What will be done is decided first and journaled outside the table (requester-journal.ts) before
 * anything is deleted, so that after a table restore replayRequesterErasures can erase it again.
 */
export async function eraseRequester(deps: RequesterDeps, tenantId: string, email: string, requestRef: string, accessor: Accessor): Promise<ErasureReport> {
  const { index, links } = await linksOf(deps, tenantId, email);
  const indexes = new AddressIndexes(deps.keys, tenantId);
  const isThem = async (a: Address) => (await indexes.of(a)) === index;
  const records: ErasedRecord[] = [];
  const { byTicket, suppressed } = splitLinks(links);
  for (const [ticketId, ticketLinks] of byTicket) {
    const wanted = new Set(ticketLinks.map((l) => l.messageId));
    for (const message of (await deps.repo.listMessages(tenantId, ticketId)).filter((m) => wanted.has(m.messageId))) {
      const fields = await unseal<MessageFields>(deps.keys, fieldsContext(tenantId, message.mailboxId), message.sealed);
      const addressedToThem = message.direction === 'outbound' && (await someAsync(fields.to, isThem));
      const action = (await isThem(fields.from)) || addressedToThem ? 'delete_message' : 'redact_message';
      records.push({ action, mailboxId: message.mailboxId, ticketId, messageId: message.messageId });
    }
  }
  for (const link of suppressed) records.push({ action: 'delete_suppressed', mailboxId: link.mailboxId, messageId: link.messageId });

  const erasure: RequesterErasure = { kind: 'requester-erasure', erasureId: deps.ids.next(), tenantId, addressIndex: index, erasedAt: deps.clock.now().toISOString(), records };
  if (records.length > 0) await writeErasure(deps.blobs, erasure);
  const { skipped: _disconnectedMeanwhile, ...result } = await applyErasure(deps, erasure, indexes);
  await recordAccess(deps, tenantId, { ...accessor, reason: `${accessor.reason} [request ${requestRef}]` }, 'requester.erase', links.map((l) => l.messageId), found(links));
  return result;
}

/** Rectification: a corrected display name and/or address, everywhere the requester appears. */
export async function rectifyRequester(
  deps: RequesterDeps,
  tenantId: string,
  email: string,
  correction: { name?: string; newEmail?: string },
  requestRef: string,
  accessor: Accessor,
): Promise<{ messages: number; tickets: number }> {
  const { address, index, links } = await linksOf(deps, tenantId, email);
  const newAddress = correction.newEmail ? normalizeAddress(correction.newEmail) : address;
  const newIndex = newAddress === address ? index : await deps.keys.blindIndex(tenantId, 'address', newAddress);
  const fix = (a: Address): Address =>
    normalizeAddress(a.address) === address ? { address: correction.newEmail ? newAddress : a.address, name: correction.name ?? a.name } : a;
  const restricted = newIndex !== index && (await deps.repo.listRestrictions(tenantId)).has(index);
  // A restriction follows the address before anything moves: at no moment are their tickets
  // (whose first participant becomes the new index) visible to agents.
  if (restricted) await deps.repo.setRestriction(tenantId, newIndex, true);
  let messages = 0;
  let tickets = 0;
  const { byTicket, suppressed } = splitLinks(links);
  for (const [ticketId, ticketLinks] of byTicket) {
    const ticket = await deps.repo.getTicket(tenantId, ticketId);
    if (!ticket) continue;
    const ctx = fieldsContext(tenantId, ticket.mailboxId);
    const wanted = new Set(ticketLinks.map((l) => l.messageId));
    for (const message of (await deps.repo.listMessages(tenantId, ticketId)).filter((m) => wanted.has(m.messageId))) {
      const fields = await unseal<MessageFields>(deps.keys, ctx, message.sealed);
      const fixed: MessageFields = { ...fields, from: fix(fields.from), to: fields.to.map(fix), cc: fields.cc.map(fix), replyTo: fields.replyTo.map(fix) };
      const fromIndex = message.fromIndex === index ? newIndex : message.fromIndex;
      await deps.repo.replaceMessage({ ...message, fromIndex, sealed: await seal(deps.keys, ctx, fixed) });
      messages++;
    }
    const ticketFields = await unseal<TicketFields>(deps.keys, ctx, ticket.sealed);
    await deps.repo.replaceTicket({
      ...ticket,
      participantIndexes: ticket.participantIndexes.map((p) => (p === index ? newIndex : p)),
      sealed: await seal(deps.keys, ctx, { ...ticketFields, requester: fix(ticketFields.requester) }),
    });
    tickets++;
  }
  for (const link of suppressed) {
    const robot = await deps.repo.getSuppressed(tenantId, link.mailboxId, link.messageId);
    if (!robot) continue;
    const ctx = fieldsContext(tenantId, robot.mailboxId);
    const fields = await unseal<SuppressedFields>(deps.keys, ctx, robot.sealed);
    const fixed: SuppressedFields = {
      ...fields,
      from: fix(fields.from),
      ...(fields.to ? { to: fields.to.map(fix) } : {}),
      ...(fields.cc ? { cc: fields.cc.map(fix) } : {}),
      ...(fields.replyTo ? { replyTo: fields.replyTo.map(fix) } : {}),
    };
    await deps.repo.replaceSuppressed({ ...robot, sealed: await seal(deps.keys, ctx, fixed) });
    messages++;
  }
  if (newIndex !== index) {
    await deps.repo.putRequesterLinks(newIndex, links);
    await deps.repo.deleteRequesterLinks(tenantId, index, links.map((l) => l.messageId));
    if (restricted) await deps.repo.setRestriction(tenantId, index, false);
  }
  await recordAccess(deps, tenantId, { ...accessor, reason: `${accessor.reason} [request ${requestRef}]` }, 'requester.rectify', links.map((l) => l.messageId), found(links));
  return { messages, tickets };
}

async function someAsync<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await test(item)) return true;
  return false;
}

async function decrypted(deps: RequesterDeps, key: string, tenantId: string, mailboxId: string, purpose: 'raw' | 'attachment'): Promise<Readable> {
  const encrypted = await deps.blobs.get(key);
  const decrypt = deps.keys.decryptStream({ tenantId, mailboxId, purpose });
  encrypted.on('error', (error) => decrypt.destroy(error));
  return encrypted.pipe(decrypt);
}

/** An address with no message in this tenant (unknown, or another tenant's) is recorded as not found. */
function found(links: RequesterLink[]): 'ok' | 'not_found' {
  return links.length > 0 ? 'ok' : 'not_found';
}

function safeFilename(name: string): string {
  return name.replace(/[\\/\0-\x1f]/g, '_').slice(0, 120) || 'attachment';
}
