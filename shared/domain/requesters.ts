// Data-subject requests for one end customer, by email address, within one tenant: access/export,
// restriction and erasure. Every request carries the admin's reference to the verified request and
// is audited. Addresses are normalized (trimmed, lower-cased) and found through their blind index,
// so another tenant's data is unreachable: its index differs and every key starts with the tenant.
import type { Readable } from 'node:stream';
import { normalizeAddress } from './addresses.js';
import { recordAccess, type Accessor, type AuditDeps } from './audit.js';
import type { Address, AttachmentFields, AttachmentRecord, MessageFields, MessageRecord, Notice, TicketFields, TicketRecord } from './model.js';
import type { BlobStore, KeyService, RequesterLink, TicketRepository } from './ports.js';
import { fieldsContext, seal, unseal } from './sealed-fields.js';
import { readBody } from './tickets.js';

export interface RequesterDeps extends AuditDeps {
  repo: TicketRepository;
  blobs: BlobStore;
  keys: KeyService;
}

export const EXPORT_SCHEMA = 'mail2ticket/requester-export/1';
export const REDACTED: Address = Object.freeze({ address: '[redacted]', name: '' });

export interface ExportFile {
  path: string;
  open(): Promise<Readable>;
}

export interface RequesterExport {
  schema: typeof EXPORT_SCHEMA;
  requestRef: string;
  exportedAt: string;
  requester: { address: string };
  tickets: Array<{
    ticketId: string;
    subject: string;
    createdAt: string;
    messages: Array<{
      messageId: string;
      receivedAt: string;
      direction: MessageRecord['direction'];
      subject: string;
      date: string | null;
      from: Address;
      to: Address[];
      cc: Address[];
      text: string;
      raw: string | null;
      attachments: Array<{ id: string; filename: string; contentType: string; size: number; sha256: string; scan: AttachmentRecord['scan']; file: string | null }>;
      notices: Notice[];
    }>;
  }>;
}

async function linksOf(deps: RequesterDeps, tenantId: string, email: string): Promise<{ address: string; index: string; links: RequesterLink[] }> {
  const address = normalizeAddress(email);
  const index = await deps.keys.blindIndex(tenantId, 'address', address);
  const visible = new Set((await deps.repo.listMailboxes(tenantId)).filter((m) => m.status !== 'disconnected').map((m) => m.mailboxId));
  const links = (await deps.repo.listRequesterLinks(tenantId, index)).filter((l) => visible.has(l.mailboxId));
  return { address, index, links };
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
  const document: RequesterExport = { schema: EXPORT_SCHEMA, requestRef, exportedAt: deps.clock.now().toISOString(), requester: { address }, tickets: [] };
  const redact = (a: Address): Address => (normalizeAddress(a.address) === address ? a : REDACTED);

  for (const [ticketId, ticketLinks] of groupBy(links, (l) => l.ticketId)) {
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
      // The raw message carries every part: only where every part is clean may it leave.
      const allClean = own.every((a) => a.scan === 'clean') && !fields.notices.some((n) => n.code === 'attachment_too_large' || n.code === 'too_many_attachments');
      const raw = allClean ? `raw/${message.messageId}.eml` : null;
      if (raw) files.push({ path: raw, open: () => decrypted(deps, message.rawKey, tenantId, message.mailboxId, 'raw') });
      else notices.push({ code: 'attachment_unscanned', detail: 'the original .eml is not included because not every part of it is clean' });
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
        attachments: exported,
        notices,
      });
    }
    document.tickets.push(entry);
  }
  await recordAccess(deps, tenantId, { ...accessor, reason: `${accessor.reason} [request ${requestRef}]` }, 'requester.export', links.map((l) => l.messageId), found(links));
  return { document, files };
}

/** Restriction: kept, but hidden from processing and agents until lifted. */
export async function restrictRequester(deps: RequesterDeps, tenantId: string, email: string, restricted: boolean, requestRef: string, accessor: Accessor): Promise<void> {
  const index = await deps.keys.blindIndex(tenantId, 'address', normalizeAddress(email));
  await deps.repo.setRestriction(tenantId, index, restricted);
  await recordAccess(deps, tenantId, { ...accessor, reason: `${accessor.reason} [request ${requestRef}]` }, restricted ? 'requester.restrict' : 'requester.unrestrict', []);
}

/**
 * Erasure: the messages they sent go (items, attachments, raw message, body); where they only
 * received, their address is redacted; tickets left without messages go; where they were the
 * requester of a shared ticket, the requester is redacted.
 */
export async function eraseRequester(deps: RequesterDeps, tenantId: string, email: string, requestRef: string, accessor: Accessor): Promise<{ deleted: number; redacted: number; ticketsDeleted: number }> {
  const { address, index, links } = await linksOf(deps, tenantId, email);
  const result = { deleted: 0, redacted: 0, ticketsDeleted: 0 };
  const isThem = (a: Address) => normalizeAddress(a.address) === address;
  for (const [ticketId, ticketLinks] of groupBy(links, (l) => l.ticketId)) {
    const ticket = await deps.repo.getTicket(tenantId, ticketId);
    if (!ticket) continue;
    const ctx = fieldsContext(tenantId, ticket.mailboxId);
    const wanted = new Set(ticketLinks.map((l) => l.messageId));
    const attachments = await deps.repo.listAttachments(tenantId, ticketId);
    for (const message of (await deps.repo.listMessages(tenantId, ticketId)).filter((m) => wanted.has(m.messageId))) {
      const fields = await unseal<MessageFields>(deps.keys, ctx, message.sealed);
      if (isThem(fields.from)) {
        const own = attachments.filter((a) => a.messageId === message.messageId);
        const everyone = [fields.from, ...fields.to, ...fields.cc, ...fields.replyTo].map((a) => normalizeAddress(a.address)).filter(Boolean);
        const linkIndexes = await Promise.all([...new Set(everyone)].map((a) => deps.keys.blindIndex(tenantId, 'address', a)));
        await deps.repo.deleteMessage(message, own, linkIndexes);
        const objects = [message.rawKey, message.bodyKey, ...own.map((a) => a.blobKey)].filter((k): k is string => typeof k === 'string');
        await deps.blobs.delete(objects);
        result.deleted++;
      } else {
        const redactAll = (list: Address[]) => list.map((a) => (isThem(a) ? REDACTED : a));
        const redactedFields: MessageFields = { ...fields, to: redactAll(fields.to), cc: redactAll(fields.cc), replyTo: redactAll(fields.replyTo) };
        await deps.repo.replaceMessage({ ...message, sealed: await seal(deps.keys, ctx, redactedFields) });
        await deps.repo.deleteRequesterLinks(tenantId, index, [message.messageId]);
        result.redacted++;
      }
    }
    const remaining = await deps.repo.listMessages(tenantId, ticketId);
    if (remaining.length === 0) {
      await deps.repo.deleteTicketItem(tenantId, ticketId);
      result.ticketsDeleted++;
    } else {
      await redactTicketRequester(deps, ticket, isThem, index);
    }
  }
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
  let messages = 0;
  let tickets = 0;
  for (const [ticketId, ticketLinks] of groupBy(links, (l) => l.ticketId)) {
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
  if (newIndex !== index) {
    await deps.repo.putRequesterLinks(newIndex, links);
    await deps.repo.deleteRequesterLinks(tenantId, index, links.map((l) => l.messageId));
  }
  await recordAccess(deps, tenantId, { ...accessor, reason: `${accessor.reason} [request ${requestRef}]` }, 'requester.rectify', links.map((l) => l.messageId), found(links));
  return { messages, tickets };
}

async function redactTicketRequester(deps: RequesterDeps, ticket: TicketRecord, isThem: (a: Address) => boolean, index: string): Promise<void> {
  const ctx = fieldsContext(ticket.tenantId, ticket.mailboxId);
  const fields = await unseal<TicketFields>(deps.keys, ctx, ticket.sealed);
  const participants = ticket.participantIndexes.filter((p) => p !== index);
  if (!isThem(fields.requester) && participants.length === ticket.participantIndexes.length) return;
  const requester = isThem(fields.requester) ? REDACTED : fields.requester;
  await deps.repo.replaceTicket({ ...ticket, participantIndexes: participants, sealed: await seal(deps.keys, ctx, { ...fields, requester }) });
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

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function safeFilename(name: string): string {
  return name.replace(/[\\/\0-\x1f]/g, '_').slice(0, 120) || 'attachment';
}
