// message: delta for one folder, as documented in delta-query-messages: an initial round lists the
// folder's messages; each page ends with @odata.nextLink ($skiptoken) or, last, @odata.deltaLink
// ($deltatoken); a later round lists only what changed, removals as `@removed: { reason: 'deleted' }`.
// Tokens are opaque keys into the mailbox's sync-state cache, so expiring that cache makes them fail
// the way Exchange's do.
import type { ChangeType, DeltaOptions, Mailbox, PageItem, SyncState } from './fake-graph-store.js';

/** A page ends with exactly one of skipToken (more pages) or deltaToken (round complete). */
export type DeltaResult = { items: PageItem[]; options: DeltaOptions; skipToken?: string; deltaToken?: string } | { gone: 'syncStateNotFound' | 'resyncRequired' };

/** `$filter=receivedDateTime ge|gt {value}` is the only filter delta supports for messages. */
export function parseDeltaOptions(query: URLSearchParams): DeltaOptions | { invalid: string } {
  const select = query.get('$select');
  const changeType = query.get('changeType');
  if (changeType !== null && !['created', 'updated', 'deleted'].includes(changeType)) return { invalid: `Invalid changeType '${changeType}'.` };
  const filter = query.get('$filter');
  let received: DeltaOptions['received'];
  if (filter !== null) {
    const match = /^\s*receivedDateTime\s+(ge|gt)\s+(\S+)\s*$/i.exec(filter);
    const date = match ? new Date(match[2] as string) : undefined;
    if (!match || !date || Number.isNaN(date.getTime())) return { invalid: `The only supported $filter on messages delta is receivedDateTime ge|gt {value}, got '${filter}'.` };
    received = { op: (match[1] as string).toLowerCase() as 'ge' | 'gt', date };
  }
  const orderBy = query.get('$orderby');
  if (orderBy !== null && !/^\s*receivedDateTime\s+desc\s*$/i.test(orderBy)) return { invalid: `The only supported $orderby on messages delta is receivedDateTime desc, got '${orderBy}'.` };
  return {
    select: select ? select.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    changeType: (changeType ?? undefined) as ChangeType | undefined,
    received,
    newestFirst: orderBy !== null,
  };
}

export function deltaPage(mailbox: Mailbox, folderId: string, request: { skipToken?: string; deltaToken?: string; options: DeltaOptions; pageSize: number }): DeltaResult {
  let pending: PageItem[];
  let endSeq: number;
  let options: DeltaOptions;
  const token = request.skipToken ?? request.deltaToken;
  if (token !== undefined) {
    const state = mailbox.syncState(token);
    if (!state || state.folderId !== folderId) return { gone: mailbox.resetTokens.has(token) ? 'resyncRequired' : 'syncStateNotFound' };
    options = state.options;
    if (state.kind === 'page') {
      pending = state.items;
      endSeq = state.endSeq;
    } else {
      pending = changesSince(mailbox, folderId, state.seq, options);
      endSeq = mailbox.currentSeq;
    }
  } else {
    options = request.options;
    pending = initialItems(mailbox, folderId, options);
    endSeq = mailbox.currentSeq;
  }
  const items = pending.slice(0, request.pageSize);
  const rest = pending.slice(request.pageSize);
  if (rest.length > 0) {
    const state: SyncState = { kind: 'page', folderId, items: rest, endSeq, options };
    return { items, options, skipToken: mailbox.saveSyncState(state) };
  }
  return { items, options, deltaToken: mailbox.saveSyncState({ kind: 'delta', folderId, seq: endSeq, options }) };
}

function initialItems(mailbox: Mailbox, folderId: string, options: DeltaOptions): PageItem[] {
  const messages = mailbox.inFolder(folderId).filter((m) => passesReceived(m.receivedDateTime, options));
  if (options.newestFirst) messages.sort((a, b) => b.receivedDateTime.getTime() - a.receivedDateTime.getTime());
  if (options.changeType === 'deleted' || options.changeType === 'updated') return [];
  return messages.map((m) => ({ immutableId: m.immutableId }));
}

/** Net effect per message since `seq`: Exchange reports each changed item once, in its latest state. */
function changesSince(mailbox: Mailbox, folderId: string, seq: number, options: DeltaOptions): PageItem[] {
  const perMessage = new Map<string, { first: ChangeType; last: ChangeType; regularId: string; lastSeq: number }>();
  for (const record of mailbox.changes) {
    if (record.seq <= seq || record.folderId !== folderId) continue;
    const entry = perMessage.get(record.immutableId);
    if (entry) {
      entry.last = record.kind;
      entry.regularId = record.regularId;
      entry.lastSeq = record.seq;
    } else {
      perMessage.set(record.immutableId, { first: record.kind, last: record.kind, regularId: record.regularId, lastSeq: record.seq });
    }
  }
  const items: Array<PageItem & { order: number }> = [];
  for (const [immutableId, change] of perMessage) {
    if (change.last === 'deleted') {
      // Created and gone within the window: the client never saw it, so there is nothing to remove.
      if (change.first === 'created') continue;
      if (options.changeType && options.changeType !== 'deleted') continue;
      items.push({ removed: true, immutableId, regularId: change.regularId, order: change.lastSeq });
      continue;
    }
    const message = mailbox.messages.get(immutableId);
    if (!message || message.folderId !== folderId || mailbox.inTransit.has(immutableId)) continue;
    const kind: ChangeType = change.first === 'created' ? 'created' : 'updated';
    if (options.changeType && options.changeType !== kind) continue;
    if (!passesReceived(message.receivedDateTime, options)) continue;
    items.push({ immutableId, order: options.newestFirst ? -message.receivedDateTime.getTime() : change.lastSeq });
  }
  return items.sort((a, b) => a.order - b.order).map(({ order: _order, ...item }) => item);
}

function passesReceived(received: Date, options: DeltaOptions): boolean {
  if (!options.received) return true;
  return options.received.op === 'ge' ? received.getTime() >= options.received.date.getTime() : received.getTime() > options.received.date.getTime();
}
