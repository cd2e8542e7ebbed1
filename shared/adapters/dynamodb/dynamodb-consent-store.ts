// The consent site's records in the ticket table (keys in keys.ts). Sessions and states carry the
// table's TTL attribute, so DynamoDB removes them after use; the code never trusts TTL for validity
// (deletion lags by up to days) and checks `validUntil` itself.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  DeleteItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AdminSession, InviteRecord, OAuthState, TenantRecord } from '../../domain/consent/model.js';
import type { ConsentStore, TakenState } from '../../domain/consent/store.js';
import { translateDynamoDbError } from './errors.js';
import * as k from './keys.js';

type Item = Record<string, AttributeValue>;
const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'entity', 'expiresAt'];
const DAY_S = 86_400;
/** Used states stay this long after their validity, so a replay is told apart from a forged state. */
const STATE_MEMORY_S = DAY_S;
/** Invites outlive their validity by this much, so a late click meets "expired", not "invalid". */
const INVITE_MEMORY_S = 30 * DAY_S;

const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export class DynamoDbConsentStore implements ConsentStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async createTenant(tenant: TenantRecord): Promise<boolean> {
    return this.conditionalPut(
      { PK: k.consentPk(tenant.tenantId), SK: k.TENANT_SK, GSI1PK: k.TENANTS, GSI1SK: tenant.tenantId, entity: 'tenant', ...tenant },
      'attribute_not_exists(PK)',
    );
  }

  getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    return this.get(k.consentPk(tenantId), k.TENANT_SK);
  }

  async listTenants(): Promise<TenantRecord[]> {
    return this.query({ IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': { S: k.TENANTS } } });
  }

  async putInvite(invite: InviteRecord): Promise<void> {
    await this.conditionalPut(
      {
        PK: k.consentPk(invite.tenantId),
        SK: k.inviteSk(invite.inviteId),
        GSI1PK: k.inviteLookup(invite.inviteId),
        GSI1SK: invite.tenantId,
        entity: 'invite',
        expiresAt: epoch(invite.validUntil) + INVITE_MEMORY_S,
        ...invite,
      },
      undefined,
    );
  }

  getInvite(tenantId: string, inviteId: string): Promise<InviteRecord | undefined> {
    return this.get(k.consentPk(tenantId), k.inviteSk(inviteId));
  }

  async findInvite(inviteId: string): Promise<InviteRecord | undefined> {
    const [invite] = await this.query<InviteRecord>({
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': { S: k.inviteLookup(inviteId) } },
    });
    // The index is eventually consistent: read the item itself for its current status.
    return invite ? this.getInvite(invite.tenantId, inviteId) : undefined;
  }

  consumeInvite(tenantId: string, inviteId: string, at: string): Promise<boolean> {
    return this.transition(k.consentPk(tenantId), k.inviteSk(inviteId), 'used', 'usedAt', at);
  }

  revokeInvite(tenantId: string, inviteId: string, at: string): Promise<boolean> {
    return this.transition(k.consentPk(tenantId), k.inviteSk(inviteId), 'revoked', 'revokedAt', at);
  }

  async putSession(session: AdminSession): Promise<void> {
    await this.conditionalPut({ PK: k.sessionPk(session.sessionHash), SK: 'SESSION', entity: 'admin-session', expiresAt: epoch(session.validUntil), ...session }, 'attribute_not_exists(PK)');
  }

  getSession(sessionHash: string): Promise<AdminSession | undefined> {
    return this.get(k.sessionPk(sessionHash), 'SESSION');
  }

  async deleteSession(sessionHash: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: marshall({ PK: k.sessionPk(sessionHash), SK: 'SESSION' }) })));
  }

  async putState(state: OAuthState): Promise<void> {
    await this.conditionalPut({ PK: k.statePk(state.stateHash), SK: 'STATE', entity: 'oauth-state', expiresAt: epoch(state.validUntil) + STATE_MEMORY_S, ...state }, 'attribute_not_exists(PK)');
  }

  async takeState(stateHash: string, at: string): Promise<TakenState> {
    const Key = marshall({ PK: k.statePk(stateHash), SK: 'STATE' });
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET usedAt = :at',
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(usedAt)',
          ExpressionAttributeValues: marshall({ ':at': at }),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes ? { state: strip<OAuthState>(out.Attributes) } : undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw translate(error);
    }
    const used = await this.get<OAuthState>(k.statePk(stateHash), 'STATE');
    return used ? { replayed: used } : undefined;
  }

  // ── plumbing ───────────────────────────────────────────────────────────────

  private async transition(PK: string, SK: string, status: 'used' | 'revoked', stampName: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ PK, SK }),
          UpdateExpression: 'SET #status = :to, #stamp = :at',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status', '#stamp': stampName },
          ExpressionAttributeValues: marshall({ ':to': status, ':at': at, ':open': 'open' }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw translate(error);
    }
  }

  private async conditionalPut(record: Record<string, unknown>, condition: string | undefined): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({ TableName: this.tableName, Item: marshall(record, { removeUndefinedValues: true }), ...(condition ? { ConditionExpression: condition } : {}) }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw translate(error);
    }
  }

  private async get<T>(PK: string, SK: string): Promise<T | undefined> {
    const out = await this.call(() => this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ PK, SK }), ConsistentRead: true })));
    return out.Item ? strip<T>(out.Item) : undefined;
  }

  private async query<T>(input: { IndexName?: string; KeyConditionExpression: string; ExpressionAttributeValues: Item }): Promise<T[]> {
    const items: T[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const out = await this.call(() => this.client.send(new QueryCommand({ TableName: this.tableName, ...input, ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}) })));
      items.push(...(out.Items ?? []).map((item) => strip<T>(item)));
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw translate(error);
    }
  }
}

function strip<T>(item: Item): T {
  const plain = unmarshall(item);
  for (const key of KEY_ATTRIBUTES) delete plain[key];
  return plain as T;
}

const translate = (error: unknown) => translateDynamoDbError(error, 'the consent store');
