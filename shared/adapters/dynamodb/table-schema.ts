// The single table's key schema, shared by the local stack (CreateTable against dynalite) and the
// infrastructure tests (which check the CDK table matches it). Item layout: see keys.ts and the README.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

const S = 'S' as const;

export const TABLE_SCHEMA = {
  AttributeDefinitions: [
    { AttributeName: 'PK', AttributeType: S },
    { AttributeName: 'SK', AttributeType: S },
    { AttributeName: 'GSI1PK', AttributeType: S },
    { AttributeName: 'GSI1SK', AttributeType: S },
    { AttributeName: 'GSI2PK', AttributeType: S },
    { AttributeName: 'GSI2SK', AttributeType: S },
    { AttributeName: 'GSI3PK', AttributeType: S },
    { AttributeName: 'GSI3SK', AttributeType: S },
    { AttributeName: 'MBX', AttributeType: S },
  ],
  KeySchema: [
    { AttributeName: 'PK', KeyType: 'HASH' },
    { AttributeName: 'SK', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    gsi('GSI1', 'GSI1PK', 'GSI1SK', 'ALL'),
    gsi('GSI2', 'GSI2PK', 'GSI2SK', 'ALL'),
    gsi('GSI3', 'GSI3PK', 'GSI3SK', 'KEYS_ONLY'),
    gsi('GSI4', 'MBX', 'SK', 'KEYS_ONLY'),
  ],
  BillingMode: 'PAY_PER_REQUEST',
} satisfies Omit<CreateTableCommandInput, 'TableName'>;

function gsi(IndexName: string, hash: string, range: string, ProjectionType: 'ALL' | 'KEYS_ONLY') {
  return {
    IndexName,
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' as const },
      { AttributeName: range, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType },
  };
}

/** The TTL attribute the purge sets on every item of a disconnected mailbox. */
export const TTL_ATTRIBUTE = 'expiresAt';
