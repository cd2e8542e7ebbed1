// TicketRepository on one DynamoDB table (see keys.ts for the layout). No TransactWriteItems:
// dynalite lacks it, and the domain does not need it: the claim is a conditional put, every other
// write is idempotent, and the message item goes last so its presence means "complete".
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DependencyUnavailable } from '../../domain/errors.js';
import { DynamoDbDirectoryReader } from './dynamodb-directory-reader.js';
import { translateDynamoDbError } from './errors.js';
import type { AttachmentRecord, MailboxRecord, MailboxStatus, MessageRecord, ProviderConnection, SuppressedRecord, TicketRecord } from '../../domain/model.js';
import type {
  ClaimResult,
  DirectoryEntry,
  IngestClaim,
  IngestedWrite,
  MailboxDirectory,
  MailboxOwner,
  ProviderKind,
  ReplyIntent,
  ReplyIntentStore,
  RequesterLink,
  RetentionRepository,
  StoredItemRef,
  TenantClosure,
  TicketRepository,
} from '../../domain/ports.js';
import * as k from './keys.js';

type Item = Record<string, AttributeValue>;

const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'GSI3PK', 'GSI3SK', 'MBX', 'entity'];
const BATCH_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
const MAX_BATCH_ATTEMPTS = 8;

export class DynamoDbTicketRepository implements TicketRepository, RetentionRepository, MailboxDirectory, ReplyIntentStore {
  private readonly directoryReader: DynamoDbDirectoryReader;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.directoryReader = new DynamoDbDirectoryReader(client, tableName);
  }

  // ── mailboxes ──────────────────────────────────────────────────────────────
  async getMailbox(tenantId: string, mailboxId: string): Promise<MailboxRecord | undefined> {
    return this.get<MailboxRecord>(k.tenantPk(tenantId), k.mailboxSk(mailboxId));
  }

  async putMailbox(mailbox: MailboxRecord): Promise<void> {
    // A disconnected mailbox sits in the deadline index, which the backstop sweep walks: at its
    // recheck while one is pending, else at its deadline until it is purged. A connected provider
    // mailbox sits in its provider's index instead (the two never overlap).
    const dueAt = mailbox.purgeBy ? (mailbox.recheckAt ?? (mailbox.purgedAt ? undefined : mailbox.purgeBy)) : undefined;
    const due = dueAt ? { GSI1PK: k.PURGE_DUE, GSI1SK: `${dueAt}#${mailbox.tenantId}#${mailbox.mailboxId}` } : {};
    const connected =
      mailbox.status !== 'disconnected' && mailbox.provider !== 'local' ? { GSI1PK: k.connectedOf(mailbox.provider), GSI1SK: `${mailbox.tenantId}#${mailbox.mailboxId}` } : {};
    await this.put({ PK: k.tenantPk(mailbox.tenantId), SK: k.mailboxSk(mailbox.mailboxId), entity: 'mailbox', ...due, ...connected, ...mailbox });
  }

  async updateConnection(tenantId: string, mailboxId: string, patch: Partial<ProviderConnection>, status?: MailboxStatus): Promise<boolean> {
    const names: Record<string, string> = { '#c': 'connection', '#status': 'status' };
    const values: Record<string, unknown> = { ':disconnected': 'disconnected' };
    const sets: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#c.#${field} = :${field}`);
    }
    if (status) {
      values[':status'] = status;
      sets.push('#status = :status');
    }
    if (sets.length === 0) return true;
    try {
      await this.call(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: marshall({ PK: k.tenantPk(tenantId), SK: k.mailboxSk(mailboxId) }),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: 'attribute_exists(#c) AND #status <> :disconnected',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  // ── reply intents ──────────────────────────────────────────────────────────
  async getReplyIntent(tenantId: string, ticketId: string, token: string): Promise<ReplyIntent | undefined> {
    return this.get<ReplyIntent>(k.ticketPk(tenantId, ticketId), k.replyIntentSk(token));
  }

  async putReplyIntent(intent: ReplyIntent): Promise<ReplyIntent> {
    try {
      await this.put(
        { PK: k.ticketPk(intent.tenantId, intent.ticketId), SK: k.replyIntentSk(intent.token), MBX: k.mbx(intent.tenantId, intent.mailboxId), entity: 'reply-intent', ...intent },
        'attribute_not_exists(PK)',
      );
      return intent;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return (await this.getReplyIntent(intent.tenantId, intent.ticketId, intent.token)) ?? intent;
    }
  }

  // ── provider directory ─────────────────────────────────────────────────────
  async claimAddress(provider: ProviderKind, addressIndex: string, owner: MailboxOwner, details: Pick<DirectoryEntry, 'clientStateIndex'> = {}): Promise<MailboxOwner> {
    const key = { PK: k.directoryPk(provider, addressIndex), SK: k.DIRECTORY_SK };
    try {
      await this.put(
        {
          ...key,
          MBX: k.mbx(owner.tenantId, owner.mailboxId),
          entity: 'directory',
          tenantId: owner.tenantId,
          mailboxId: owner.mailboxId,
          ...(details.clientStateIndex ? { clientStateIndex: details.clientStateIndex } : {}),
        },
        'attribute_not_exists(PK) OR (tenantId = :t AND mailboxId = :m)',
        marshall({ ':t': owner.tenantId, ':m': owner.mailboxId }),
      );
      return owner;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = await this.findAddress(provider, addressIndex);
      return holder ? { tenantId: holder.tenantId, mailboxId: holder.mailboxId } : this.claimAddress(provider, addressIndex, owner, details);
    }
  }

  async findAddress(provider: ProviderKind, addressIndex: string): Promise<DirectoryEntry | undefined> {
    return this.directoryReader.findAddress(provider, addressIndex);
  }

  async releaseAddress(provider: ProviderKind, addressIndex: string, owner: MailboxOwner): Promise<void> {
    try {
      await this.call(() =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: marshall({ PK: k.directoryPk(provider, addressIndex), SK: k.DIRECTORY_SK }),
            ConditionExpression: 'attribute_not_exists(PK) OR (tenantId = :t AND mailboxId = :m)',
            ExpressionAttributeValues: marshall({ ':t': owner.tenantId, ':m': owner.mailboxId }),
          }),
        ),
      );
    } catch (error) {
      // Another mailbox holds the address now: it is not ours to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async listConnected(provider: ProviderKind): Promise<MailboxRecord[]> {
    return this.query<MailboxRecord>({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: marshall({ ':pk': k.connectedOf(provider) }),
    });
  }

  async listMailboxes(tenantId: string): Promise<MailboxRecord[]> {
    return this.query<MailboxRecord>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: marshall({ ':pk': k.tenantPk(tenantId), ':prefix': 'MB#' }),
    });
  }

  // ── claims ─────────────────────────────────────────────────────────────────
  async findByProviderId(tenantId: string, mailboxId: string, providerIdIndex: string): Promise<IngestClaim | undefined> {
    return this.get<IngestClaim>(k.providerIdPk(tenantId, mailboxId, providerIdIndex), k.CLAIM_SK);
  }

  async claim(claim: IngestClaim): Promise<ClaimResult> {
    const PK = k.claimPk(claim.tenantId, claim.mailboxId, claim.fingerprint);
    try {
      await this.put({ PK, SK: k.CLAIM_SK, MBX: k.mbx(claim.tenantId, claim.mailboxId), entity: 'claim', ...claim }, 'attribute_not_exists(PK)');
      return { outcome: 'claimed' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get<IngestClaim>(PK, k.CLAIM_SK);
      if (!existing) throw new DependencyUnavailable('claim vanished between the conditional put and its read');
      return { outcome: 'exists', claim: existing };
    }
  }

  async takeOverClaim(previous: IngestClaim, next: IngestClaim): Promise<boolean> {
    const PK = k.claimPk(next.tenantId, next.mailboxId, next.fingerprint);
    try {
      await this.put({ PK, SK: k.CLAIM_SK, MBX: k.mbx(next.tenantId, next.mailboxId), entity: 'claim', ...next }, 'ingestId = :previous', {
        ':previous': { S: previous.ingestId },
      });
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async messageExists(tenantId: string, ticketId: string | null, mailboxId: string, messageId: string): Promise<boolean> {
    const [PK, SK] = ticketId === null ? [k.suppressedPk(tenantId, mailboxId), k.messageSk(messageId)] : [k.ticketPk(tenantId, ticketId), k.messageSk(messageId)];
    const out = await this.call(() => this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ PK, SK }), ConsistentRead: true, ProjectionExpression: 'PK' }),
    ));
    return out.Item !== undefined;
  }

  // ── threading lookups ──────────────────────────────────────────────────────
  async findTicketsByMessageIdIndex(tenantId: string, mailboxId: string, messageIdIndex: string): Promise<string[]> {
    return this.ticketIdsFromIndex('GSI2', 'GSI2PK', k.messageIdLookup(tenantId, mailboxId, messageIdIndex), 'GSI2SK');
  }

  async findTicketsByProviderThread(tenantId: string, mailboxId: string, threadIndex: string): Promise<string[]> {
    return this.ticketIdsFromIndex('GSI3', 'GSI3PK', k.providerThreadLookup(tenantId, mailboxId, threadIndex), 'GSI3SK');
  }

  private async ticketIdsFromIndex(index: string, hash: string, value: string, range: string): Promise<string[]> {
    const items = await this.queryRaw({
      IndexName: index,
      KeyConditionExpression: `${hash} = :v`,
      ExpressionAttributeValues: { ':v': { S: value } },
      ScanIndexForward: false,
    });
    return [...new Set(items.map((item) => (item[range]?.S ?? '').split('#')[0] ?? '').filter(Boolean))];
  }

  // ── reads ──────────────────────────────────────────────────────────────────
  async getTicket(tenantId: string, ticketId: string): Promise<TicketRecord | undefined> {
    const ticket = await this.get<TicketRecord & { participantIndexes: Set<string> | string[] }>(k.ticketPk(tenantId, ticketId), k.TICKET_SK);
    return ticket && normalizeTicket(ticket);
  }

  async listTickets(tenantId: string, mailboxId?: string): Promise<TicketRecord[]> {
    const mailboxIds = mailboxId ? [mailboxId] : (await this.listMailboxes(tenantId)).map((m) => m.mailboxId);
    const perMailbox = await Promise.all(
      mailboxIds.map((m) =>
        this.query<TicketRecord>({
          IndexName: 'GSI1',
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': { S: k.ticketsOfMailbox(tenantId, m) } },
          ScanIndexForward: false,
        }),
      ),
    );
    return perMailbox
      .flat()
      .map(normalizeTicket)
      .sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt) || b.ticketId.localeCompare(a.ticketId));
  }

  async hasMessages(tenantId: string, ticketId: string): Promise<boolean> {
    const out = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: marshall({ ':pk': k.ticketPk(tenantId, ticketId), ':prefix': 'M#' }),
          ProjectionExpression: 'PK',
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    return (out.Items?.length ?? 0) > 0;
  }

  async listMessages(tenantId: string, ticketId: string): Promise<MessageRecord[]> {
    return this.query<MessageRecord>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: marshall({ ':pk': k.ticketPk(tenantId, ticketId), ':prefix': 'M#' }),
      ConsistentRead: true,
    });
  }

  async listAttachments(tenantId: string, ticketId: string): Promise<AttachmentRecord[]> {
    return this.query<AttachmentRecord>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: marshall({ ':pk': k.ticketPk(tenantId, ticketId), ':prefix': 'A#' }),
      ConsistentRead: true,
    });
  }

  async getAttachment(tenantId: string, attachmentId: string): Promise<AttachmentRecord | undefined> {
    const [first] = await this.query<AttachmentRecord>({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': { S: k.attachmentLookup(tenantId, attachmentId) } },
    });
    return first?.tenantId === tenantId ? first : undefined;
  }

  async listHeldAttachments(tenantId: string): Promise<AttachmentRecord[]> {
    return this.query<AttachmentRecord>({
      IndexName: 'GSI2',
      KeyConditionExpression: 'GSI2PK = :pk',
      ExpressionAttributeValues: { ':pk': { S: k.heldAttachments(tenantId) } },
    });
  }

  async updateAttachmentScan(attachment: AttachmentRecord): Promise<void> {
    // An update of the verdict's fields, not a put of the record read before the scan: an attachment
    // purged meanwhile stays purged, and a TTL stamped meanwhile (a disconnect) stays on it.
    const held = isHeld(attachment);
    const names: Record<string, string> = { '#scan': 'scan', '#blobKey': 'blobKey', '#detail': 'scanDetail', '#held': 'GSI2PK', '#heldSk': 'GSI2SK' };
    const values: Record<string, unknown> = { ':scan': attachment.scan, ':blobKey': attachment.blobKey };
    const sets = ['#scan = :scan', '#blobKey = :blobKey'];
    const removes: string[] = [];
    if (attachment.scanDetail) {
      sets.push('#detail = :detail');
      values[':detail'] = attachment.scanDetail;
    } else removes.push('#detail');
    if (held) {
      sets.push('#held = :held', '#heldSk = :heldSk');
      values[':held'] = k.heldAttachments(attachment.tenantId);
      values[':heldSk'] = attachment.attachmentId;
    } else removes.push('#held', '#heldSk');
    try {
      await this.call(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: marshall({ PK: k.ticketPk(attachment.tenantId, attachment.ticketId), SK: k.attachmentSk(attachment.messageId, attachment.attachmentId) }),
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  // ── writes ─────────────────────────────────────────────────────────────────
  async writeIngested(write: IngestedWrite): Promise<void> {
    const { ticket, message } = write;
    const { tenantId, mailboxId } = message;
    const expires = message.expiresAt ? { expiresAt: message.expiresAt } : {};
    const secondary: Item[] = [
      ...write.attachments.map(attachmentItem),
      ...write.requesterIndexes.map((index) => linkItem(index, { tenantId, mailboxId, ticketId: message.ticketId, messageId: message.messageId }, expires)),
    ];
    if (write.providerIdIndex) {
      secondary.push(
        toItem({ PK: k.providerIdPk(tenantId, mailboxId, write.providerIdIndex), SK: k.CLAIM_SK, MBX: k.mbx(tenantId, mailboxId), entity: 'provider-id', ...write.claim, ...expires }),
      );
    }
    if (write.ticketIsNew) secondary.push(ticketItem(ticket));
    await this.batchPut(secondary);
    if (!write.ticketIsNew) await this.touchTicket(ticket);
    await this.call(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: messageItem(message) })));
  }

  async writeSuppressed(record: SuppressedRecord, claim: IngestClaim, providerIdIndex?: string, requesterIndexes: string[] = []): Promise<void> {
    const { tenantId, mailboxId } = record;
    const expires = record.expiresAt ? { expiresAt: record.expiresAt } : {};
    // The links and the provider id in one batch, the record last: its presence means "complete".
    const secondary: Item[] = requesterIndexes.map((index) =>
      linkItem(index, { tenantId, mailboxId, ticketId: null, messageId: record.messageId }, expires),
    );
    if (providerIdIndex) {
      secondary.push(toItem({ PK: k.providerIdPk(tenantId, mailboxId, providerIdIndex), SK: k.CLAIM_SK, MBX: k.mbx(tenantId, mailboxId), entity: 'provider-id', ...claim, ...expires }));
    }
    await this.batchPut(secondary);
    await this.put({ PK: k.suppressedPk(tenantId, mailboxId), SK: k.messageSk(record.messageId), MBX: k.mbx(tenantId, mailboxId), entity: 'suppressed', ...record });
  }

  /** Appending: later activity and the new participant, both idempotent. */
  private async touchTicket(ticket: TicketRecord): Promise<void> {
    await this.call(() => this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ PK: k.ticketPk(ticket.tenantId, ticket.ticketId), SK: k.TICKET_SK }),
        // DynamoDB has no empty set: with no participant (mail without a sender address) nothing is added.
        UpdateExpression: `SET lastActivityAt = :at, GSI1SK = :sk${ticket.participantIndexes.length ? ' ADD participantIndexes :p' : ''}`,
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: {
          ':at': { S: ticket.lastActivityAt },
          ':sk': { S: `${ticket.lastActivityAt}#${ticket.ticketId}` },
          ...(ticket.participantIndexes.length ? { ':p': { SS: ticket.participantIndexes } } : {}),
        },
      }),
    ));
  }

  private async batchPut(items: Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH_LIMIT) {
      let pending: WriteRequest[] = items.slice(i, i + BATCH_LIMIT).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > MAX_BATCH_ATTEMPTS) throw new DependencyUnavailable(`${pending.length} item(s) stayed unprocessed`);
        if (attempt > 1) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
        const out = await this.call(() => this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } })));
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  // ── data-subject requests ──────────────────────────────────────────────────
  async listRequesterLinks(tenantId: string, addressIndex: string): Promise<RequesterLink[]> {
    return this.query<RequesterLink>({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :m)',
      ExpressionAttributeValues: marshall({ ':pk': k.requesterPk(tenantId, addressIndex), ':m': 'M#' }),
      ConsistentRead: true,
    });
  }

  async listRestrictions(tenantId: string): Promise<Set<string>> {
    const items = await this.queryRaw({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': { S: k.restrictionsPk(tenantId) } }, ConsistentRead: true });
    return new Set(items.map((item) => item.SK?.S ?? '').filter(Boolean));
  }

  async setRestriction(tenantId: string, addressIndex: string, restricted: boolean): Promise<void> {
    const Key = marshall({ PK: k.restrictionsPk(tenantId), SK: addressIndex });
    if (restricted) await this.call(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: { ...Key, entity: { S: 'restriction' } } })));
    else await this.call(() => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key })));
  }

  async replaceMessage(message: MessageRecord): Promise<void> {
    await this.call(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: messageItem(message), ConditionExpression: 'attribute_exists(PK)' })));
  }

  async replaceTicket(ticket: TicketRecord): Promise<void> {
    await this.call(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: ticketItem(ticket), ConditionExpression: 'attribute_exists(PK)' })));
  }

  async deleteMessage(message: Pick<MessageRecord, 'tenantId' | 'ticketId' | 'messageId'>, attachments: AttachmentRecord[], linkIndexes: string[]): Promise<void> {
    const keys = [
      ...linkIndexes.map((index) => ({ PK: k.requesterPk(message.tenantId, index), SK: k.messageSk(message.messageId) })),
      ...attachments.map((a) => ({ PK: k.ticketPk(a.tenantId, a.ticketId), SK: k.attachmentSk(a.messageId, a.attachmentId) })),
      { PK: k.ticketPk(message.tenantId, message.ticketId), SK: k.messageSk(message.messageId) },
    ];
    await this.deleteItems(keys.map((key) => ({ ref: JSON.stringify([key.PK, key.SK]) })));
  }

  async deleteRequesterLinks(tenantId: string, addressIndex: string, messageIds: string[]): Promise<void> {
    await this.deleteItems(messageIds.map((id) => ({ ref: JSON.stringify([k.requesterPk(tenantId, addressIndex), k.messageSk(id)]) })));
  }

  async putRequesterLinks(addressIndex: string, links: RequesterLink[]): Promise<void> {
    await this.batchPut(links.map((link) => linkItem(addressIndex, link)));
  }

  async getSuppressed(tenantId: string, mailboxId: string, messageId: string): Promise<SuppressedRecord | undefined> {
    return this.get<SuppressedRecord>(k.suppressedPk(tenantId, mailboxId), k.messageSk(messageId));
  }

  async replaceSuppressed(record: SuppressedRecord): Promise<void> {
    await this.put(
      { PK: k.suppressedPk(record.tenantId, record.mailboxId), SK: k.messageSk(record.messageId), MBX: k.mbx(record.tenantId, record.mailboxId), entity: 'suppressed', ...record },
      'attribute_exists(PK)',
    );
  }

  async deleteSuppressed(record: Pick<SuppressedRecord, 'tenantId' | 'mailboxId' | 'messageId'>, linkIndexes: string[]): Promise<void> {
    const keys = [
      ...linkIndexes.map((index) => [k.requesterPk(record.tenantId, index), k.messageSk(record.messageId)]),
      [k.suppressedPk(record.tenantId, record.mailboxId), k.messageSk(record.messageId)],
    ];
    await this.deleteItems(keys.map((key) => ({ ref: JSON.stringify(key) })));
  }

  async deleteTicketItem(tenantId: string, ticketId: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: marshall({ PK: k.ticketPk(tenantId, ticketId), SK: k.TICKET_SK }) })));
  }

  // ── retention ──────────────────────────────────────────────────────────────
  async listPurgeDue(cutoff: Date): Promise<MailboxRecord[]> {
    return this.query<MailboxRecord>({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK <= :cutoff',
      // '~' sorts after every id character: every mailbox due at the cutoff instant is included.
      ExpressionAttributeValues: { ':pk': { S: k.PURGE_DUE }, ':cutoff': { S: `${cutoff.toISOString()}~` } },
    });
  }

  async listMailboxItems(tenantId: string, mailboxId: string, cursor?: string): Promise<{ items: StoredItemRef[]; cursor?: string }> {
    const out = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'GSI4',
          KeyConditionExpression: 'MBX = :m',
          ExpressionAttributeValues: { ':m': { S: k.mbx(tenantId, mailboxId) } },
          Limit: 500,
          ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Item } : {}),
        }),
      ),
    );
    const items = (out.Items ?? []).map((item) => ({ ref: JSON.stringify([item.PK?.S, item.SK?.S]) }));
    return { items, ...(out.LastEvaluatedKey ? { cursor: Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') } : {}) };
  }

  // ── orphan sweep ───────────────────────────────────────────────────────────
  // The index GSI4 lists every item of a mailbox by key only (KEYS_ONLY keeps it cheap to write), so
  // the fields the sweep needs are read back by key, in batches of 100, projected to those fields.
  // Claims first: they are small (one per message) and name every ingestion that completed, so the
  // sweep reads the larger message items only when some old object group is named by no claim.

  async listClaimedIngestions(tenantId: string, mailboxId: string, cursor?: string): Promise<{ ingestIds: string[]; cursor?: string }> {
    // Claim and provider-id items share the sort key CLAIM; both name the ingestion that holds it.
    const page = await this.mailboxKeys(tenantId, mailboxId, cursor, k.CLAIM_SK);
    const items = await this.batchGet(page.keys, ['ingestId']);
    const ingestIds = items.flatMap((item) => (item.ingestId?.S ? [item.ingestId.S] : []));
    return { ingestIds, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  async listObjectReferences(tenantId: string, mailboxId: string, cursor?: string): Promise<{ objectKeys: string[]; cursor?: string }> {
    const page = await this.mailboxKeys(tenantId, mailboxId, cursor);
    // Every kind of item is read except those that by construction never name an object (their
    // layout is in keys.ts); an item kind added later is read, not skipped.
    const keys = page.keys.filter(({ PK, SK }) => !(SK === k.TICKET_SK || SK === k.CLAIM_SK || SK.startsWith('R#') || PK.includes('#RQ#') || PK.startsWith('DIR#')));
    const items = await this.batchGet(keys, ['rawKey', 'bodyKey', 'blobKey']);
    const objectKeys = items.flatMap((item) => ['rawKey', 'bodyKey', 'blobKey'].flatMap((field) => (item[field]?.S ? [item[field].S] : [])));
    return { objectKeys, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  private async mailboxKeys(tenantId: string, mailboxId: string, cursor: string | undefined, sortKey?: string): Promise<{ keys: Array<{ PK: string; SK: string }>; cursor?: string }> {
    const out = await this.call(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'GSI4',
          KeyConditionExpression: sortKey ? 'MBX = :m AND SK = :sk' : 'MBX = :m',
          ExpressionAttributeValues: { ':m': { S: k.mbx(tenantId, mailboxId) }, ...(sortKey ? { ':sk': { S: sortKey } } : {}) },
          Limit: 500,
          ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Item } : {}),
        }),
      ),
    );
    const keys = (out.Items ?? []).flatMap((item) => (item.PK?.S && item.SK?.S ? [{ PK: item.PK.S, SK: item.SK.S }] : []));
    return { keys, ...(out.LastEvaluatedKey ? { cursor: Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') } : {}) };
  }

  /** The named fields of each keyed item (an item deleted meanwhile is simply absent). */
  private async batchGet(keys: Array<{ PK: string; SK: string }>, fields: string[]): Promise<Item[]> {
    const found: Item[] = [];
    const names = Object.fromEntries(fields.map((field, i) => [`#f${i}`, field]));
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Item[] = keys.slice(i, i + BATCH_GET_LIMIT).map((key) => marshall(key));
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > MAX_BATCH_ATTEMPTS) throw new DependencyUnavailable(`${pending.length} read(s) stayed unprocessed`);
        if (attempt > 1) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
        const out = await this.call(() =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } },
            }),
          ),
        );
        found.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  async setExpiry(items: StoredItemRef[], expiresAt: number): Promise<number> {
    let stamped = 0;
    for (const item of items) {
      const [PK, SK] = JSON.parse(item.ref) as [string, string];
      try {
        await this.call(() =>
          this.client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: marshall({ PK, SK }),
              UpdateExpression: 'SET expiresAt = :e',
              // Never postpone a deadline, never resurrect a deleted item.
              ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(expiresAt) OR expiresAt > :e)',
              ExpressionAttributeValues: { ':e': { N: String(expiresAt) } },
            }),
          ),
        );
        stamped++;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return stamped;
  }

  async deleteTenantRecords(tenantId: string): Promise<number> {
    const items = await this.tenantRecords(tenantId);
    await this.deleteItems(items);
    return items.length;
  }

  async setTenantRecordsExpiry(tenantId: string, expiresAt: number): Promise<number> {
    const items = await this.tenantRecords(tenantId);
    await this.setExpiry(items, expiresAt);
    return items.length;
  }

  /** The tenant's records outside any mailbox: restriction list, access log, consent records. */
  private async tenantRecords(tenantId: string): Promise<StoredItemRef[]> {
    const refs: StoredItemRef[] = [];
    for (const PK of [k.restrictionsPk(tenantId), k.auditPk(tenantId), k.consentPk(tenantId)]) {
      const items = await this.queryRaw({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': { S: PK } }, ProjectionExpression: 'PK, SK' });
      refs.push(...items.map((item) => ({ ref: JSON.stringify([item.PK?.S, item.SK?.S]) })));
    }
    return refs;
  }

  async recordTenantClosure(closure: TenantClosure): Promise<TenantClosure> {
    try {
      await this.put(closureItem(closure), 'attribute_not_exists(PK)');
      return closure;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return (await this.get<TenantClosure>(k.tenantPk(closure.tenantId), k.CLOSURE_SK)) ?? closure;
    }
  }

  async listTenantClosuresDue(cutoff: Date): Promise<TenantClosure[]> {
    return this.query<TenantClosure>({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK <= :cutoff',
      ExpressionAttributeValues: { ':pk': { S: k.TENANT_PURGE_DUE }, ':cutoff': { S: `${cutoff.toISOString()}~` } },
    });
  }

  async markTenantPurged(closure: TenantClosure, purgedAt: string): Promise<void> {
    await this.put(closureItem({ ...closure, purgedAt }));
  }

  async deleteItems(items: StoredItemRef[]): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH_LIMIT) {
      let pending: WriteRequest[] = items.slice(i, i + BATCH_LIMIT).map((item) => {
        const [PK, SK] = JSON.parse(item.ref) as [string, string];
        return { DeleteRequest: { Key: marshall({ PK, SK }) } };
      });
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > MAX_BATCH_ATTEMPTS) throw new DependencyUnavailable(`${pending.length} deletion(s) stayed unprocessed`);
        if (attempt > 1) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
        const out = await this.call(() => this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } })));
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  // ── plumbing ───────────────────────────────────────────────────────────────
  private async get<T>(PK: string, SK: string): Promise<T | undefined> {
    const out = await this.call(() => this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ PK, SK }), ConsistentRead: true })));
    return out.Item ? fromItem<T>(out.Item) : undefined;
  }

  private async put(record: Record<string, unknown>, condition?: string, values?: Item): Promise<void> {
    await this.call(() => this.client.send(new PutItemCommand({
        TableName: this.tableName,
        Item: toItem(record),
        ...(condition ? { ConditionExpression: condition } : {}),
        ...(values ? { ExpressionAttributeValues: values } : {}),
      }),
    ));
  }

  private async query<T>(input: Omit<QueryCommandInput, 'TableName'>): Promise<T[]> {
    return (await this.queryRaw(input)).map((item) => fromItem<T>(item));
  }

  private async queryRaw(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const out = await this.call(() => this.client.send(new QueryCommand({ TableName: this.tableName, ...input, ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}) })));
      items.push(...(out.Items ?? []));
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  // Every call goes through here so SDK failures reach the domain typed.
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw translateDynamoDbError(error);
    }
  }
}


/** A closure sits in the tenants' deadline index until its records are purged. */
function closureItem(closure: TenantClosure): Record<string, unknown> {
  const due = closure.purgedAt ? {} : { GSI1PK: k.TENANT_PURGE_DUE, GSI1SK: `${closure.purgeBy}#${closure.tenantId}` };
  return { PK: k.tenantPk(closure.tenantId), SK: k.CLOSURE_SK, entity: 'tenant-closure', ...due, ...closure };
}

/** A requester link: which message (or robot message, ticketId null) names an address's blind index. */
function linkItem(addressIndex: string, link: RequesterLink, expires: { expiresAt?: number } = {}): Item {
  return toItem({
    PK: k.requesterPk(link.tenantId, addressIndex),
    SK: k.messageSk(link.messageId),
    MBX: k.mbx(link.tenantId, link.mailboxId),
    entity: 'requester-link',
    tenantId: link.tenantId,
    mailboxId: link.mailboxId,
    ticketId: link.ticketId,
    messageId: link.messageId,
    ...expires,
  });
}

function ticketItem(ticket: TicketRecord): Item {
  return toItem({
    PK: k.ticketPk(ticket.tenantId, ticket.ticketId),
    SK: k.TICKET_SK,
    GSI1PK: k.ticketsOfMailbox(ticket.tenantId, ticket.mailboxId),
    GSI1SK: `${ticket.lastActivityAt}#${ticket.ticketId}`,
    MBX: k.mbx(ticket.tenantId, ticket.mailboxId),
    entity: 'ticket',
    ...ticket,
    // A string set; DynamoDB has none empty, so a ticket without participants has no attribute.
    participantIndexes: ticket.participantIndexes.length ? new Set(ticket.participantIndexes) : undefined,
  });
}

function messageItem(message: MessageRecord): Item {
  const { tenantId: t, mailboxId: m } = message;
  return toItem({
    PK: k.ticketPk(t, message.ticketId),
    SK: k.messageSk(message.messageId),
    GSI2PK: k.messageIdLookup(t, m, message.messageIdIndex),
    GSI2SK: `${message.ticketId}#${message.messageId}`,
    ...(message.providerThreadIndex
      ? { GSI3PK: k.providerThreadLookup(t, m, message.providerThreadIndex), GSI3SK: `${message.ticketId}#${message.messageId}` }
      : {}),
    MBX: k.mbx(t, m),
    entity: 'message',
    ...message,
  });
}

/** Only held attachments (stored bytes awaiting a verdict) sit in the HELD index, so a rescan finds them without a Scan. */
function isHeld(a: AttachmentRecord): boolean {
  return (a.scan === 'unscanned' || a.scan === 'pending') && Boolean(a.blobKey);
}

function attachmentItem(a: AttachmentRecord): Item {
  return toItem({
    PK: k.ticketPk(a.tenantId, a.ticketId),
    SK: k.attachmentSk(a.messageId, a.attachmentId),
    GSI1PK: k.attachmentLookup(a.tenantId, a.attachmentId),
    GSI1SK: 'ATT',
    ...(isHeld(a) ? { GSI2PK: k.heldAttachments(a.tenantId), GSI2SK: a.attachmentId } : {}),
    MBX: k.mbx(a.tenantId, a.mailboxId),
    entity: 'attachment',
    ...a,
  });
}

function toItem(record: Record<string, unknown>): Item {
  return marshall(record, { removeUndefinedValues: true, convertClassInstanceToMap: false });
}

function fromItem<T>(item: Item): T {
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return plain as T;
}

function normalizeTicket(ticket: TicketRecord & { participantIndexes?: Set<string> | string[] }): TicketRecord {
  return { ...ticket, participantIndexes: [...(ticket.participantIndexes ?? [])] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
