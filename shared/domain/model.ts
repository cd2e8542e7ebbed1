// The ticket model as stored. Fields that identify or describe a person (subjects, names, addresses,
// filenames, notices that quote them) never appear in clear: they travel in `sealed`, an envelope-
// encrypted JSON document (see fields.ts). Everything else is an opaque id, a time, a size or an HMAC.

export type ScanStatus = 'clean' | 'infected' | 'unscanned' | 'pending';

export type NoticeCode =
  | 'unparsed'
  | 'message_truncated'
  | 'header_too_large'
  | 'too_many_parts'
  | 'nesting_too_deep'
  | 'attachment_too_large'
  | 'too_many_attachments'
  | 'attachment_infected'
  | 'attachment_unscanned'
  | 'message_id_synthesized'
  | 'new_participant'
  | 'text_not_derived';

export interface Notice {
  code: NoticeCode;
  detail: string;
}

export interface Address {
  address: string;
  name: string;
}

export type MailboxStatus = 'connected' | 'reauthorization_required' | 'disconnected';

export interface MailboxRecord {
  tenantId: string;
  mailboxId: string;
  provider: 'local' | 'gmail' | 'graph';
  status: MailboxStatus;
  createdAt: string;
  disconnectedAt?: string;
  /** ISO time by which every item and object of the mailbox is gone. */
  purgeBy?: string;
  /** When the backstop (or an erase) removed everything; the record stays as a tombstone of ids and dates. */
  purgedAt?: string;
  /**
   * After a disconnect, when its stamping runs once more; after a purge, when the purge does. An
   * ingestion that read the mailbox before the disconnect may still write until then (retention.ts).
   */
  recheckAt?: string;
  /** A provider mailbox's connection (Gmail, Microsoft 365); absent for local mailboxes. */
  connection?: ProviderConnection;
}

/** What a connector keeps about its mailbox. No address or token in clear: those live in `sealedCredentials`. */
export interface ProviderConnection {
  /** Service-wide blind index of the provider address: how a push finds its mailbox. */
  addressIndex: string;
  /** `ProviderCredentials` as JSON, encrypted with the tenant key, purpose `token`. Deleted on disconnect. */
  sealedCredentials?: Uint8Array;
  /** The last change fully processed: Gmail's historyId, Graph's delta link. Never taken from a notification. */
  cursor?: string;
  /** When the provider stops notifying unless renewed (Gmail watch, Graph subscription). */
  watchExpiresAt?: string;
  /** Graph: the subscription notifications name, and the HMAC of the clientState they must carry. */
  subscriptionId?: string;
  clientStateIndex?: string;
  lastNotifiedAt?: string;
  lastSyncedAt?: string;
  /** When a sync last found new mail. */
  lastChangeAt?: string;
  /** The provider asked us to wait until then: no request to it before (Retry-After, kept across jobs). */
  throttledUntil?: string;
  /** Code of the last condition an operator should see (`history_expired`, `invalid_grant`…), and when. */
  lastIssue?: { code: string; at: string };
  /**
   * Gmail: a full sync paused for its time budget — the historyId taken before it began and the last
   * message it brought in. Null once it completes.
   */
  fullSync?: { historyId: string; lastId: string } | null;
}

/** Decrypted only inside a sync or a send; never logged. */
export interface ProviderCredentials {
  address: string;
  /** Gmail: the user's refresh token. */
  refreshToken?: string;
  /** Graph (app-only): the customer's Entra tenant and the mailbox's user id. */
  azureTenantId?: string;
  userId?: string;
}

/** Common to every stored item of a mailbox. */
interface MailboxItem {
  tenantId: string;
  mailboxId: string;
  /** TTL (epoch seconds), set once the mailbox is disconnected. */
  expiresAt?: number;
}

export interface TicketFields {
  subject: string;
  requester: Address;
}

export interface TicketRecord extends MailboxItem {
  ticketId: string;
  status: 'open';
  createdAt: string;
  lastActivityAt: string;
  /** Blind indexes of everyone who wrote to the ticket. */
  participantIndexes: string[];
  sealed: Uint8Array;
}

export interface MessageFields {
  subject: string;
  from: Address;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  date: string | null;
  messageIdHeader: string;
  inReplyTo: string | null;
  references: string[];
  rawSha256: string;
  notices: Notice[];
}

export interface MessageRecord extends MailboxItem {
  ticketId: string;
  messageId: string;
  direction: 'inbound' | 'outbound';
  receivedAt: string;
  messageIdIndex: string;
  providerThreadIndex?: string;
  fromIndex: string;
  /**
   * The raw message; null once its raw copy was erased (a requester's erasure where they were only a
   * recipient: the parsed body and attachments of the sender stay). `rawErasedAt` says when.
   */
  rawKey: string | null;
  rawErasedAt?: string;
  /** Where a large body lives; null when it is small enough to travel in `sealedBody`. */
  bodyKey: string | null;
  /** A small body (StoredBody), encrypted with purpose `body`. */
  sealedBody?: Uint8Array;
  attachmentIds: string[];
  /** Notice codes only; their details live in `sealed`. */
  noticeCodes: NoticeCode[];
  sealed: Uint8Array;
}

export interface AttachmentFields {
  filename: string;
  contentId: string | null;
  sha256: string;
}

export interface AttachmentRecord extends MailboxItem {
  attachmentId: string;
  ticketId: string;
  messageId: string;
  contentType: string;
  size: number;
  inline: boolean;
  scan: ScanStatus;
  /** Signature name when infected, reason when unscanned. */
  scanDetail?: string;
  /** Null when the bytes are not kept (infected, or skipped by a limit). */
  blobKey: string | null;
  sealed: Uint8Array;
}

export interface SuppressedFields {
  subject: string;
  from: Address;
  /** The recipients, for data-subject requests (absent on records written before they were kept). */
  to?: Address[];
  cc?: Address[];
  replyTo?: Address[];
  rawSha256: string;
}

export interface SuppressedRecord extends MailboxItem {
  messageId: string;
  receivedAt: string;
  reason: SuppressionReason;
  rawKey: string;
  sealed: Uint8Array;
}

export type SuppressionReason =
  | 'auto_submitted'
  | 'precedence'
  | 'autoreply_header'
  | 'bounce'
  | 'read_receipt'
  | 'loop';

/** Body of a message as stored in the BlobStore (encrypted, purpose `body`). */
export interface StoredBody {
  text: string;
  /** Sanitized HTML, or null for plain-text mail. */
  html: string | null;
}
