// ingestMessage: a raw email becomes a ticket, an appended message, a recorded robot, or a
// duplicate of something already here. The same code runs in the Lambdas, the local server and the
// CLI; only the adapters behind the ports differ.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { normalizeAddress } from './addresses.js';
import { IngestInProgress, MailboxDisconnected, NotFound } from './errors.js';
import type { IngestLimits } from './limits.js';
import { synthesizeMessageId } from './message-ids.js';
import type {
  Address,
  AttachmentFields,
  AttachmentRecord,
  MailboxRecord,
  MessageFields,
  MessageRecord,
  Notice,
  ScanStatus,
  StoredBody,
  SuppressedFields,
  SuppressionReason,
  TicketFields,
  TicketRecord,
} from './model.js';
import { attachmentKey, bodyKey, rawKey } from './object-keys.js';

/** Bodies up to this size travel encrypted inside the message item instead of an object of their own. */
const INLINE_BODY_MAX_BYTES = 16 * 1024;
import type { BlobStore, Clock, IdGenerator, IngestClaim, KeyService, Scanner, TicketRepository } from './ports.js';
import { receive, type Received, type ReceivedAttachment } from './receive.js';
import { detectRobot } from './robots.js';
import { sanitizeEmailHtml } from './sanitize.js';
import { fieldsContext, seal, unseal } from './sealed-fields.js';
import { findTicket } from './threading.js';

export interface IngestDeps {
  repo: TicketRepository;
  blobs: BlobStore;
  keys: KeyService;
  scanner: Scanner;
  clock: Clock;
  ids: IdGenerator;
  limits: IngestLimits;
}

export interface IngestContext {
  tenantId: string;
  mailboxId: string;
  providerMessageId?: string;
  providerThreadId?: string;
  receivedAt: Date;
  /**
   * The mailbox as the caller read it at the start of its job (a sync run, a CLI command), so a
   * batch of messages reads it once. Without it, ingestMessage reads it itself.
   */
  mailbox?: MailboxRecord;
  /**
   * A reply we sent, read back from the provider: it joins this ticket as an outbound message (its
   * Message-ID threads the customer's answer), and our loop header does not make it a robot.
   */
  outbound?: { ticketId: string };
}

export type IngestStatus = 'created' | 'appended' | 'duplicate' | 'suppressed';

export interface AttachmentSummary {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  inline: boolean;
  scan: ScanStatus;
}

export interface IngestResult {
  status: IngestStatus;
  ticketId: string | null;
  messageId: string;
  internetMessageId: string;
  subject: string;
  from: Address;
  attachments: AttachmentSummary[];
  notices: Notice[];
  reason?: SuppressionReason;
}

export async function ingestMessage(deps: IngestDeps, raw: Readable, ctx: IngestContext): Promise<IngestResult> {
  const { repo, keys } = deps;
  const { tenantId, mailboxId } = ctx;
  let mailbox: MailboxRecord;
  let providerIdIndex: string | undefined;
  try {
    mailbox = checkMailbox(ctx.mailbox ?? (await repo.getMailbox(tenantId, mailboxId)), mailboxId, raw);
    providerIdIndex = ctx.providerMessageId ? await keys.blindIndex(tenantId, 'provider-id', ctx.providerMessageId) : undefined;
    if (providerIdIndex) {
      // A connector retry: the provider's id is known, so the message need not be read again.
      const known = await repo.findByProviderId(tenantId, mailboxId, providerIdIndex);
      if (known && (await repo.messageExists(tenantId, known.ticketId, mailboxId, known.messageId))) {
        raw.destroy();
        return await describeStored(deps, known);
      }
    }
  } catch (error) {
    // Until receive() takes the stream over, it is ours to close: left open, it holds the provider's
    // connection (and, on Graph, one of the mailbox's request slots) until the download deadline.
    raw.destroy();
    throw error;
  }

  const ingestId = deps.ids.next();
  const received = await receive(deps, raw, { tenantId, mailboxId, ingestId });
  try {
    return await decideAndWrite(deps, ctx, mailbox, received, ingestId, providerIdIndex);
  } catch (error) {
    // Nothing points at this pass's objects yet unless the write went through; a retry stores its
    // own. Taking them back here keeps the bucket tidy; after a crash past the claim, the takeover
    // removes them (takeOverLeftovers). A kill before the claim, or a failed delete here, leaves them
    // to the orphan sweep (orphans.ts), which removes objects no record names after a grace period.
    if (!(error instanceof WrittenError)) await deps.blobs.delete(received.storedKeys).catch(() => undefined);
    throw error instanceof WrittenError ? error.cause : error;
  }
}

async function outboundTicket(repo: TicketRepository, tenantId: string, mailboxId: string, ticketId: string): Promise<TicketRecord> {
  const ticket = await repo.getTicket(tenantId, ticketId);
  if (!ticket || ticket.mailboxId !== mailboxId) throw new NotFound(`ticket ${ticketId} not found`);
  return ticket;
}

/** Marks a failure after the items were written: the objects are referenced and must stay. */
class WrittenError extends Error {}

/**
 * The final write (writeIngested or writeSuppressed): once it is attempted, a partial or complete
 * write may reference this pass's objects, so its failure must not take them back. A retry finishes
 * the write, or a takeover removes what this pass left (see takeOverLeftovers).
 */
async function writeOrMark(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    throw new WrittenError('write failed', { cause: error });
  }
}

function checkMailbox(mailbox: MailboxRecord | undefined, mailboxId: string, raw: Readable): MailboxRecord {
  if (!mailbox || mailbox.mailboxId !== mailboxId) {
    raw.destroy();
    throw new NotFound(`mailbox ${mailboxId} not found`);
  }
  if (mailbox.status === 'disconnected') {
    raw.destroy();
    throw new MailboxDisconnected(`mailbox ${mailboxId} is disconnected; nothing is ingested for it`);
  }
  return mailbox;
}

async function decideAndWrite(
  deps: IngestDeps,
  ctx: IngestContext,
  mailbox: MailboxRecord,
  received: Received,
  ingestId: string,
  providerIdIndex: string | undefined,
): Promise<IngestResult> {
  const { repo, keys, clock, ids } = deps;
  const { tenantId, mailboxId } = ctx;
  const { mail } = received;
  const notices = [...received.notices, ...attachmentNotices(received.attachments)];
  if (!mail.readable && !notices.some((n) => n.code === 'unparsed')) {
    notices.unshift({ code: 'unparsed', detail: 'no header could be read; the raw message is kept for the operator' });
  }

  const contentHash = contentDigest(received);
  let internetMessageId = mail.messageId;
  if (!internetMessageId) {
    internetMessageId = synthesizeMessageId(contentHash);
    if (mail.readable) notices.push({ code: 'message_id_synthesized', detail: `the message had no Message-ID; using <${internetMessageId}>` });
  }
  const reason = mail.readable && !ctx.outbound ? detectRobot(mail) : null;
  const fromAddress = normalizeAddress(mail.from.address);
  const [fingerprint, fromIndex] = await Promise.all([
    keys.blindIndex(tenantId, 'fingerprint', fingerprintSource(received, internetMessageId)),
    keys.blindIndex(tenantId, 'address', fromAddress),
  ]);

  const threading = ctx.outbound
    ? { ticket: await outboundTicket(repo, tenantId, mailboxId, ctx.outbound.ticketId), notices: [] }
    : reason
    ? { ticket: null, notices: [] }
    : await findTicket(
        repo,
        keys,
        { tenantId, mailboxId, inReplyTo: mail.inReplyTo, references: mail.references, providerThreadId: ctx.providerThreadId, fromIndex },
        fromAddress,
      );

  const expiresAt = mailbox.purgeBy ? Math.floor(Date.parse(mailbox.purgeBy) / 1000) : undefined;
  const now = clock.now();
  const proposed: IngestClaim = {
    tenantId,
    mailboxId,
    fingerprint,
    ingestId,
    ticketId: reason ? null : (threading.ticket?.ticketId ?? ids.next()),
    messageId: ids.next(),
    status: reason ? 'suppressed' : threading.ticket ? 'appended' : 'created',
    claimedAt: now.toISOString(),
    leaseUntil: new Date(now.getTime() + deps.limits.claimLeaseSeconds * 1000).toISOString(),
    ...(expiresAt ? { expiresAt } : {}),
  };
  const claim = await claimOrResolve(deps, proposed, received);
  if ('duplicateOf' in claim) return claim.duplicateOf;

  const receivedAt = ctx.receivedAt.toISOString();
  const fieldsCtx = fieldsContext(tenantId, mailboxId);
  const summary = {
    messageId: claim.messageId,
    internetMessageId,
    subject: mail.subject,
    from: mail.from,
    notices: [...notices, ...threading.notices],
  };

  if (claim.status === 'suppressed') {
    // A suppressed message keeps its raw only: attachments stored while it streamed (the robot was
    // not yet recognised) are referenced by nothing, so they go before the record is written.
    const attachmentKeys = received.attachments.flatMap((a) => (a.blobKey ? [a.blobKey] : []));
    if (attachmentKeys.length) await deps.blobs.delete(attachmentKeys);
    const fields: SuppressedFields = { subject: mail.subject, from: mail.from, to: mail.to, cc: mail.cc, replyTo: mail.replyTo, rawSha256: received.rawSha256 };
    const sealed = await seal(keys, fieldsCtx, fields);
    // Its raw names people as a message's does: linked the same way, so export and erasure find it.
    const requesterIndexes = await addressIndexes(keys, tenantId, mail);
    await writeOrMark(() => repo.writeSuppressed(
      {
        tenantId,
        mailboxId,
        messageId: claim.messageId,
        receivedAt,
        reason: reason ?? 'loop',
        rawKey: received.rawKey,
        sealed,
        ...(expiresAt ? { expiresAt } : {}),
      },
      claim,
      providerIdIndex,
      requesterIndexes,
    ));
    return { ...summary, status: 'suppressed', ticketId: null, attachments: [], reason: reason ?? 'loop' };
  }

  const ticketId = claim.ticketId as string;
  // Listed before the put: a failure right after it must take the body object back too.
  received.storedKeys.push(bodyKey(tenantId, mailboxId, ingestId));
  const body = await storeBody(deps, { tenantId, mailboxId, ingestId }, mail.text, mail.html);

  const existingTicket = claim.status === 'appended' ? (threading.ticket?.ticketId === ticketId ? threading.ticket : await repo.getTicket(tenantId, ticketId)) : null;
  const ticket: TicketRecord = existingTicket
    ? {
        ...existingTicket,
        lastActivityAt: receivedAt > existingTicket.lastActivityAt ? receivedAt : existingTicket.lastActivityAt,
        // Our own mailbox answering is not a participant of the customer's conversation.
        participantIndexes: ctx.outbound || !fromAddress ? existingTicket.participantIndexes : [...new Set([...existingTicket.participantIndexes, fromIndex])],
      }
    : {
        tenantId,
        mailboxId,
        ticketId,
        status: 'open',
        createdAt: receivedAt,
        lastActivityAt: receivedAt,
        // A sender without an address is nobody: no participant (threading.ts never matches one).
        participantIndexes: fromAddress ? [fromIndex] : [],
        sealed: await seal(keys, fieldsCtx, { subject: mail.subject, requester: mail.from } satisfies TicketFields),
        ...(expiresAt ? { expiresAt } : {}),
      };

  const messageFields: MessageFields = {
    subject: mail.subject,
    from: mail.from,
    to: mail.to,
    cc: mail.cc,
    replyTo: mail.replyTo,
    date: mail.date,
    messageIdHeader: internetMessageId,
    inReplyTo: mail.inReplyTo[0] ?? null,
    references: mail.references,
    rawSha256: received.rawSha256,
    notices: summary.notices,
  };
  const message: MessageRecord = {
    tenantId,
    mailboxId,
    ticketId,
    messageId: claim.messageId,
    direction: ctx.outbound ? 'outbound' : 'inbound',
    receivedAt,
    messageIdIndex: await keys.blindIndex(tenantId, 'message-id', internetMessageId),
    ...(ctx.providerThreadId ? { providerThreadIndex: await keys.blindIndex(tenantId, 'provider-thread', ctx.providerThreadId) } : {}),
    fromIndex,
    rawKey: received.rawKey,
    ...body,
    attachmentIds: received.attachments.map((a) => a.attachmentId),
    noticeCodes: summary.notices.map((n) => n.code),
    sealed: await seal(keys, fieldsCtx, messageFields),
    ...(expiresAt ? { expiresAt } : {}),
  };
  const attachments = await Promise.all(
    received.attachments.map(async (a): Promise<AttachmentRecord> => ({
      tenantId,
      mailboxId,
      ticketId,
      messageId: claim.messageId,
      attachmentId: a.attachmentId,
      contentType: a.contentType,
      size: a.size,
      inline: a.inline,
      scan: a.scan,
      ...(a.scanDetail ? { scanDetail: a.scanDetail } : {}),
      blobKey: a.blobKey,
      sealed: await seal(keys, fieldsCtx, { filename: a.filename, contentId: a.contentId, sha256: a.sha256 } satisfies AttachmentFields),
      ...(expiresAt ? { expiresAt } : {}),
    })),
  );
  const requesterIndexes = await addressIndexes(keys, tenantId, mail);

  await writeOrMark(() =>
    repo.writeIngested({
      ticket,
      ticketIsNew: !existingTicket,
      message,
      attachments,
      requesterIndexes,
      ...(providerIdIndex ? { providerIdIndex } : {}),
      claim,
    }),
  );
  return {
    ...summary,
    status: claim.status,
    ticketId,
    attachments: received.attachments.map(toSummary),
  };
}

/**
 * Claims the message's fingerprint. A complete earlier ingestion makes this one a duplicate; an
 * unfinished one whose lease ran out (a crash) is taken over with its ids, so the retry writes the
 * very items the first attempt meant to write.
 */
async function claimOrResolve(
  deps: IngestDeps,
  proposed: IngestClaim,
  received: Received,
): Promise<IngestClaim | { duplicateOf: IngestResult }> {
  const { repo } = deps;
  const outcome = await repo.claim(proposed);
  if (outcome.outcome === 'claimed') return proposed;

  const prior = outcome.claim;
  if (await repo.messageExists(prior.tenantId, prior.ticketId, prior.mailboxId, prior.messageId)) {
    await deps.blobs.delete(received.storedKeys);
    return { duplicateOf: await describeStored(deps, prior) };
  }
  if (Date.parse(prior.leaseUntil) > deps.clock.now().getTime()) {
    throw new IngestInProgress('another ingestion of this message is under way; retry later');
  }
  const takeover: IngestClaim = { ...proposed, ticketId: prior.ticketId, messageId: prior.messageId, status: prior.status };
  if (!(await repo.takeOverClaim(prior, takeover))) {
    throw new IngestInProgress('another retry took this message over; retry later');
  }
  await takeOverLeftovers(deps, prior);
  return takeover;
}

/**
 * What the crashed ingestion left: its objects (stored under its own ingestId, referenced by no
 * complete message) and the attachment items a partial write made under the message's id, whose
 * attachment ids this pass does not reuse. Both go before this pass writes its own; idempotent, so a
 * crash here is repaired by the next takeover.
 */
async function takeOverLeftovers(deps: IngestDeps, prior: IngestClaim): Promise<void> {
  const { tenantId, mailboxId, ingestId, ticketId, messageId } = prior;
  if (ticketId) {
    const stale = (await deps.repo.listAttachments(tenantId, ticketId)).filter((a) => a.messageId === messageId);
    // The message item is absent (messageExists said so); deleteMessage removes only the items named.
    if (stale.length) await deps.repo.deleteMessage({ tenantId, ticketId, messageId }, stale, []);
  }
  const keys = [rawKey(tenantId, mailboxId, ingestId), bodyKey(tenantId, mailboxId, ingestId)];
  for await (const { key } of deps.blobs.list(attachmentKey(tenantId, mailboxId, ingestId, ''))) keys.push(key);
  await deps.blobs.delete(keys);
}

/** The result for a message that is already stored, read back from its records. */
async function describeStored(deps: IngestDeps, claim: IngestClaim): Promise<IngestResult> {
  const { repo, keys } = deps;
  const fieldsCtx = fieldsContext(claim.tenantId, claim.mailboxId);
  const base: IngestResult = {
    status: 'duplicate',
    ticketId: claim.ticketId,
    messageId: claim.messageId,
    internetMessageId: '',
    subject: '',
    from: { address: '', name: '' },
    attachments: [],
    notices: [],
  };
  if (!claim.ticketId) return base;
  const message = (await repo.listMessages(claim.tenantId, claim.ticketId)).find((m) => m.messageId === claim.messageId);
  if (!message) return base;
  const fields = await unseal<MessageFields>(keys, fieldsCtx, message.sealed);
  const attachments = (await repo.listAttachments(claim.tenantId, claim.ticketId)).filter((a) => a.messageId === claim.messageId);
  const summaries = await Promise.all(
    attachments.map(async (a) => {
      const f = await unseal<AttachmentFields>(keys, fieldsCtx, a.sealed);
      return { id: a.attachmentId, filename: f.filename, contentType: a.contentType, size: a.size, sha256: f.sha256, inline: a.inline, scan: a.scan };
    }),
  );
  return { ...base, internetMessageId: fields.messageIdHeader, subject: fields.subject, from: fields.from, attachments: summaries };
}

async function storeBody(
  deps: IngestDeps,
  scope: { tenantId: string; mailboxId: string; ingestId: string },
  text: string,
  html: string | null,
): Promise<{ bodyKey: string | null; sealedBody?: Uint8Array }> {
  const body: StoredBody = { text, html: html === null ? null : sanitizeEmailHtml(html) };
  const plaintext = new TextEncoder().encode(JSON.stringify(body));
  const ciphertext = await deps.keys.encrypt(plaintext, { tenantId: scope.tenantId, mailboxId: scope.mailboxId, purpose: 'body' });
  if (plaintext.byteLength <= INLINE_BODY_MAX_BYTES) return { bodyKey: null, sealedBody: ciphertext };
  const key = bodyKey(scope.tenantId, scope.mailboxId, scope.ingestId);
  await deps.blobs.put(key, ciphertext);
  return { bodyKey: key };
}

function attachmentNotices(attachments: ReceivedAttachment[]): Notice[] {
  const notices: Notice[] = [];
  for (const a of attachments) {
    if (a.scan === 'infected') notices.push({ code: 'attachment_infected', detail: `${a.filename}: ${a.scanDetail ?? 'infected'}; not kept, never served` });
    else if (a.scanDetail === 'size_limit' && a.blobKey === null) notices.push({ code: 'attachment_too_large', detail: `${a.filename}: ${a.size} bytes, over the attachment limit; not kept` });
    else if (a.scan === 'unscanned') notices.push({ code: 'attachment_unscanned', detail: `${a.filename}: not scanned (${a.scanDetail ?? 'unknown'}); held until a scan passes` });
  }
  return notices;
}

/** What identifies one message across delivery paths: never the Message-ID alone. */
function fingerprintSource(received: Received, internetMessageId: string): string {
  const { mail } = received;
  if (!mail.readable) return `raw:${received.rawSha256}`;
  return JSON.stringify([
    'v1',
    internetMessageId,
    normalizeAddress(mail.from.address),
    mail.date,
    mail.bodyPartHashes,
    received.attachments.map((a) => a.sha256),
  ]);
}

/** Stable identity of the content (not the trace headers), for a synthesized Message-ID. */
function contentDigest(received: Received): string {
  const { mail } = received;
  if (!mail.readable) return received.rawSha256;
  return createHash('sha256')
    .update(JSON.stringify([normalizeAddress(mail.from.address), mail.date, mail.subject, mail.bodyPartHashes, received.attachments.map((a) => a.sha256)]))
    .digest('hex');
}

/** The blind index of every address a message names (From, To, Cc, Reply-To): its requester links. */
function addressIndexes(keys: KeyService, tenantId: string, mail: Pick<Received['mail'], 'from' | 'to' | 'cc' | 'replyTo'>): Promise<string[]> {
  return Promise.all(uniqueAddresses([mail.from, ...mail.to, ...mail.cc, ...mail.replyTo]).map((address) => keys.blindIndex(tenantId, 'address', address)));
}

function uniqueAddresses(addresses: Address[]): string[] {
  return [...new Set(addresses.map((a) => normalizeAddress(a.address)).filter((a) => a !== ''))];
}

function toSummary(a: ReceivedAttachment): AttachmentSummary {
  return { id: a.attachmentId, filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256, inline: a.inline, scan: a.scan };
}
