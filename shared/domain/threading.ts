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
  // A message without a sender address (no From, an empty group) is nobody: it takes part in no
  // ticket, however many others arrived without one.
  const takesPart = (ticket: TicketRecord) => fromAddress.trim() !== '' && ticket.participantIndexes.includes(input.fromIndex);
  for (const messageId of referencesToFollow(input.inReplyTo, input.references)) {
    const index = await keys.blindIndex(tenantId, 'message-id', messageId);
    const tickets = await loadTickets(repo, tenantId, mailboxId, await repo.findTicketsByMessageIdIndex(tenantId, mailboxId, index));
    if (tickets.length === 0) continue;
    // Distinct messages can share a Message-ID: prefer the ticket the sender takes part in, then
    // the most recently active one.
    const ticket = tickets.find(takesPart) ?? newest(tickets);
    const notices: Notice[] = takesPart(ticket)
      ? []
      : [{ code: 'new_participant', detail: `${fromAddress || 'a sender without an address'} joined the conversation by replying to it` }];
    return { ticket, notices };
  }
  if (input.providerThreadId) {
    const index = await keys.blindIndex(tenantId, 'provider-thread', input.providerThreadId);
    for (const ticketId of await repo.findTicketsByProviderThread(tenantId, mailboxId, index)) {
      const ticket = await repo.getTicket(tenantId, ticketId);
      if (ticket && ticket.mailboxId === mailboxId && takesPart(ticket)) {
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

/**
 * In-Reply-To first, then References newest (last) first, at most MAX_REFERENCES_FOLLOWED of them.
 * When the chain is longer, the root (the first reference, the message that opened the
 * conversation) takes the last place: the ids in the middle are the ones most often missing here.
 */
function referencesToFollow(inReplyTo: string[], references: string[]): string[] {
  const newestFirst = unique([...inReplyTo, ...[...references].reverse()]);
  if (newestFirst.length <= MAX_REFERENCES_FOLLOWED) return newestFirst;
  const root = references[0];
  const head = newestFirst.slice(0, MAX_REFERENCES_FOLLOWED - 1);
  return root === undefined || head.includes(root) ? newestFirst.slice(0, MAX_REFERENCES_FOLLOWED) : [...head, root];
}

function newest(tickets: TicketRecord[]): TicketRecord {
  return tickets.reduce((a, b) => (b.lastActivityAt > a.lastActivityAt ? b : a));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
