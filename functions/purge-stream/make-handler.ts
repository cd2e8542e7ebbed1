// DynamoDB stream consumer: when the TTL service deletes an item, the objects it pointed at go too.
// Only deletions by the TTL service count (the event source mapping filters the same way); a
// deletion by anyone else is not a retention event.
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { purgeObjectsOfDeletedItems, type RetentionDeps } from '../../shared/domain/retention.js';

export const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

export function isTtlDeletion(record: DynamoDBRecord): boolean {
  return record.eventName === 'REMOVE' && record.userIdentity?.type === 'Service' && record.userIdentity?.principalId === TTL_PRINCIPAL;
}

export function makeHandler(deps: Pick<RetentionDeps, 'blobs'>) {
  return async (event: DynamoDBStreamEvent): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> => {
    const images = event.Records.filter(isTtlDeletion)
      .map((record) => record.dynamodb?.OldImage)
      .filter((image): image is NonNullable<typeof image> => image !== undefined)
      .map((image) => unmarshall(image as Record<string, AttributeValue>));
    // Deletes are idempotent: a failure fails the batch and the whole batch is retried.
    const objects = await purgeObjectsOfDeletedItems(deps, images);
    logger.info('purged objects of expired items', { records: event.Records.length, objects });
    return { batchItemFailures: [] };
  };
}
