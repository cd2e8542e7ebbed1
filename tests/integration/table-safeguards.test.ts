// A restored table gets its TTL and stream back before the tombstones are re-applied: the real SDK
// against a wire-format fake of DynamoDB's control plane (dynalite has neither TTL nor streams).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbTableSafeguards } from '../../shared/adapters/dynamodb/dynamodb-table-safeguards.js';
import { FakeDynamoDbControl } from '../fakes/dynamodb-control.js';

let fake: FakeDynamoDbControl;
let client: DynamoDBClient;
const noWait = async () => undefined;

beforeEach(async () => {
  fake = new FakeDynamoDbControl('tickets');
  await fake.start();
  client = new DynamoDBClient({ endpoint: fake.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await fake.stop();
});

describe('DynamoDbTableSafeguards', () => {
  it('re-enables the TTL on expiresAt and a NEW_AND_OLD_IMAGES stream on a restored table, and waits until both are active', async () => {
    const result = await new DynamoDbTableSafeguards(client, 'tickets', { sleep: noWait }).ensure();
    expect(result).toMatchObject({ ttl: 'enabled', stream: 'enabled' });
    expect(result.streamArn).toMatch(/table\/tickets\/stream\//);
    expect(fake.ttl).toBe('ENABLED');
    expect(fake.tableStatus).toBe('ACTIVE');
    expect(fake.calls.filter((c) => c.startsWith('Update')).sort()).toEqual(['UpdateTable', 'UpdateTimeToLive']);
    // It polled until the asynchronous changes settled rather than trusting the update calls.
    expect(fake.calls.filter((c) => c === 'DescribeTimeToLive').length).toBeGreaterThan(2);
  });

  it('changes nothing on a table that has both, so a second run is safe', async () => {
    fake.ttl = 'ENABLED';
    fake.streamEnabled = true;
    const result = await new DynamoDbTableSafeguards(client, 'tickets', { sleep: noWait }).ensure();
    expect(result).toMatchObject({ ttl: 'was_enabled', stream: 'was_enabled' });
    expect(fake.calls.some((c) => c.startsWith('Update'))).toBe(false);
  });

  it('reports a table that does not settle in time instead of assuming it did', async () => {
    fake.settleAfter = 1_000;
    const safeguards = new DynamoDbTableSafeguards(client, 'tickets', { sleep: noWait, timeoutMs: 50, pollMs: 1 });
    await expect(safeguards.ensure()).rejects.toThrow(/not active yet/);
  });
});
