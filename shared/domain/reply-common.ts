// What every provider's reply use-case shares: which message is answered, the token that makes the
// same reply to the same message one reply, however often it is retried, and the refusal to write to
// a requester whose processing is restricted.
import { createHash } from 'node:crypto';
import { normalizeAddress } from './addresses.js';
import { recordAccess, type Accessor, type AuditDeps } from './audit.js';
import { DomainError } from './errors.js';
import type { Address, MessageFields, MessageRecord, TicketRecord } from './model.js';
import type { KeyService, TicketRepository } from './ports.js';
import { isRestricted } from './tickets.js';

/** A reply would reach, or concern, a requester who asked for restriction (a data-subject request). */
export class RequesterRestricted extends DomainError {
  readonly code = 'requester_restricted';
  readonly retryable = false;
}

/** The customer's latest message on the ticket: the one a reply answers. */
export function latestInbound(messages: MessageRecord[]): MessageRecord | undefined {
  return messages
    .filter((m) => m.direction === 'inbound')
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.messageId.localeCompare(b.messageId))
    .at(-1);
}

/** Where a reply to a message goes: its Reply-To addresses, else its sender. */
export function replyRecipients(fields: Pick<MessageFields, 'from' | 'replyTo'>): Address[] {
  return fields.replyTo.length > 0 ? fields.replyTo : [fields.from];
}

/** Derived from the ticket, the message answered and the text; 32 base64url characters. */
export function replyToken(ticketId: string, answeredId: string, text: string, html: string | undefined): string {
  return createHash('sha256').update(JSON.stringify([ticketId, answeredId, text, html ?? null])).digest('base64url').slice(0, 32);
}

/**
 * A restricted requester's tickets are hidden from agents (tickets.ts); no reply reaches them either,
 * and none is recorded on their ticket. Refused (and the attempt audited) when the ticket's requester
 * is restricted, or the answered message's sender or any of its Reply-To addresses is: whichever of
 * them the provider answers (Gmail the Reply-To, Graph's createReply its own choice), none may be one.
 */
export async function assertReplyAllowed(
  deps: AuditDeps & { repo: TicketRepository; keys: KeyService },
  ticket: TicketRecord,
  answered: Pick<MessageFields, 'from' | 'replyTo'>,
  accessor: Accessor,
): Promise<void> {
  const restricted = await deps.repo.listRestrictions(ticket.tenantId);
  if (restricted.size === 0) return;
  const addresses = [...new Set([answered.from, ...answered.replyTo].map((a) => normalizeAddress(a.address)).filter((a) => a !== ''))];
  const indexes = await Promise.all(addresses.map((a) => deps.keys.blindIndex(ticket.tenantId, 'address', a)));
  if (isRestricted(ticket, restricted) || indexes.some((index) => restricted.has(index))) {
    await recordAccess(deps, ticket.tenantId, accessor, 'ticket.reply', [ticket.ticketId], 'refused');
    throw new RequesterRestricted(`ticket ${ticket.ticketId} cannot be answered: its requester's processing is restricted (a data-subject request)`);
  }
}
