// The ticket table: one table, keys and indexes from the same schema the local stack uses, a
// customer-managed key, point-in-time recovery, TTL on `expiresAt` (the 30-day purge) and a stream
// (the purge consumer deletes each expired item's objects).
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_SCHEMA, TTL_ATTRIBUTE } from '../../shared/adapters/dynamodb/table-schema.js';

function keyName(keys: ReadonlyArray<{ AttributeName: string }>, position: number): string {
  const key = keys[position];
  if (!key) throw new Error(`TABLE_SCHEMA lacks key ${position}`);
  return key.AttributeName;
}

export interface TicketStoreProps {
  readonly removalPolicy?: RemovalPolicy;
}

export class TicketStore extends Construct {
  public readonly table: dynamodb.TableV2;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: TicketStoreProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'mail2ticket ticket table',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const attribute = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: attribute(keyName(TABLE_SCHEMA.KeySchema, 0)),
      sortKey: attribute(keyName(TABLE_SCHEMA.KeySchema, 1)),
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(this.key),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      globalSecondaryIndexes: TABLE_SCHEMA.GlobalSecondaryIndexes.map((index) => {
        return {
          indexName: index.IndexName,
          partitionKey: attribute(keyName(index.KeySchema, 0)),
          sortKey: attribute(keyName(index.KeySchema, 1)),
          projectionType: index.Projection.ProjectionType === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
        };
      }),
    });
  }
}
