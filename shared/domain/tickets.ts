// Reading tickets back: the read side of the CLI, the viewer and the API. Every read takes the
// tenant id from the caller's identity; another tenant's id is simply not found.
import type { Readable } from 'node:stream';
import { AttachmentNotServable, MailboxDisconnected, NotFound } from './errors.js';
import type { AttachmentSummary } from './ingest.js';
import type { Address, AttachmentFields, AttachmentRecord, MessageFields, MessageRecord, Notice, StoredBody, TicketFields, TicketRecord } from './model.js';
import type { BlobStore, KeyService, Scanner, TicketRepository } from './ports.js';
import { fieldsContext, unseal } from './sealed-fields.js';
import { recordAccess, type Accessor, type AuditDeps } from './audit.js';
import { scanStoredAttachment, statusAfter } from './scan.js';

export interface ReadDeps extends AuditDeps {
  repo: TicketRepository;
  blobs: BlobStore;
  keys: KeyService;
}

export interface TicketSummary {
  ticketId: string;
  mailboxId: string;
  subject: string;
  requester: Address;
  status: TicketRecord['status'];
  createdAt: string;
  lastActivityAt: string;
}

export interface MessageView {
  messageId: string;
  direction: MessageRecord['direction'];
  receivedAt: string;
  internetMessageId: string;
  subject: string;
  from: Address;
  to: Address[];
  cc: Address[];
  date: string | null;
  text: string;
  html: string | null;
  attachments: AttachmentSummary[];
  notices: Notice[];
}

export interface TicketView extends TicketSummary {
  messages: MessageView[];
}

export async function listTickets(deps: ReadDeps, tenantId: string, accessor: Accessor, mailboxId?: string): Promise<TicketSummary[]> {
  const [visible, restricted] = await Promise.all([visibleMailboxIds(deps.repo, tenantId), deps.repo.listRestrictions(tenantId)]);
  const listed =
    mailboxId && !visible.has(mailboxId)
      ? []
      : (await deps.repo.listTickets(tenantId, mailboxId)).filter((t) => visible.has(t.mailboxId) && !isRestricted(t, restricted));
  // A new ticket's item is written before its first message, whose item goes last and means "complete":
  // a ticket without a message is an ingestion under way or cut short (its retry completes it), not a ticket.
  const complete = await Promise.all(listed.map((t) => deps.repo.hasMessages(tenantId, t.ticketId)));
  const tickets = listed.filter((_, i) => complete[i]);
  await recordAccess(deps, tenantId, accessor, 'ticket.list', tickets.map((t) => t.ticketId));
  return Promise.all(tickets.map((t) => summarize(deps.keys, t)));
}

export async function showTicket(deps: ReadDeps, tenantId: string, ticketId: string, accessor: Accessor): Promise<TicketView> {
  const ticket = await deps.repo.getTicket(tenantId, ticketId);
  if (!ticket || !(await visibleMailboxIds(deps.repo, tenantId)).has(ticket.mailboxId) || isRestricted(ticket, await deps.repo.listRestrictions(tenantId))) {
    await recordAccess(deps, tenantId, accessor, 'ticket.view', [ticketId], 'not_found');
    throw new NotFound(`ticket ${ticketId} not found`);
  }
  const [messages, attachments] = await Promise.all([deps.repo.listMessages(tenantId, ticketId), deps.repo.listAttachments(tenantId, ticketId)]);
  // Not complete until its first message is (see listTickets).
  if (messages.length === 0) {
    await recordAccess(deps, tenantId, accessor, 'ticket.view', [ticketId], 'not_found');
    throw new NotFound(`ticket ${ticketId} not found`);
  }
  await recordAccess(deps, tenantId, accessor, 'ticket.view', [ticketId, ...messages.map((m) => m.messageId)]);
  return {
    ...(await summarize(deps.keys, ticket)),
    messages: await Promise.all(messages.map((m) => viewMessage(deps, m, attachments.filter((a) => a.messageId === m.messageId)))),
  };
}

/** The decrypted bytes of a clean attachment. Infected, unscanned and pending ones are never served. */
export async function readAttachment(
  deps: ReadDeps,
  tenantId: string,
  attachmentId: string,
  accessor: Accessor,
): Promise<{ summary: AttachmentSummary; content: Readable }> {
  const attachment = await deps.repo.getAttachment(tenantId, attachmentId);
  const ticket = attachment && (await deps.repo.getTicket(tenantId, attachment.ticketId));
  if (!attachment || !ticket || !(await visibleMailboxIds(deps.repo, tenantId)).has(attachment.mailboxId) || isRestricted(ticket, await deps.repo.listRestrictions(tenantId))) {
    await recordAccess(deps, tenantId, accessor, 'attachment.download', [attachmentId], 'not_found');
    throw new NotFound(`attachment ${attachmentId} not found`);
  }
  const summary = await summarizeAttachment(deps.keys, attachment);
  if (attachment.scan !== 'clean' || !attachment.blobKey) {
    const why =
      attachment.scan === 'infected'
        ? `it is infected (${attachment.scanDetail ?? 'malware'}) and its bytes are not kept`
        : attachment.scan === 'clean'
          ? 'its bytes are not kept'
          : `it has not passed a virus scan yet (${attachment.scan}${attachment.scanDetail ? `: ${attachment.scanDetail}` : ''})`;
    await recordAccess(deps, tenantId, accessor, 'attachment.download', [attachmentId], 'refused');
    throw new AttachmentNotServable(`attachment ${attachmentId} cannot be served: ${why}`);
  }
  await recordAccess(deps, tenantId, accessor, 'attachment.download', [attachmentId, attachment.ticketId]);
  const encrypted = await deps.blobs.get(attachment.blobKey);
  const decrypt = deps.keys.decryptStream({ tenantId, mailboxId: attachment.mailboxId, purpose: 'attachment' });
  encrypted.on('error', (error) => decrypt.destroy(error));
  return { summary, content: encrypted.pipe(decrypt) };
}

/** Scans held attachments again (the scanner was down, or timed out); returns the new verdicts. */
export async function rescanHeldAttachments(
  deps: Omit<ReadDeps, keyof AuditDeps> & { scanner: Scanner },
  tenantId: string,
): Promise<Array<{ attachmentId: string; scan: AttachmentRecord['scan'] }>> {
  const results: Array<{ attachmentId: string; scan: AttachmentRecord['scan'] }> = [];
  for (const held of await deps.repo.listHeldAttachments(tenantId)) {
    if (!held.blobKey || held.tenantId !== tenantId) continue;
    // The same per-attachment step as the AWS scanner function's (shared/domain/scan.ts).
    const outcome = await scanStoredAttachment(deps, held);
    results.push({ attachmentId: held.attachmentId, scan: statusAfter(outcome, held.scan) });
  }
  return results;
}

/** A ticket whose requester (its first participant) asked for restriction is hidden from agents. */
export function isRestricted(ticket: TicketRecord, restricted: Set<string>): boolean {
  const requester = ticket.participantIndexes[0];
  return requester !== undefined && restricted.has(requester);
}

/** Disconnected mailboxes disappear from every read at once; TTL lag is never visible. */
async function visibleMailboxIds(repo: TicketRepository, tenantId: string): Promise<Set<string>> {
  const mailboxes = await repo.listMailboxes(tenantId);
  return new Set(mailboxes.filter((m) => m.status !== 'disconnected').map((m) => m.mailboxId));
}

export async function assertMailboxReadable(repo: TicketRepository, tenantId: string, mailboxId: string): Promise<void> {
  const mailbox = await repo.getMailbox(tenantId, mailboxId);
  if (!mailbox) throw new NotFound(`mailbox ${mailboxId} not found`);
  if (mailbox.status === 'disconnected') throw new MailboxDisconnected(`mailbox ${mailboxId} is disconnected`);
}

async function summarize(keys: KeyService, ticket: TicketRecord): Promise<TicketSummary> {
  const fields = await unseal<TicketFields>(keys, fieldsContext(ticket.tenantId, ticket.mailboxId), ticket.sealed);
  return {
    ticketId: ticket.ticketId,
    mailboxId: ticket.mailboxId,
    subject: fields.subject,
    requester: fields.requester,
    status: ticket.status,
    createdAt: ticket.createdAt,
    lastActivityAt: ticket.lastActivityAt,
  };
}

async function viewMessage(deps: Pick<ReadDeps, 'keys' | 'blobs'>, message: MessageRecord, attachments: AttachmentRecord[]): Promise<MessageView> {
  const { tenantId, mailboxId } = message;
  const fields = await unseal<MessageFields>(deps.keys, fieldsContext(tenantId, mailboxId), message.sealed);
  const body = await readBody(deps, message);
  const byId = new Map(attachments.map((a) => [a.attachmentId, a]));
  const ordered = message.attachmentIds.map((id) => byId.get(id)).filter((a): a is AttachmentRecord => a !== undefined);
  return {
    messageId: message.messageId,
    direction: message.direction,
    receivedAt: message.receivedAt,
    internetMessageId: fields.messageIdHeader,
    subject: fields.subject,
    from: fields.from,
    to: fields.to,
    cc: fields.cc,
    date: fields.date,
    text: body.text,
    html: body.html,
    attachments: await Promise.all(ordered.map((a) => summarizeAttachment(deps.keys, a))),
    notices: fields.notices,
  };
}

export async function readBody(deps: Pick<ReadDeps, 'keys' | 'blobs'>, message: MessageRecord): Promise<StoredBody> {
  const context = { tenantId: message.tenantId, mailboxId: message.mailboxId, purpose: 'body' as const };
  let ciphertext: Uint8Array;
  if (message.sealedBody) ciphertext = message.sealedBody;
  else if (message.bodyKey) {
    const chunks: Buffer[] = [];
    for await (const chunk of await deps.blobs.get(message.bodyKey)) chunks.push(Buffer.from(chunk as Uint8Array));
    ciphertext = Buffer.concat(chunks);
  } else return { text: '', html: null };
  return JSON.parse(new TextDecoder().decode(await deps.keys.decrypt(ciphertext, context))) as StoredBody;
}

async function summarizeAttachment(keys: KeyService, a: AttachmentRecord): Promise<AttachmentSummary> {
  const fields = await unseal<AttachmentFields>(keys, fieldsContext(a.tenantId, a.mailboxId), a.sealed);
  return { id: a.attachmentId, filename: fields.filename, contentType: a.contentType, size: a.size, sha256: fields.sha256, inline: a.inline, scan: a.scan };
}
