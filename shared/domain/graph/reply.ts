// An agent's reply from a Microsoft 365 mailbox: Graph's createReply makes a draft that already
// carries In-Reply-To and References (Graph sets those itself and accepts only x- headers from us),
// we add the text and our loop header, send it, and record the sent item — with the
// internetMessageId Graph gave it — on the ticket. The draft's id is stored before sending: a retry
// finds the draft sent (or gone) and never sends twice.
import { recordAccess, type Accessor, type AuditDeps } from '../audit.js';
import { withBackoff } from '../connectors/backoff.js';
import { openCredentials } from '../connectors/credentials.js';
import { DomainError, NotFound } from '../errors.js';
import { ingestMessage, type IngestDeps } from '../ingest.js';
import type { MessageFields } from '../model.js';
import { assertReplyAllowed, latestInbound, replyToken } from '../reply-common.js';
import type { ReplyIntentStore } from '../ports.js';
import { ProviderThrottled } from '../provider-errors.js';
import { LOOP_HEADER } from '../robots.js';
import { fieldsContext, unseal } from '../sealed-fields.js';
import { assertMailboxReadable } from '../tickets.js';
import type { GraphApi, GraphConnector } from './ports.js';

export class CannotReplyGraph extends DomainError {
  readonly code = 'cannot_reply';
  readonly retryable = false;
}

export interface GraphReplyDeps extends IngestDeps, AuditDeps {
  graph: GraphConnector;
  intents: ReplyIntentStore;
}

export interface GraphReplyRequest {
  tenantId: string;
  ticketId: string;
  text: string;
  html?: string;
  accessor: Accessor;
}

export interface GraphReplyResult {
  status: 'sent' | 'already_sent';
  ticketId: string;
  messageId: string;
  internetMessageId: string;
  providerMessageId: string;
}

export async function sendGraphReply(deps: GraphReplyDeps, request: GraphReplyRequest): Promise<GraphReplyResult> {
  const { tenantId, ticketId } = request;
  const ticket = await deps.repo.getTicket(tenantId, ticketId);
  if (!ticket) throw new NotFound(`ticket ${ticketId} not found`);
  await assertMailboxReadable(deps.repo, tenantId, ticket.mailboxId);
  const mailbox = await deps.repo.getMailbox(tenantId, ticket.mailboxId);
  if (!mailbox || mailbox.provider !== 'graph' || mailbox.status !== 'connected' || !mailbox.connection) {
    throw new CannotReplyGraph(`ticket ${ticketId} is not in a connected Microsoft 365 mailbox`);
  }
  const answered = latestInbound(await deps.repo.listMessages(tenantId, ticketId));
  if (!answered) throw new CannotReplyGraph(`ticket ${ticketId} has no customer message to answer`);
  const fields = await unseal<MessageFields>(deps.keys, fieldsContext(tenantId, ticket.mailboxId), answered.sealed);
  // Before anything reaches Graph: no draft, no send, nor the recording of an earlier one.
  await assertReplyAllowed(deps, ticket, fields, request.accessor);
  await recordAccess(deps, tenantId, request.accessor, 'ticket.reply', [ticketId, answered.messageId]);

  const credentials = await openCredentials(deps.keys, mailbox, mailbox.connection.sealedCredentials);
  const api = deps.graph.open({ azureTenantId: credentials.azureTenantId ?? '', userId: credentials.userId ?? credentials.address });
  const token = replyToken(ticketId, answered.messageId, request.text, request.html);

  let intent = await deps.intents.getReplyIntent(tenantId, ticketId, token);
  let status: GraphReplyResult['status'] = 'already_sent';
  if (!intent) {
    const original = await withBackoff(() => api.findByInternetMessageId(fields.messageIdHeader));
    if (!original) throw new CannotReplyGraph('the customer\'s message is no longer in the mailbox');
    const draftId = await api.createReplyDraft(original.id);
    intent = await deps.intents.putReplyIntent({ tenantId, mailboxId: ticket.mailboxId, ticketId, token, draftId, createdAt: deps.clock.now().toISOString() });
  }
  // Reads are retried through a throttle (the mailbox may be busy syncing); the draft's creation and its
  // sending are not blind retries: the intent and the state check make those safe instead.
  const state = await withBackoff(() => api.getMessageState(intent.draftId));
  if (state?.isDraft) {
    await api.updateDraft(intent.draftId, { text: request.text, ...(request.html ? { html: request.html } : {}), headers: { [LOOP_HEADER]: 'reply' } });
    await sendOnce(api, intent.draftId);
    status = 'sent';
  }
  // A draft that is no longer a draft (or is gone) was sent by an earlier attempt.
  const sent = await withBackoff(() => api.getMessageState(intent.draftId));
  if (!sent || sent.isDraft || !sent.internetMessageId) {
    if (!sent) return { status, ticketId, messageId: '', internetMessageId: '', providerMessageId: intent.draftId };
    throw new ProviderThrottled('the sent reply has no Message-ID yet');
  }
  const recorded = await ingestMessage(deps, await withBackoff(() => api.getMime(intent.draftId)), {
    tenantId,
    mailboxId: ticket.mailboxId,
    providerMessageId: intent.draftId,
    receivedAt: deps.clock.now(),
    mailbox,
    outbound: { ticketId },
  });
  return { status, ticketId, messageId: recorded.messageId, internetMessageId: recorded.internetMessageId, providerMessageId: intent.draftId };
}



/** A lost answer to send may hide a sent draft: look before failing the attempt. */
async function sendOnce(api: GraphApi, draftId: string): Promise<void> {
  try {
    await api.sendDraft(draftId);
  } catch (error) {
    if (!(error instanceof ProviderThrottled)) throw error;
    const state = await api.getMessageState(draftId);
    if (state && state.isDraft) throw error;
  }
}
