// A mailbox as Gmail keeps it: messages with labels and threads, and an append-only history of
// changes under increasing historyIds (uint64, decimal on the wire, with gaps like the real ones, so a
// client that does arithmetic on them is caught). History can be expired to force the 404 path.
import { headerValue, messageIdsIn, parseHeaders, type Header } from './fake-gmail-mime.js';

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  raw: Buffer;
  headers: Header[];
  /** Epoch milliseconds. */
  internalDate: number;
  /** The last history record that touched the message. */
  historyId: bigint;
}

export interface MessageRef {
  id: string;
  threadId: string;
  labelIds: string[];
}

export type HistoryType = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';

export interface HistoryRecord {
  id: bigint;
  type: HistoryType;
  /** The message as it was right after this change. */
  message: MessageRef;
  /** The labels added or removed, for label changes. */
  labelIds?: string[];
}

export interface Watch {
  topicName: string;
  labelIds: string[];
  labelFilterBehavior: 'include' | 'exclude';
  /** Epoch milliseconds. */
  expiration: number;
  historyId: string;
}

export interface SentMessage {
  id: string;
  threadId: string;
  raw: Buffer;
  /** The Message-ID header as stored (after any rewrite). */
  messageId: string | undefined;
}

const FIRST_HISTORY_ID = 1000n;

export class Mailbox {
  readonly messages = new Map<string, StoredMessage>();
  readonly history: HistoryRecord[] = [];
  readonly sent: SentMessage[] = [];
  readonly refreshTokens = new Set<string>();
  historyId = FIRST_HISTORY_ID;
  /** startHistoryId below this answers 404: history before it is gone (or never existed). */
  oldestHistoryId = FIRST_HISTORY_ID;
  watch: Watch | undefined;
  private changes = 0;

  constructor(
    readonly email: string,
    readonly scope: string,
    private readonly newMessageId: () => string,
  ) {}

  get(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  /**
   * Stores a message and records messageAdded. Without a threadId it joins the thread of a message it
   * replies to (In-Reply-To, then References) unless `inferThread` is false, else starts its own.
   */
  add(raw: Buffer, options: { labelIds: string[]; threadId?: string; internalDate?: Date; inferThread?: boolean }): StoredMessage {
    const headers = parseHeaders(raw);
    const id = this.newMessageId();
    const inferred = options.inferThread === false ? undefined : this.threadFor(headers);
    const message: StoredMessage = {
      id,
      threadId: options.threadId ?? inferred ?? id,
      labelIds: [...new Set(options.labelIds)],
      raw,
      headers,
      internalDate: options.internalDate?.getTime() ?? Date.now(),
      historyId: 0n,
    };
    this.messages.set(id, message);
    this.record('messageAdded', message);
    return message;
  }

  /** Applies a label change; records one history entry per direction that changed anything. */
  modifyLabels(id: string, add: readonly string[], remove: readonly string[]): boolean {
    const message = this.messages.get(id);
    if (!message) return false;
    const added = [...new Set(add)].filter((l) => !message.labelIds.includes(l));
    if (added.length > 0) {
      message.labelIds.push(...added);
      this.record('labelAdded', message, added);
    }
    const removed = [...new Set(remove)].filter((l) => message.labelIds.includes(l));
    if (removed.length > 0) {
      message.labelIds = message.labelIds.filter((l) => !removed.includes(l));
      this.record('labelRemoved', message, removed);
    }
    return true;
  }

  delete(id: string): boolean {
    const message = this.messages.get(id);
    if (!message) return false;
    this.messages.delete(id);
    this.record('messageDeleted', message);
    return true;
  }

  threadExists(threadId: string): boolean {
    for (const m of this.messages.values()) if (m.threadId === threadId) return true;
    return false;
  }

  threadCount(): number {
    return new Set([...this.messages.values()].map((m) => m.threadId)).size;
  }

  /** Records after `start`, oldest first; undefined when `start` is outside the history Gmail still has. */
  historySince(start: bigint): HistoryRecord[] | undefined {
    if (start < this.oldestHistoryId || start > this.historyId) return undefined;
    return this.history.filter((r) => r.id > start);
  }

  expireHistory(): void {
    this.oldestHistoryId = this.historyId;
    this.history.length = 0;
  }

  /** Gmail-like threading for delivered mail: join the thread of a message this one replies to. */
  private threadFor(headers: Header[]): string | undefined {
    const referenced = [...messageIdsIn(headerValue(headers, 'in-reply-to')), ...messageIdsIn(headerValue(headers, 'references')).reverse()];
    for (const ref of referenced) {
      for (const m of this.messages.values()) {
        if (messageIdsIn(headerValue(m.headers, 'message-id')).includes(ref)) return m.threadId;
      }
    }
    return undefined;
  }

  private record(type: HistoryType, message: StoredMessage, labelIds?: string[]): void {
    // Real historyIds are increasing but not contiguous.
    this.changes += 1;
    this.historyId += BigInt(1 + (this.changes % 4));
    message.historyId = this.historyId;
    const record: HistoryRecord = { id: this.historyId, type, message: { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] } };
    if (labelIds) record.labelIds = labelIds;
    this.history.push(record);
  }
}
