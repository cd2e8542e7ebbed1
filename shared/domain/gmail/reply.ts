// An agent's reply leaves from the connected Gmail mailbox, in the customer's Gmail thread, and is
// recorded on the ticket with the Message-ID Gmail actually stored, so the customer's answer
// threads. Sending is idempotent: the reply's Message-ID and its token header are derived from the
// ticket, the message answered and the text, and every attempt first asks Gmail whether that
// Message-ID was already sent — or, since Gmail may replace the Message-ID, a message carrying the token.
import { recordAccess, type Accessor, type AuditDeps } from '../audit.js';
import { composeReply, REPLY_TOKEN_HEADER, replyReferences, replySubject } from '../compose-reply.js';
import { openCredentials } from '../connectors/credentials.js';
import { DomainError, NotFound } from '../errors.js';
import { ingestMessage, type IngestDeps, type IngestResult } from '../ingest.js';
import type { MessageFields } from '../model.js';
import { assertReplyAllowed, latestInbound, replyRecipients, replyToken } from '../reply-common.js';
import { ProviderNotFound, ProviderThrottled } from '../provider-errors.js';
import { fieldsContext, unseal } from '../sealed-fields.js';
import { assertMailboxReadable } from '../tickets.js';
import type { GmailApi, GmailConnector, GmailMessageHeaders } from './ports.js';
import { keepRotatedRefreshToken } from './rotation.js';

export class CannotReply extends DomainError {
  readonly code = 'cannot_reply';
  readonly retryable = false;
}

export interface ReplyDeps extends IngestDeps, AuditDeps {
  gmail: GmailConnector;
}

export interface ReplyRequest {
  tenantId: string;
  ticketId: string;
  text: string;
  html?: string;
  accessor: Accessor;
}

export interface ReplyResult {
  status: 'sent' | 'already_sent';
  ticketId: string;
  /** Our id of the outbound message on the ticket. */
  messageId: string;
  /** The Message-ID Gmail stored (it may differ from the one we composed). */
  internetMessageId: string;
  providerMessageId: string;
}

export async function sendGmailReply(deps: ReplyDeps, request: ReplyRequest): Promise<ReplyResult> {
  const { tenantId, ticketId } = request;
  const ticket = await deps.repo.getTicket(tenantId, ticketId);
  if (!ticket) throw new NotFound(`ticket ${ticketId} not found`);
  await assertMailboxReadable(deps.repo, tenantId, ticket.mailboxId);
  const mailbox = await deps.repo.getMailbox(tenantId, ticket.mailboxId);
  if (!mailbox || mailbox.provider !== 'gmail' || mailbox.status !== 'connected' || !mailbox.connection) {
    throw new CannotReply(`ticket ${ticketId} is not in a connected Gmail mailbox`);
  }
  const answered = latestInbound(await deps.repo.listMessages(tenantId, ticketId));
  if (!answered) throw new CannotReply(`ticket ${ticketId} has no customer message to answer`);
  const fields = await unseal<MessageFields>(deps.keys, fieldsContext(tenantId, ticket.mailboxId), answered.sealed);
  // Before anything reaches Gmail: neither a send nor the recording of an earlier one.
  await assertReplyAllowed(deps, ticket, fields, request.accessor);
  await recordAccess(deps, tenantId, request.accessor, 'ticket.reply', [ticketId, answered.messageId]);

  const credentials = await openCredentials(deps.keys, mailbox, mailbox.connection.sealedCredentials);
  const api = deps.gmail.open(credentials);
  const domain = credentials.address.split('@')[1] ?? 'mail2ticket.invalid';
  const token = replyToken(ticketId, answered.messageId, request.text, request.html);
  const messageId = `reply.${token}@${domain}`;

  let status: ReplyResult['status'] = 'already_sent';
  // The session's first request refreshes the access token: a refresh token Google rotated is kept.
  let sent = await findSent(api, messageId).finally(() => keepRotatedRefreshToken(deps, mailbox, credentials, api));
  const threadId = sent ? undefined : (await api.listMessages(`rfc822msgid:${fields.messageIdHeader}`)).messages[0]?.threadId;
  // Gmail may have replaced our Message-ID on an earlier send: look for the token as well.
  sent ??= await findByToken(api, token, threadId);
  if (!sent) {
    const raw = await composeReply({
      from: { address: credentials.address, name: '' },
      to: replyRecipients(fields),
      subject: replySubject(fields.subject),
      messageId,
      inReplyTo: fields.messageIdHeader,
      references: replyReferences(fields.references, fields.messageIdHeader),
      text: request.text,
      ...(request.html ? { html: request.html } : {}),
      date: deps.clock.now(),
      token,
    });
    sent = await sendOnce(api, raw, threadId, async () => (await findSent(api, messageId)) ?? findByToken(api, token, threadId));
    status = 'sent';
  }

  // Recorded from Gmail's own copy: its Message-ID and bytes are what the customer receives.
  const recorded: IngestResult = await ingestMessage(deps, await api.getRawMessage(sent.id), {
    tenantId,
    mailboxId: ticket.mailboxId,
    providerMessageId: sent.id,
    providerThreadId: sent.threadId,
    receivedAt: deps.clock.now(),
    mailbox,
    outbound: { ticketId },
  });
  return { status, ticketId, messageId: recorded.messageId, internetMessageId: recorded.internetMessageId, providerMessageId: sent.id };
}



async function findSent(api: GmailApi, messageId: string): Promise<{ id: string; threadId: string } | undefined> {
  const { messages } = await api.listMessages(`rfc822msgid:${messageId}`);
  return messages[0];
}

/** How many of the mailbox's newest sent messages are read for the token when there is no thread to read. */
const RECENT_SENT_CHECKED = 10;

/**
 * Our sent reply by the token header it carries: in the customer's thread (one request), or, when the
 * customer's message is no longer in the mailbox and the reply started a thread of its own, among the
 * newest sent messages of the last two days.
 */
async function findByToken(api: GmailApi, token: string, threadId: string | undefined): Promise<{ id: string; threadId: string } | undefined> {
  const candidates = threadId ? await api.getThreadHeaders(threadId, [REPLY_TOKEN_HEADER]) : await newestSent(api);
  const match = candidates.find((m) => m.labelIds.includes('SENT') && m.headers[REPLY_TOKEN_HEADER] === token);
  return match ? { id: match.id, threadId: match.threadId } : undefined;
}

async function newestSent(api: GmailApi): Promise<GmailMessageHeaders[]> {
  const { messages } = await api.listMessages('in:sent newer_than:2d');
  const found: GmailMessageHeaders[] = [];
  for (const { id } of messages.slice(0, RECENT_SENT_CHECKED)) {
    try {
      found.push(await api.getHeaders(id, [REPLY_TOKEN_HEADER]));
    } catch (error) {
      if (!(error instanceof ProviderNotFound)) throw error; // deleted since it was listed
    }
  }
  return found;
}

/**
 * Sends, unless an earlier attempt did. When the answer is lost (timeout, reset, 5xx), Gmail may
 * have sent it anyway: ask before trying again, so a customer never gets the reply twice.
 */
async function sendOnce(
  api: GmailApi,
  raw: Buffer,
  threadId: string | undefined,
  findEarlier: () => Promise<{ id: string; threadId: string } | undefined>,
): Promise<{ id: string; threadId: string }> {
  try {
    return await api.send(raw, threadId);
  } catch (error) {
    if (!(error instanceof ProviderThrottled)) throw error;
    const sent = await findEarlier();
    if (sent) return sent;
    throw error;
  }
}
