// TableSafeguards on the DynamoDB control plane: UpdateTimeToLive and UpdateTable (stream) where a
// restore dropped them, then polling until the TTL is ENABLED and the table ACTIVE with a stream.
// Enabling is asynchronous (TTL takes up to an hour to report ENABLED), so the wait is bounded and
// its end reported, never assumed.
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DependencyUnavailable } from '../../domain/errors.js';
import type { TableSafeguards } from '../../domain/ports.js';
import { TTL_ATTRIBUTE } from './table-schema.js';

export interface SafeguardOptions {
  /** How long to wait for both to become active. */
  timeoutMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class DynamoDbTableSafeguards implements TableSafeguards {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly options: SafeguardOptions = {},
  ) {}

  async ensure(): Promise<{ ttl: 'was_enabled' | 'enabled'; stream: 'was_enabled' | 'enabled'; streamArn: string }> {
    const TableName = this.tableName;
    const ttlStatus = async () => (await this.client.send(new DescribeTimeToLiveCommand({ TableName }))).TimeToLiveDescription?.TimeToLiveStatus;
    const describe = async () => (await this.client.send(new DescribeTableCommand({ TableName }))).Table;

    const ttlBefore = await ttlStatus();
    const ttl = ttlBefore === 'ENABLED' || ttlBefore === 'ENABLING' ? 'was_enabled' : 'enabled';
    if (ttl === 'enabled') {
      await this.client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
    }
    const table = await describe();
    const stream = table?.StreamSpecification?.StreamEnabled ? 'was_enabled' : 'enabled';
    if (stream === 'enabled') {
      // The purge consumer reads the deleted item's old image: new and old images, as the stack sets.
      await this.client.send(new UpdateTableCommand({ TableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }));
    }

    const sleep = this.options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    const deadline = Date.now() + (this.options.timeoutMs ?? 60 * 60_000);
    for (;;) {
      const [status, current] = await Promise.all([ttlStatus(), describe()]);
      const streamArn = current?.LatestStreamArn;
      if (status === 'ENABLED' && current?.TableStatus === 'ACTIVE' && current.StreamSpecification?.StreamEnabled && streamArn) {
        return { ttl, stream, streamArn };
      }
      if (Date.now() > deadline) throw new DependencyUnavailable(`table ${TableName}: TTL ${status ?? 'unknown'}, table ${current?.TableStatus ?? 'unknown'} — not active yet; run again`);
      await sleep(this.options.pollMs ?? 10_000);
    }
  }
}
