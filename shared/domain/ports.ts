// The ports the domain talks through. Nothing here imports an AWS or provider SDK: adapters in
// shared/adapters/<service>/ implement these interfaces, composition roots wire them.
import type { Duplex, Readable } from 'node:stream';
import type { AttachmentRecord, MailboxRecord, MailboxStatus, MessageRecord, ProviderConnection, SuppressedRecord, TicketRecord } from './model.js';
import type { AuditRecord } from './audit.js';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A sortable, unique, opaque id (ULID): ticket, message and attachment ids. */
  next(): string;
  /** A random token of at least 128 bits, base32, for our own Message-IDs. */
  randomToken(): string;
}

/** What a ciphertext is bound to. Every value is an opaque id, never personal data. */
export interface EncryptionContext {
  tenantId: string;
  mailboxId: string;
  purpose: 'raw' | 'body' | 'attachment' | 'fields' | 'token';
}

/**
 * Envelope encryption (AES-256-GCM data keys wrapped by a per-tenant key). Locally a raw keyring from
 * one key file per tenant; in AWS the tenant's KMS key. Data keys are cached within bounds.
 */
export interface KeyService {
  encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  /** A transform that encrypts what flows through it; errors surface on the stream. */
  encryptStream(context: EncryptionContext): Duplex;
  /** A transform that decrypts and authenticates what flows through it; the context must match. */
  decryptStream(context: EncryptionContext): Duplex;
  /**
   * Keyed HMAC-SHA-256 blind index of a value (an address, a Message-ID, a hash) under the tenant's
   * index key, hex encoded. Equal inputs give equal outputs within one tenant only.
   */
  blindIndex(tenantId: string, kind: string, value: string): Promise<string>;
}

export interface BlobStore {
  /** Streams the body to `key`, replacing any object there. Resolves when stored durably. */
  put(key: string, body: Readable | Uint8Array): Promise<void>;
  /** Throws `BlobNotFound` when absent. */
  get(key: string): Promise<Readable>;
  /** Deletes every listed key (absent keys are fine); with versioning, every version. */
  delete(keys: readonly string[]): Promise<void>;
  /** Lists keys under a prefix, with their last-modified time. */
  list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }>;
}

export type ScanVerdict =
  | { status: 'clean' }
  | { status: 'infected'; signature: string }
  | { status: 'unscanned'; reason: UnscannedReason }
  /** The verdict comes later from a separate scanner (AWS); held until then. */
  | { status: 'pending' };

export type UnscannedReason =
  | 'scanner_unavailable'
  | 'scanner_timeout'
  | 'size_limit'
  | 'recursion_limit'
  | 'encrypted'
  | 'scanner_error';

export interface Scanner {
  /**
   * Scans the bytes of one stream. Always consumes the input to its end, even when the scanner
   * fails, so that a tee'd upload of the same bytes is never stalled; never rejects for scanner
   * trouble: that is a `unscanned` verdict.
   */
  scan(content: Readable): Promise<ScanVerdict>;
}

/** Result of trying to claim a message's dedupe keys. */
export type ClaimResult =
  | { outcome: 'claimed' }
  | { outcome: 'exists'; claim: IngestClaim };

/** The claim item: written once per distinct message per mailbox, before anything points to blobs. */
export interface IngestClaim {
  tenantId: string;
  mailboxId: string;
  /** HMAC of the dedupe fingerprint. */
  fingerprint: string;
  ingestId: string;
  ticketId: string | null;
  messageId: string;
  status: 'created' | 'appended' | 'suppressed';
  claimedAt: string;
  leaseUntil: string;
  /** TTL (epoch seconds) when the mailbox already has a purge deadline. */
  expiresAt?: number;
}

export interface TicketRepository {
  getMailbox(tenantId: string, mailboxId: string): Promise<MailboxRecord | undefined>;
  putMailbox(mailbox: MailboxRecord): Promise<void>;
  /**
   * Sets fields of a provider mailbox's connection (and its status, when given) unless the mailbox is
   * disconnected or gone: a sync finishing after a disconnect must not bring it back. False then.
   */
  updateConnection(tenantId: string, mailboxId: string, patch: Partial<ProviderConnection>, status?: MailboxStatus): Promise<boolean>;
  listMailboxes(tenantId: string): Promise<MailboxRecord[]>;

  /** Fast path for connector retries: the message already ingested under this provider id. */
  findByProviderId(tenantId: string, mailboxId: string, providerIdIndex: string): Promise<IngestClaim | undefined>;
  /** Conditional put: exactly one caller wins per (mailbox, fingerprint). */
  claim(claim: IngestClaim): Promise<ClaimResult>;
  /** Hand an expired claim over to a new ingestion (conditional on the previous ingestId). */
  takeOverClaim(previous: IngestClaim, next: IngestClaim): Promise<boolean>;
  /** Whether the message a claim points to has been fully written. */
  messageExists(tenantId: string, ticketId: string | null, mailboxId: string, messageId: string): Promise<boolean>;

  /** Ticket ids in the mailbox holding a message with one of these Message-ID indexes. */
  findTicketsByMessageIdIndex(tenantId: string, mailboxId: string, messageIdIndex: string): Promise<string[]>;
  findTicketsByProviderThread(tenantId: string, mailboxId: string, threadIndex: string): Promise<string[]>;

  getTicket(tenantId: string, ticketId: string): Promise<TicketRecord | undefined>;
  listTickets(tenantId: string, mailboxId?: string): Promise<TicketRecord[]>;
  listMessages(tenantId: string, ticketId: string): Promise<MessageRecord[]>;
  /** Whether the ticket has at least one message item: the write that completes a new ticket. */
  hasMessages(tenantId: string, ticketId: string): Promise<boolean>;
  listAttachments(tenantId: string, ticketId: string): Promise<AttachmentRecord[]>;
  getAttachment(tenantId: string, attachmentId: string): Promise<AttachmentRecord | undefined>;
  /** Attachments whose verdict is `unscanned` or `pending` (held, to rescan). */
  listHeldAttachments(tenantId: string): Promise<AttachmentRecord[]>;
  updateAttachmentScan(attachment: AttachmentRecord): Promise<void>;

  /**
   * Writes a new message, its attachments, its requester links and its new ticket (when
   * `ticketIsNew`) or the ticket's activity update (when appending). Every write is idempotent, so a
   * retry after a crash repairs a partial write. The message item is written LAST: its existence is
   * what `messageExists` reads as "this ingestion completed".
   */
  writeIngested(write: IngestedWrite): Promise<void>;
  /**
   * Records a robot message (no ticket), idempotently, with a requester link for each address index
   * given (its sender at least: export and erasure find it); the suppressed record is written last.
   */
  writeSuppressed(record: SuppressedRecord, claim: IngestClaim, providerIdIndex?: string, requesterIndexes?: string[]): Promise<void>;

  // ── data-subject requests ──
  /** Messages and robot messages that name an address (by its blind index) as sender or recipient. */
  listRequesterLinks(tenantId: string, addressIndex: string): Promise<RequesterLink[]>;
  getSuppressed(tenantId: string, mailboxId: string, messageId: string): Promise<SuppressedRecord | undefined>;
  /** Replaces a robot message's record (e.g. re-sealed with an address corrected); the item must exist. */
  replaceSuppressed(record: SuppressedRecord): Promise<void>;
  /** Deletes a robot message's record and the requester links named. */
  deleteSuppressed(record: Pick<SuppressedRecord, 'tenantId' | 'mailboxId' | 'messageId'>, linkIndexes: string[]): Promise<void>;
  /** Blind indexes of the requesters whose processing is restricted. */
  listRestrictions(tenantId: string): Promise<Set<string>>;
  setRestriction(tenantId: string, addressIndex: string, restricted: boolean): Promise<void>;
  /** Replaces a message item (e.g. re-sealed with an address redacted); the item must exist. */
  replaceMessage(message: MessageRecord): Promise<void>;
  replaceTicket(ticket: TicketRecord): Promise<void>;
  /** Deletes a message item, its attachment items and the requester links named. */
  deleteMessage(message: Pick<MessageRecord, 'tenantId' | 'ticketId' | 'messageId'>, attachments: AttachmentRecord[], linkIndexes: string[]): Promise<void>;
  deleteTicketItem(tenantId: string, ticketId: string): Promise<void>;
  deleteRequesterLinks(tenantId: string, addressIndex: string, messageIds: string[]): Promise<void>;
  putRequesterLinks(addressIndex: string, links: RequesterLink[]): Promise<void>;
}

export interface RequesterLink {
  tenantId: string;
  mailboxId: string;
  /** The ticket holding the message; null for a suppressed robot message (an auto-reply, a bounce), which has none. */
  ticketId: string | null;
  messageId: string;
}

export interface IngestedWrite {
  ticket: TicketRecord;
  ticketIsNew: boolean;
  message: MessageRecord;
  attachments: AttachmentRecord[];
  /** Blind indexes of every address on the message, for data-subject requests. */
  requesterIndexes: string[];
  /** Blind index of the provider message id, for the retry fast path. */
  providerIdIndex?: string;
  claim: IngestClaim;
}

/** An item of the table, opaque to the domain: the retention jobs only count, stamp and delete them. */
export interface StoredItemRef {
  ref: string;
}

/** A closed account: its own records (access log, restriction list, consent records) go by purgeBy. */
export interface TenantClosure {
  tenantId: string;
  closedAt: string;
  purgeBy: string;
  purgedAt?: string;
}

export interface RetentionRepository {
  /** Disconnected mailboxes, across tenants, whose purge deadline is at or before `cutoff` and not yet purged. */
  listPurgeDue(cutoff: Date): Promise<MailboxRecord[]>;
  /** One page of every item of a mailbox (tickets, messages, attachments, claims, links, robots). */
  listMailboxItems(tenantId: string, mailboxId: string, cursor?: string): Promise<{ items: StoredItemRef[]; cursor?: string }>;
  /** Sets the TTL attribute, never later than one already set; returns how many items it set or moved earlier. */
  setExpiry(items: StoredItemRef[], expiresAt: number): Promise<number>;
  deleteItems(items: StoredItemRef[]): Promise<void>;
  /** Deletes the tenant's own records outside any mailbox (its access log, its restriction list); returns how many. */
  deleteTenantRecords(tenantId: string): Promise<number>;
  /** Sets the TTL on those same records, never later than one already set; returns how many. */
  setTenantRecordsExpiry(tenantId: string, expiresAt: number): Promise<number>;
  /** Records an account's closure; a closure already recorded stands (its earlier deadline). Returns the one in force. */
  recordTenantClosure(closure: TenantClosure): Promise<TenantClosure>;
  /** Closures, across tenants, whose records are due at or before `cutoff` and not yet purged. */
  listTenantClosuresDue(cutoff: Date): Promise<TenantClosure[]>;
  /** Marks a closure's records purged: it leaves the due list, the record stays (ids and dates). */
  markTenantPurged(closure: TenantClosure, purgedAt: string): Promise<void>;
  /** One page of the ingestions a mailbox's claims name (a claim names the pass that may still complete it, or did). */
  listClaimedIngestions(tenantId: string, mailboxId: string, cursor?: string): Promise<{ ingestIds: string[]; cursor?: string }>;
  /** One page of the object keys a mailbox's items name (a message's rawKey and bodyKey, an attachment's blobKey, a robot's rawKey). */
  listObjectReferences(tenantId: string, mailboxId: string, cursor?: string): Promise<{ objectKeys: string[]; cursor?: string }>;
}

export interface AuditLog {
  /**
   * Appends the record `build` makes from the chain's current head hash. Appends to one tenant's
   * chain are serialized: a concurrent append makes this one rebuild on the new head.
   */
  append(tenantId: string, build: (prevHash: string) => AuditRecord): Promise<AuditRecord>;
  /** The tenant's records, oldest first. */
  list(tenantId: string): Promise<AuditRecord[]>;
}

/** The lifecycle of a tenant's keys. Destroying them makes every ciphertext of the tenant unreadable. */
export interface TenantKeyLifecycle {
  /** Destroys (or schedules the destruction of) the tenant's keys; resolves with when they are gone. */
  destroyTenantKeys(tenantId: string): Promise<{ destroyedBy: string }>;
}

/** Where a tenant's keys stand: `active` when every key is usable, `closed` when one is pending deletion or disabled. */
export type TenantKeyState = 'active' | 'missing' | 'closed';

/**
 * Creating a tenant's keys at run time (a KMS data key and HMAC index key per tenant in AWS). Only the
 * tenant-lifecycle function holds an implementation that may create keys.
 */
export interface TenantKeyProvisioner {
  /**
   * Creates whatever of the tenant's keys does not exist yet, or finishes an earlier partial run.
   * Idempotent: keys already reachable are kept. Resolves with how many keys this call created.
   */
  createTenantKeys(tenantId: string): Promise<{ created: number }>;
  /** Whether the tenant's keys exist and are usable. */
  tenantKeyState(tenantId: string): Promise<TenantKeyState>;
}

/** One job for a FIFO queue: jobs of one group run one at a time, in order. Jobs carry ids, never content. */
export interface QueuedJob {
  /** The ordering and concurrency unit, e.g. one mailbox. */
  groupId: string;
  /** Equal ids within the queue's deduplication window (5 minutes on SQS) are one job. At most 128 characters. */
  deduplicationId: string;
  body: string;
}

export interface JobQueue {
  enqueue(job: QueuedJob): Promise<void>;
}

/** Puts a received job back for later. On SQS this still counts as a receive toward the DLQ. */
export interface JobDeferral {
  /** The job becomes visible again after `seconds` (0–43,200). */
  defer(receiptHandle: string, seconds: number): Promise<void>;
}

/** Counters for operators (CloudWatch EMF in Lambda). Names only: never a tenant, mailbox or address as a dimension. */
export interface Metrics {
  count(name: string, value?: number): void;
}

export type ProviderKind = 'gmail' | 'graph';

export interface MailboxOwner {
  tenantId: string;
  mailboxId: string;
}

/** Where a provider address (or a Graph subscription) leads. */
export interface DirectoryEntry extends MailboxOwner {
  /**
   * A Graph subscription's clientState digest, kept on its entry so the webhook checks a
   * notification with this one read instead of reading the mailbox as well.
   */
  clientStateIndex?: string;
}

/**
 * The service-wide directory of provider mailboxes: a provider address belongs to at most one
 * mailbox of one tenant, and a push names only the address.
 */
export interface MailboxDirectory {
  /**
   * Registers the address for `owner` unless another mailbox holds it; resolves with the holder. A
   * claim by the holder itself replaces the entry's details.
   */
  claimAddress(provider: ProviderKind, addressIndex: string, owner: MailboxOwner, details?: Pick<DirectoryEntry, 'clientStateIndex'>): Promise<MailboxOwner>;
  findAddress(provider: ProviderKind, addressIndex: string): Promise<DirectoryEntry | undefined>;
  releaseAddress(provider: ProviderKind, addressIndex: string, owner: MailboxOwner): Promise<void>;
  /** Every mailbox of the provider that is connected or awaiting reauthorization, across tenants. */
  listConnected(provider: ProviderKind): Promise<MailboxRecord[]>;
}

/** A reply on its way out through a provider that works with drafts (Graph): the draft to send, once. */
export interface ReplyIntent extends MailboxOwner {
  ticketId: string;
  /** Derived from the ticket, the message answered and the text: the same reply has the same token. */
  token: string;
  draftId: string;
  createdAt: string;
  expiresAt?: number;
}

export interface ReplyIntentStore {
  getReplyIntent(tenantId: string, ticketId: string, token: string): Promise<ReplyIntent | undefined>;
  /** Stores the intent unless one with its token exists; resolves with the stored one. */
  putReplyIntent(intent: ReplyIntent): Promise<ReplyIntent>;
}

/**
 * What a table restore loses: DynamoDB restores carry neither the TTL setting nor the stream. The
 * purge depends on both, so a restored table gets them back before anything else runs on it.
 */
export interface TableSafeguards {
  /** Re-enables the TTL on `expiresAt` and the stream where missing, and waits until both are active. */
  ensure(): Promise<{ ttl: 'was_enabled' | 'enabled'; stream: 'was_enabled' | 'enabled'; streamArn: string }>;
}
