// The audit chain in the ticket table: records under T#t#AUDIT / A#<ulid>, and a head item holding
// the last hash. The head moves first, conditionally on the hash it had, so concurrent appends
// serialize; each record is then written once (attribute_not_exists). A crash between the two
// leaves a gap that `audit verify` reports — the chain errs towards alarm, never towards silence.
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DependencyUnavailable } from '../../domain/errors.js';
import { GENESIS_HASH, type AuditRecord } from '../../domain/audit.js';
import type { AuditLog } from '../../domain/ports.js';
import { auditPk } from './keys.js';

const MAX_ATTEMPTS = 40;

export class DynamoDbAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async append(tenantId: string, build: (prevHash: string) => AuditRecord): Promise<AuditRecord> {
    const PK = auditPk(tenantId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const head = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ PK, SK: 'HEAD' }), ConsistentRead: true }));
      const prevHash = head.Item?.hash?.S ?? GENESIS_HASH;
      const record = build(prevHash);
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: marshall({ PK, SK: 'HEAD' }),
            UpdateExpression: 'SET #hash = :next',
            ConditionExpression: head.Item ? '#hash = :prev' : 'attribute_not_exists(PK)',
            ExpressionAttributeNames: { '#hash': 'hash' },
            ExpressionAttributeValues: { ':next': { S: record.hash }, ...(head.Item ? { ':prev': { S: prevHash } } : {}) },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another append moved the head: back off a little, with jitter, and build on the new one.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6))));
        continue;
      }
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({ PK, SK: `A#${record.auditId}`, entity: 'audit', ...record }),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return record;
    }
    throw new DependencyUnavailable('the audit chain stayed contended');
  }

  async list(tenantId: string): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :a)',
          ExpressionAttributeValues: marshall({ ':pk': auditPk(tenantId), ':a': 'A#' }),
          ConsistentRead: true,
          ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        const { PK: _pk, SK: _sk, entity: _entity, ...record } = unmarshall(item);
        records.push(record as AuditRecord);
      }
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return records;
  }
}
