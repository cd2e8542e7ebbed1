// dynalite has neither TTL nor streams. This stands in for both, locally only: items whose
// `expiresAt` has passed (as of the given clock) are deleted and handed to the production stream
// handler as records of the production shape, with the TTL service's identity.
import { DeleteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { TTL_PRINCIPAL } from '../../functions/purge-stream/make-handler.js';

export interface TtlEmulatorOptions {
  client: DynamoDBClient;
  tableName: string;
  now: Date;
  /** The stream consumer; a test may drop records to prove the backstop. */
  deliver(event: DynamoDBStreamEvent): Promise<unknown>;
}

export async function expireItems(options: TtlEmulatorOptions): Promise<number> {
  const nowSeconds = Math.floor(options.now.getTime() / 1000);
  const records: DynamoDBRecord[] = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    // A Scan is fine here: this is the emulator of a background service, not a request path.
    const page = await options.client.send(
      new ScanCommand({
        TableName: options.tableName,
        FilterExpression: 'expiresAt <= :now',
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
        ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const Key = { PK: item.PK as AttributeValue, SK: item.SK as AttributeValue };
      const { Attributes } = await options.client.send(new DeleteItemCommand({ TableName: options.tableName, Key, ReturnValues: 'ALL_OLD' }));
      if (!Attributes) continue;
      records.push({
        eventID: `${records.length}`,
        eventName: 'REMOVE',
        eventSource: 'aws:dynamodb',
        awsRegion: 'local',
        userIdentity: { type: 'Service', principalId: TTL_PRINCIPAL },
        // The production types model AttributeValue loosely; the shapes are the same.
        dynamodb: { Keys: Key as never, OldImage: Attributes as never, StreamViewType: 'NEW_AND_OLD_IMAGES', SequenceNumber: `${records.length}` },
      });
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  for (let i = 0; i < records.length; i += 100) await options.deliver({ Records: records.slice(i, i + 100) });
  return records.length;
}
