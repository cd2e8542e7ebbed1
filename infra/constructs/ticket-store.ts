// The ticket table: one table, keys and indexes built from the same TABLE_SCHEMA the local stack
// creates in dynalite (so the two can't drift), a customer-managed key, point-in-time recovery, TTL
// on `expiresAt` (the 30-day purge) and a stream (the purge consumer deletes each expired item's
// objects). Retained, and protected from deletion: it holds every tenant's tickets.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_SCHEMA, TTL_ATTRIBUTE } from '../../shared/adapters/dynamodb/table-schema.js';

type KeyElement = { readonly AttributeName: string; readonly KeyType: 'HASH' | 'RANGE' };

const ATTRIBUTE_TYPES: Readonly<Record<string, dynamodb.AttributeType>> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/** The attribute `name` with the type TABLE_SCHEMA declares for it (CreateTable insists on one). */
function attribute(name: string): dynamodb.Attribute {
  const definition = TABLE_SCHEMA.AttributeDefinitions.find((candidate) => candidate.AttributeName === name);
  const type = definition && ATTRIBUTE_TYPES[definition.AttributeType];
  if (!type) throw new Error(`TABLE_SCHEMA has no attribute definition for key attribute ${name}`);
  return { name, type };
}

function keyOf(schema: readonly KeyElement[], keyType: KeyElement['KeyType']): dynamodb.Attribute | undefined {
  const element = schema.find((candidate) => candidate.KeyType === keyType);
  return element && attribute(element.AttributeName);
}

function partitionKeyOf(schema: readonly KeyElement[], where: string): dynamodb.Attribute {
  const key = keyOf(schema, 'HASH');
  if (!key) throw new Error(`TABLE_SCHEMA ${where} has no HASH key`);
  return key;
}

const PROJECTIONS: Readonly<Record<string, dynamodb.ProjectionType>> = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
};

function globalSecondaryIndexes(): dynamodb.GlobalSecondaryIndexPropsV2[] {
  return TABLE_SCHEMA.GlobalSecondaryIndexes.map((index) => {
    const projectionType = PROJECTIONS[index.Projection.ProjectionType];
    if (!projectionType) throw new Error(`TABLE_SCHEMA index ${index.IndexName}: unsupported projection`);
    const sortKey = keyOf(index.KeySchema, 'RANGE');
    return {
      indexName: index.IndexName,
      partitionKey: partitionKeyOf(index.KeySchema, `index ${index.IndexName}`),
      ...(sortKey ? { sortKey } : {}),
      projectionType,
    };
  });
}

export interface TicketStoreProps {
  /** Default RETAIN: losing the table loses every tenant's tickets. */
  readonly removalPolicy?: RemovalPolicy;
}

export class TicketStore extends Construct {
  public readonly table: dynamodb.TableV2;
  /** Encrypts the table at rest; whoever reads or writes items needs it. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: TicketStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new kms.Key(this, 'Key', { description: 'mail2ticket ticket table', enableKeyRotation: true, removalPolicy });
    const sortKey = keyOf(TABLE_SCHEMA.KeySchema, 'RANGE');
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: partitionKeyOf(TABLE_SCHEMA.KeySchema, 'table'),
      ...(sortKey ? { sortKey } : {}),
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(this.key),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      deletionProtection: true,
      removalPolicy,
      globalSecondaryIndexes: globalSecondaryIndexes(),
    });
  }
}
