// DynamoDB's control plane for one table, as the wire format has it (JSON 1.0, X-Amz-Target): the
// four calls a restore's safeguards make, with the asynchronous states real DynamoDB goes through
// (TTL ENABLING before ENABLED, the table UPDATING while its stream is added). dynalite has neither
// TTL nor streams, so the real SDK is pointed at this.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class FakeDynamoDbControl {
  readonly calls: string[] = [];
  ttl: 'DISABLED' | 'ENABLING' | 'ENABLED' = 'DISABLED';
  streamEnabled = false;
  tableStatus: 'ACTIVE' | 'UPDATING' = 'ACTIVE';
  /** Describes a change stays in progress for. */
  settleAfter = 2;
  private pendingTtl = 0;
  private pendingTable = 0;
  private streamVersion = 0;
  private server: Server | undefined;
  endpoint = '';

  constructor(readonly tableName: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '').replace('DynamoDB_20120810.', '');
        this.calls.push(target);
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { TableName?: string; TimeToLiveSpecification?: { AttributeName?: string; Enabled?: boolean }; StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: string } };
        const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
        if (input.TableName !== this.tableName) return send(400, { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' });
        switch (target) {
          case 'DescribeTimeToLive':
            if (this.ttl === 'ENABLING' && ++this.pendingTtl >= this.settleAfter) this.ttl = 'ENABLED';
            return send(200, { TimeToLiveDescription: { TimeToLiveStatus: this.ttl, ...(this.ttl !== 'DISABLED' ? { AttributeName: 'expiresAt' } : {}) } });
          case 'UpdateTimeToLive':
            if (input.TimeToLiveSpecification?.AttributeName !== 'expiresAt' || !input.TimeToLiveSpecification.Enabled) return send(400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'unexpected TTL specification' });
            if (this.ttl !== 'DISABLED') return send(400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'TimeToLive is already enabled' });
            this.ttl = 'ENABLING';
            this.pendingTtl = 0;
            return send(200, { TimeToLiveSpecification: input.TimeToLiveSpecification });
          case 'DescribeTable':
            if (this.tableStatus === 'UPDATING' && ++this.pendingTable >= this.settleAfter) this.tableStatus = 'ACTIVE';
            return send(200, { Table: this.table() });
          case 'UpdateTable':
            if (input.StreamSpecification?.StreamViewType !== 'NEW_AND_OLD_IMAGES' || !input.StreamSpecification.StreamEnabled) return send(400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'unexpected stream specification' });
            if (this.streamEnabled) return send(400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'Table already has an enabled stream' });
            this.streamEnabled = true;
            this.streamVersion++;
            this.tableStatus = 'UPDATING';
            this.pendingTable = 0;
            return send(200, { TableDescription: this.table() });
          default:
            return send(400, { __type: 'com.amazonaws.dynamodb.v20120810#UnknownOperationException', message: `${target} is not supported here` });
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private table() {
    return {
      TableName: this.tableName,
      TableStatus: this.tableStatus,
      ...(this.streamEnabled
        ? {
            StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
            LatestStreamArn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${this.tableName}/stream/2026-12-02T00:00:0${this.streamVersion}.000`,
          }
        : {}),
    };
  }
}
