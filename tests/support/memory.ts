// In-memory fakes of the ports for the unit tier. They keep the semantics the domain relies on
// (conditional claims, idempotent writes, real authenticated encryption) so a unit test can fail
// for the same reasons production would.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { PassThrough, Readable, Transform, type Duplex } from 'node:stream';
import { text } from 'node:stream/consumers';
import { BlobNotFound } from '../../shared/domain/errors.js';
import type { AttachmentRecord, MailboxRecord, MailboxStatus, MessageRecord, ProviderConnection, SuppressedRecord, TicketRecord } from '../../shared/domain/model.js';
import { GENESIS_HASH, type AuditRecord } from '../../shared/domain/audit.js';
import type {
  AuditLog,
  BlobStore,
  ClaimResult,
  Clock,
  EncryptionContext,
  IdGenerator,
  IngestClaim,
  IngestedWrite,
  KeyService,
  RequesterLink,
  Scanner,
  ScanVerdict,
  TicketRepository,
} from '../../shared/domain/ports.js';

export class MemoryRepository implements TicketRepository {
  readonly mailboxes = new Map<string, MailboxRecord>();
  readonly claims = new Map<string, IngestClaim>();
  readonly providerIds = new Map<string, IngestClaim>();
  readonly tickets = new Map<string, TicketRecord>();
  readonly messages = new Map<string, MessageRecord>();
  readonly attachments = new Map<string, AttachmentRecord>();
  readonly suppressed = new Map<string, SuppressedRecord>();
  readonly requesterLinks = new Map<string, RequesterLink>();
  readonly restrictions = new Set<string>();
  /** Makes the next writeIngested throw before its last write, the message (a crash mid-write). */
  failNextWriteBeforeMessage = false;

  async getMailbox(tenantId: string, mailboxId: string) {
    return this.mailboxes.get(`${tenantId}/${mailboxId}`);
  }
  async putMailbox(mailbox: MailboxRecord) {
    this.mailboxes.set(`${mailbox.tenantId}/${mailbox.mailboxId}`, mailbox);
  }
  async updateConnection(tenantId: string, mailboxId: string, patch: Partial<ProviderConnection>, status?: MailboxStatus) {
    const mailbox = this.mailboxes.get(`${tenantId}/${mailboxId}`);
    if (!mailbox?.connection || mailbox.status === 'disconnected') return false;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    this.mailboxes.set(`${tenantId}/${mailboxId}`, { ...mailbox, ...(status ? { status } : {}), connection: { ...mailbox.connection, ...defined } });
    return true;
  }
  async listMailboxes(tenantId: string) {
    return [...this.mailboxes.values()].filter((m) => m.tenantId === tenantId);
  }
  async findByProviderId(tenantId: string, mailboxId: string, index: string) {
    return this.providerIds.get(`${tenantId}/${mailboxId}/${index}`);
  }
  async claim(claim: IngestClaim): Promise<ClaimResult> {
    const key = `${claim.tenantId}/${claim.mailboxId}/${claim.fingerprint}`;
    const existing = this.claims.get(key);
    if (existing) return { outcome: 'exists', claim: existing };
    this.claims.set(key, claim);
    return { outcome: 'claimed' };
  }
  async takeOverClaim(previous: IngestClaim, next: IngestClaim) {
    const key = `${previous.tenantId}/${previous.mailboxId}/${previous.fingerprint}`;
    if (this.claims.get(key)?.ingestId !== previous.ingestId) return false;
    this.claims.set(key, next);
    return true;
  }
  async messageExists(tenantId: string, ticketId: string | null, mailboxId: string, messageId: string) {
    if (ticketId === null) return this.suppressed.has(`${tenantId}/${mailboxId}/${messageId}`);
    return this.messages.has(`${tenantId}/${ticketId}/${messageId}`);
  }
  async findTicketsByMessageIdIndex(tenantId: string, mailboxId: string, index: string) {
    return [...this.messages.values()]
      .filter((m) => m.tenantId === tenantId && m.mailboxId === mailboxId && m.messageIdIndex === index)
      .map((m) => m.ticketId);
  }
  async findTicketsByProviderThread(tenantId: string, mailboxId: string, index: string) {
    return [...this.messages.values()]
      .filter((m) => m.tenantId === tenantId && m.mailboxId === mailboxId && m.providerThreadIndex === index)
      .map((m) => m.ticketId);
  }
  async getTicket(tenantId: string, ticketId: string) {
    return this.tickets.get(`${tenantId}/${ticketId}`);
  }
  async listTickets(tenantId: string, mailboxId?: string) {
    return [...this.tickets.values()]
      .filter((t) => t.tenantId === tenantId && (!mailboxId || t.mailboxId === mailboxId))
      .sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt) || b.ticketId.localeCompare(a.ticketId));
  }
  async hasMessages(tenantId: string, ticketId: string) {
    return [...this.messages.values()].some((m) => m.tenantId === tenantId && m.ticketId === ticketId);
  }
  async listMessages(tenantId: string, ticketId: string) {
    return [...this.messages.values()]
      .filter((m) => m.tenantId === tenantId && m.ticketId === ticketId)
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.messageId.localeCompare(b.messageId));
  }
  async listAttachments(tenantId: string, ticketId: string) {
    return [...this.attachments.values()].filter((a) => a.tenantId === tenantId && a.ticketId === ticketId);
  }
  async getAttachment(tenantId: string, attachmentId: string) {
    return this.attachments.get(`${tenantId}/${attachmentId}`);
  }
  async listHeldAttachments(tenantId: string) {
    return [...this.attachments.values()].filter((a) => a.tenantId === tenantId && (a.scan === 'unscanned' || a.scan === 'pending'));
  }
  async updateAttachmentScan(attachment: AttachmentRecord) {
    this.attachments.set(`${attachment.tenantId}/${attachment.attachmentId}`, attachment);
  }
  async writeIngested(write: IngestedWrite) {
    const { message, ticket } = write;
    for (const a of write.attachments) this.attachments.set(`${a.tenantId}/${a.attachmentId}`, a);
    for (const index of write.requesterIndexes) {
      this.requesterLinks.set(`${message.tenantId}/${index}/${message.messageId}`, { tenantId: message.tenantId, mailboxId: message.mailboxId, ticketId: message.ticketId, messageId: message.messageId });
    }
    if (write.providerIdIndex) this.providerIds.set(`${message.tenantId}/${message.mailboxId}/${write.providerIdIndex}`, write.claim);
    this.tickets.set(`${ticket.tenantId}/${ticket.ticketId}`, ticket);
    if (this.failNextWriteBeforeMessage) {
      this.failNextWriteBeforeMessage = false;
      throw new Error('injected crash before the message write');
    }
    this.messages.set(`${message.tenantId}/${message.ticketId}/${message.messageId}`, message);
  }
  async listRequesterLinks(tenantId: string, index: string) {
    return [...this.requesterLinks].filter(([key]) => key.startsWith(`${tenantId}/${index}/`)).map(([, link]) => link);
  }
  async listRestrictions(tenantId: string) {
    return new Set([...this.restrictions].filter((r) => r.startsWith(`${tenantId}/`)).map((r) => r.slice(tenantId.length + 1)));
  }
  async setRestriction(tenantId: string, index: string, restricted: boolean) {
    if (restricted) this.restrictions.add(`${tenantId}/${index}`);
    else this.restrictions.delete(`${tenantId}/${index}`);
  }
  async replaceMessage(message: MessageRecord) {
    this.messages.set(`${message.tenantId}/${message.ticketId}/${message.messageId}`, message);
  }
  async replaceTicket(ticket: TicketRecord) {
    this.tickets.set(`${ticket.tenantId}/${ticket.ticketId}`, ticket);
  }
  async deleteMessage(message: Pick<MessageRecord, 'tenantId' | 'ticketId' | 'messageId'>, attachments: AttachmentRecord[], linkIndexes: string[]) {
    for (const index of linkIndexes) this.requesterLinks.delete(`${message.tenantId}/${index}/${message.messageId}`);
    for (const a of attachments) this.attachments.delete(`${a.tenantId}/${a.attachmentId}`);
    this.messages.delete(`${message.tenantId}/${message.ticketId}/${message.messageId}`);
  }
  async deleteRequesterLinks(tenantId: string, index: string, messageIds: string[]) {
    for (const id of messageIds) this.requesterLinks.delete(`${tenantId}/${index}/${id}`);
  }
  async putRequesterLinks(index: string, links: RequesterLink[]) {
    for (const link of links) this.requesterLinks.set(`${link.tenantId}/${index}/${link.messageId}`, link);
  }
  async deleteTicketItem(tenantId: string, ticketId: string) {
    this.tickets.delete(`${tenantId}/${ticketId}`);
  }
  async writeSuppressed(record: SuppressedRecord, claim: IngestClaim, providerIdIndex?: string, requesterIndexes: string[] = []) {
    for (const index of requesterIndexes) {
      this.requesterLinks.set(`${record.tenantId}/${index}/${record.messageId}`, { tenantId: record.tenantId, mailboxId: record.mailboxId, ticketId: null, messageId: record.messageId });
    }
    if (providerIdIndex) this.providerIds.set(`${record.tenantId}/${record.mailboxId}/${providerIdIndex}`, claim);
    this.suppressed.set(`${record.tenantId}/${record.mailboxId}/${record.messageId}`, record);
  }
  async getSuppressed(tenantId: string, mailboxId: string, messageId: string) {
    return this.suppressed.get(`${tenantId}/${mailboxId}/${messageId}`);
  }
  async replaceSuppressed(record: SuppressedRecord) {
    const key = `${record.tenantId}/${record.mailboxId}/${record.messageId}`;
    if (!this.suppressed.has(key)) throw new Error('no such suppressed record');
    this.suppressed.set(key, record);
  }
  async deleteSuppressed(record: Pick<SuppressedRecord, 'tenantId' | 'mailboxId' | 'messageId'>, linkIndexes: string[]) {
    for (const index of linkIndexes) this.requesterLinks.delete(`${record.tenantId}/${index}/${record.messageId}`);
    this.suppressed.delete(`${record.tenantId}/${record.mailboxId}/${record.messageId}`);
  }
}

export class MemoryBlobStore implements BlobStore {
  readonly objects = new Map<string, Buffer>();
  async put(key: string, body: Readable | Uint8Array) {
    const chunks: Buffer[] = [];
    if (body instanceof Uint8Array) chunks.push(Buffer.from(body));
    else for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    this.objects.set(key, Buffer.concat(chunks));
  }
  async get(key: string) {
    const value = this.objects.get(key);
    if (!value) throw new BlobNotFound(`no object ${key}`);
    return Readable.from([value]);
  }
  async delete(keys: readonly string[]) {
    for (const key of keys) this.objects.delete(key);
  }
  async *list(prefix: string) {
    for (const key of this.objects.keys()) if (key.startsWith(prefix)) yield { key, lastModified: new Date(0) };
  }
}

/** Real AES-256-GCM under a per-tenant key, with the context as associated data. */
export class MemoryKeyService implements KeyService {
  private readonly tenantKeys = new Map<string, Buffer>();

  private key(tenantId: string): Buffer {
    let key = this.tenantKeys.get(tenantId);
    if (!key) this.tenantKeys.set(tenantId, (key = randomBytes(32)));
    return key;
  }
  private aad(context: EncryptionContext): Buffer {
    return Buffer.from(JSON.stringify([context.tenantId, context.mailboxId, context.purpose]));
  }
  async encrypt(plaintext: Uint8Array, context: EncryptionContext) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(context.tenantId), iv).setAAD(this.aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }
  async decrypt(ciphertext: Uint8Array, context: EncryptionContext) {
    const data = Buffer.from(ciphertext);
    const decipher = createDecipheriv('aes-256-gcm', this.key(context.tenantId), data.subarray(0, 12)).setAAD(this.aad(context));
    decipher.setAuthTag(data.subarray(12, 28));
    return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
  }
  encryptStream(context: EncryptionContext): Duplex {
    const chunks: Buffer[] = [];
    const encrypt = (plain: Buffer) => this.encrypt(plain, context);
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
      flush(callback) {
        encrypt(Buffer.concat(chunks)).then((c) => callback(null, c), callback);
      },
    });
  }
  decryptStream(context: EncryptionContext): Duplex {
    const chunks: Buffer[] = [];
    const decrypt = (cipher: Buffer) => this.decrypt(cipher, context);
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
      flush(callback) {
        decrypt(Buffer.concat(chunks)).then((p) => callback(null, p), callback);
      },
    });
  }
  async blindIndex(tenantId: string, kind: string, value: string) {
    return createHmac('sha256', this.key(tenantId)).update(`${kind}\0${value}`).digest('hex');
  }
}

/** Flags the EICAR test string, like any real engine would; everything else is clean. */
export class EicarScanner implements Scanner {
  verdictOverride: ScanVerdict | null = null;
  async scan(content: Readable): Promise<ScanVerdict> {
    const body = await text(content.pipe(new PassThrough()));
    if (this.verdictOverride) return this.verdictOverride;
    return body.includes('EICAR-STANDARD-ANTIVIRUS-TEST-FILE') ? { status: 'infected', signature: 'Eicar-Test-Signature' } : { status: 'clean' };
  }
}

export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-24T12:00:00Z')) {}
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export class SequentialIds implements IdGenerator {
  private n = 0;
  next() {
    return `01J${String(++this.n).padStart(23, '0')}`;
  }
  randomToken() {
    return randomBytes(20).toString('hex');
  }
}

export class MemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  async append(tenantId: string, build: (prevHash: string) => AuditRecord) {
    const mine = this.records.filter((r) => r.tenantId === tenantId);
    const record = build(mine.at(-1)?.hash ?? GENESIS_HASH);
    this.records.push(record);
    return record;
  }
  async list(tenantId: string) {
    return this.records.filter((r) => r.tenantId === tenantId);
  }
}

export const TEST_ACCESSOR = { actor: 'test:runner', reason: 'automated test' };
