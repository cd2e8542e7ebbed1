// One Exchange mailbox as the fake Graph sees it: well-known folders, messages with both id kinds,
// and an ordered change log that delta queries and change notifications are computed from. Regular
// REST ids change when a message moves; immutable ids (Prefer: IdType="ImmutableId") never do.
import { randomBytes, randomUUID } from 'node:crypto';
import { messageIdsIn } from './fake-gmail-mime.js';
import { summarizeMime, type Header, type ItemBody, type Recipient } from './fake-graph-mime.js';

export type ChangeType = 'created' | 'updated' | 'deleted';

/** Graph's well-known folder names and their display names. */
export const WELL_KNOWN_FOLDERS: Readonly<Record<string, string>> = {
  inbox: 'Inbox',
  sentitems: 'Sent Items',
  drafts: 'Drafts',
  deleteditems: 'Deleted Items',
  junkemail: 'Junk Email',
  archive: 'Archive',
  outbox: 'Outbox',
};

export interface Folder {
  id: string;
  wellKnownName: string;
  displayName: string;
}

export interface StoredMessage {
  immutableId: string;
  regularId: string;
  folderId: string;
  conversationId: string;
  internetMessageId: string;
  /** The MIME as received or as sent; undefined for a draft (built when it is sent or read as $value). */
  raw: Buffer | undefined;
  createdDateTime: Date;
  lastModifiedDateTime: Date;
  receivedDateTime: Date;
  sentDateTime: Date | undefined;
  changeKey: string;
  isDraft: boolean;
  isRead: boolean;
  subject: string;
  body: ItemBody;
  bodyPreview: string;
  from: Recipient | undefined;
  sender: Recipient | undefined;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  importance: 'low' | 'normal' | 'high';
  categories: string[];
  hasAttachments: boolean;
  inReplyTo: string | undefined;
  references: string | undefined;
  /** Received mail: its MIME headers. Drafts: the custom `x-` headers set through Graph. */
  headers: Header[];
  /** singleValueExtendedProperties by id (e.g. `String 0x1042`, PidTagInReplyToId). */
  extendedProperties: Map<string, string>;
}

export interface ChangeRecord {
  seq: number;
  immutableId: string;
  folderId: string;
  kind: ChangeType;
  /** The regular id the message had in that folder at that moment (what a removal reports). */
  regularId: string;
}

export interface MailboxChange {
  message: StoredMessage;
  folderId: string;
  changeType: ChangeType;
  regularId: string;
  /** Part of a move between folders (mailbox-wide subscriptions see one `updated` instead). */
  move?: 'out' | 'in';
}

export interface DeltaOptions {
  select: string[] | undefined;
  changeType: ChangeType | undefined;
  received: { op: 'ge' | 'gt'; date: Date } | undefined;
  newestFirst: boolean;
}

export type PageItem = { immutableId: string } | { removed: true; immutableId: string; regularId: string };

export type SyncState =
  | { kind: 'delta'; folderId: string; seq: number; options: DeltaOptions }
  | { kind: 'page'; folderId: string; items: PageItem[]; endSeq: number; options: DeltaOptions };

/** Exchange keeps sync states in a bounded cache; the oldest fall out (delta-query-overview, "Token duration"). */
const MAX_SYNC_STATES = 1000;

export class Mailbox {
  readonly folders = new Map<string, Folder>();
  readonly messages = new Map<string, StoredMessage>();
  readonly changes: ChangeRecord[] = [];
  /** Messages that left the Drafts folder through send and are not in Sent Items yet. */
  readonly inTransit = new Set<string>();
  private readonly byRegularId = new Map<string, string>();
  private readonly syncStates = new Map<string, SyncState>();
  private seq = 0;
  /** Tokens minted before this reset answer 410 with a Location (resync) instead of SyncStateNotFound. */
  readonly resetTokens = new Set<string>();
  /** The owner's display name, used as `from` on drafts. */
  displayName: string;

  constructor(
    readonly address: string,
    readonly userId: string,
    readonly tenantId: string,
    private readonly listener: (mailbox: Mailbox, change: MailboxChange) => void,
  ) {
    this.displayName = address;
    for (const [wellKnownName, displayName] of Object.entries(WELL_KNOWN_FOLDERS)) {
      const folder = { id: exchangeId('AQMkAD', 40), wellKnownName, displayName };
      this.folders.set(folder.id, folder);
    }
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** A folder by well-known name (any case) or id. */
  folder(ref: string): Folder | undefined {
    const byId = this.folders.get(ref);
    if (byId) return byId;
    const lower = ref.toLowerCase();
    return [...this.folders.values()].find((f) => f.wellKnownName === lower);
  }

  wellKnown(name: string): Folder {
    const folder = this.folder(name);
    if (!folder) throw new Error(`fake-graph: no folder ${name}`);
    return folder;
  }

  /** A message by immutable or current regular id (Graph accepts either in a URL). */
  find(id: string): StoredMessage | undefined {
    return this.messages.get(id) ?? this.messages.get(this.byRegularId.get(id) ?? '');
  }

  inFolder(folderId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.folderId === folderId && !this.inTransit.has(m.immutableId));
  }

  /** Mail arriving from outside, threaded onto an existing conversation when it answers a known Message-ID. */
  deliver(raw: Buffer, folderId: string, options: { receivedDateTime?: Date; conversationId?: string; isRead?: boolean } = {}): StoredMessage {
    const summary = summarizeMime(raw);
    const referenced = [...messageIdsIn(summary.inReplyTo), ...messageIdsIn(summary.references)].map((id) => `<${id}>`);
    const thread = [...this.messages.values()].find((m) => referenced.includes(m.internetMessageId));
    const now = options.receivedDateTime ?? new Date();
    return this.insert({
      folderId,
      raw,
      conversationId: options.conversationId ?? thread?.conversationId ?? exchangeId('AAQkAD', 40),
      internetMessageId: summary.internetMessageId ?? newInternetMessageId(),
      receivedDateTime: now,
      sentDateTime: summary.sentDateTime ?? now,
      isDraft: false,
      isRead: options.isRead ?? false,
      subject: summary.subject,
      body: summary.body,
      bodyPreview: summary.bodyPreview,
      from: summary.from,
      sender: summary.sender,
      toRecipients: summary.toRecipients,
      ccRecipients: summary.ccRecipients,
      bccRecipients: summary.bccRecipients,
      replyTo: summary.replyTo,
      hasAttachments: summary.hasAttachments,
      inReplyTo: summary.inReplyTo,
      references: summary.references,
      headers: summary.headers,
    });
  }

  insert(fields: Omit<StoredMessage, 'immutableId' | 'regularId' | 'changeKey' | 'createdDateTime' | 'lastModifiedDateTime' | 'importance' | 'categories' | 'extendedProperties'> & Partial<Pick<StoredMessage, 'importance' | 'categories' | 'extendedProperties'>>): StoredMessage {
    const now = new Date();
    const message: StoredMessage = {
      importance: 'normal',
      categories: [],
      extendedProperties: new Map(),
      ...fields,
      immutableId: exchangeId('AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A', 44),
      regularId: exchangeId('AAMkAGI2', 100) + '=',
      changeKey: changeKey(),
      createdDateTime: now,
      lastModifiedDateTime: now,
    };
    this.messages.set(message.immutableId, message);
    this.byRegularId.set(message.regularId, message.immutableId);
    this.record(message, message.folderId, 'created');
    return message;
  }

  /** A property change (read state, draft edits): `updated` in its folder. */
  touch(message: StoredMessage): void {
    message.changeKey = changeKey();
    message.lastModifiedDateTime = new Date();
    this.record(message, message.folderId, 'updated');
  }

  /** A move gets a new regular id in the destination; the immutable id stays (outlook-immutable-id). */
  move(message: StoredMessage, folderId: string): void {
    if (message.folderId === folderId) return;
    const from = message.folderId;
    const oldRegularId = message.regularId;
    this.record(message, from, 'deleted', 'out');
    this.byRegularId.delete(oldRegularId);
    message.regularId = exchangeId('AAMkAGI2', 100) + '=';
    this.byRegularId.set(message.regularId, message.immutableId);
    message.folderId = folderId;
    message.changeKey = changeKey();
    message.lastModifiedDateTime = new Date();
    this.record(message, folderId, 'created', 'in');
  }

  remove(message: StoredMessage): void {
    this.record(message, message.folderId, 'deleted');
    this.messages.delete(message.immutableId);
    this.byRegularId.delete(message.regularId);
    this.inTransit.delete(message.immutableId);
  }

  saveSyncState(state: SyncState): string {
    const token = randomBytes(24).toString('base64url');
    this.syncStates.set(token, state);
    if (this.syncStates.size > MAX_SYNC_STATES) {
      const oldest = this.syncStates.keys().next().value;
      if (oldest !== undefined) this.syncStates.delete(oldest);
    }
    return token;
  }

  syncState(token: string): SyncState | undefined {
    return this.syncStates.get(token);
  }

  /** Every delta and skip token issued so far stops working; `reset` makes them answer a resync instead. */
  expireSyncStates(reset: boolean): void {
    if (reset) for (const token of this.syncStates.keys()) this.resetTokens.add(token);
    this.syncStates.clear();
  }

  private record(message: StoredMessage, folderId: string, kind: ChangeType, move?: 'out' | 'in'): void {
    this.seq += 1;
    const regularId = message.regularId;
    this.changes.push({ seq: this.seq, immutableId: message.immutableId, folderId, kind, regularId });
    this.listener(this, { message, folderId, changeType: kind, regularId, ...(move ? { move } : {}) });
  }
}

/** Exchange-looking opaque ids: a fixed prefix and URL-safe base64. */
export function exchangeId(prefix: string, length: number): string {
  return prefix + randomBytes(Math.ceil((length * 3) / 4)).toString('base64url').slice(0, length);
}

export function newInternetMessageId(): string {
  return `<${randomBytes(16).toString('hex').toUpperCase()}@FK2P123MB0001.EURP123.PROD.OUTLOOK.COM>`;
}

function changeKey(): string {
  return randomBytes(18).toString('base64');
}

export function newUserId(): string {
  return randomUUID();
}
