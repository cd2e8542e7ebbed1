// What every provider's reply use-case shares: which message is answered, and the token that makes
// the same reply to the same message one reply, however often it is retried.
import { createHash } from 'node:crypto';
import type { MessageRecord } from './model.js';

/** The customer's latest message on the ticket: the one a reply answers. */
export function latestInbound(messages: MessageRecord[]): MessageRecord | undefined {
  return messages
    .filter((m) => m.direction === 'inbound')
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.messageId.localeCompare(b.messageId))
    .at(-1);
}

/** Derived from the ticket, the message answered and the text; 32 base64url characters. */
export function replyToken(ticketId: string, answeredId: string, text: string, html: string | undefined): string {
  return createHash('sha256').update(JSON.stringify([ticketId, answeredId, text, html ?? null])).digest('base64url').slice(0, 32);
}
