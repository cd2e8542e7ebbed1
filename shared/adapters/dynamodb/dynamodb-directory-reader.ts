// The provider directory's read side alone: the webhooks' one lookup (a push or notification names
// an address or subscription, the entry names the mailbox). Kept apart from the repository so the
// Gmail push webhook bundles GetItem and nothing of the ticket store's writes, queries and
// marshalling; the repository answers the same lookup through it (the Graph webhook still needs the
// repository for entries written before they carried the clientState digest).
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DirectoryEntry, MailboxDirectory, ProviderKind } from '../../domain/ports.js';
import { translateDynamoDbError } from './errors.js';
import { DIRECTORY_SK, directoryPk } from './keys.js';

export class DynamoDbDirectoryReader implements Pick<MailboxDirectory, 'findAddress'> {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async findAddress(provider: ProviderKind, addressIndex: string): Promise<DirectoryEntry | undefined> {
    const request = new GetItemCommand({
      TableName: this.tableName,
      Key: { PK: { S: directoryPk(provider, addressIndex) }, SK: { S: DIRECTORY_SK } },
      ProjectionExpression: 'tenantId, mailboxId, clientStateIndex',
      ConsistentRead: true,
    });
    let item;
    try {
      ({ Item: item } = await this.client.send(request));
    } catch (error) {
      throw translateDynamoDbError(error);
    }
    const tenantId = item?.tenantId?.S;
    const mailboxId = item?.mailboxId?.S;
    if (!tenantId || !mailboxId) return undefined;
    const clientStateIndex = item?.clientStateIndex?.S;
    return { tenantId, mailboxId, ...(clientStateIndex ? { clientStateIndex } : {}) };
  }
}
