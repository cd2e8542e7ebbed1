// Which ticket a message belongs to. References win: a message naming a Message-ID of a ticket in
// the same mailbox joins it (our own replies included). The provider's thread id only helps when the
// sender already takes part in that ticket, and a subject alone never merges anything.
import type { KeyService, TicketRepository } from './ports.js';
import type { Notice, TicketRecord } from './model.js';

/** Bounds the lookups a long References chain can cause. */
const MAX_REFERENCES_FOLLOWED = 20;

export interface ThreadingInput {
  tenantId: string;
  mailboxId: string;
  inReplyTo: string[];
  references: string[];
  providerThreadId?: string;
  fromIndex: string;
}

export interface ThreadingDecision {
  ticket: TicketRecord | null;
  notices: Notice[];
}

export async function findTicket(
  repo: TicketRepository,
  keys: KeyService,
  input: ThreadingInput,
  fromAddress: string,
): Promise<ThreadingDecision> {
  const { tenantId, mailboxId } = input;
  // In-Reply-To first, then References newest (last) first.
  const candidates = unique([...input.inReplyTo, ...[...input.references].reverse()]).slice(0, MAX_REFERENCES_FOLLOWED);
  for (const messageId of candidates) {
    const index = await keys.blindIndex(tenantId, 'message-id', messageId);
    const tickets = await loadTickets(repo, tenantId, mailboxId, await repo.findTicketsByMessageIdIndex(tenantId, mailboxId, index));
    if (tickets.length === 0) continue;
    // Distinct messages can share a Message-ID: prefer the ticket the sender takes part in, then
    // the most recently active one.
    const ticket = tickets.find((t) => t.participantIndexes.includes(input.fromIndex)) ?? newest(tickets);
    const notices: Notice[] = ticket.participantIndexes.includes(input.fromIndex)
      ? []
      : [{ code: 'new_participant', detail: `${fromAddress} joined the conversation by replying to it` }];
    return { ticket, notices };
  }
  if (input.providerThreadId) {
    const index = await keys.blindIndex(tenantId, 'provider-thread', input.providerThreadId);
    for (const ticketId of await repo.findTicketsByProviderThread(tenantId, mailboxId, index)) {
      const ticket = await repo.getTicket(tenantId, ticketId);
      if (ticket && ticket.mailboxId === mailboxId && ticket.participantIndexes.includes(input.fromIndex)) {
        return { ticket, notices: [] };
      }
    }
  }
  return { ticket: null, notices: [] };
}

async function loadTickets(repo: TicketRepository, tenantId: string, mailboxId: string, ticketIds: string[]): Promise<TicketRecord[]> {
  const tickets = await Promise.all([...new Set(ticketIds)].map((id) => repo.getTicket(tenantId, id)));
  return tickets.filter((t): t is TicketRecord => t !== undefined && t.mailboxId === mailboxId);
}

function newest(tickets: TicketRecord[]): TicketRecord {
  return tickets.reduce((a, b) => (b.lastActivityAt > a.lastActivityAt ? b : a));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
