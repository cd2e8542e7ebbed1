// The tracing module (shared/adapters/system/tracing.ts) inside a Lambda environment: the X-Ray SDK
// in its Lambda mode streams each closed subsegment over UDP to the daemon address, here a socket of
// this test, so the assertions read the documents X-Ray would receive. The stack's Tracer settings
// apply for errors (TRACER_ENVIRONMENT); captureResponse is left to its Powertools default (on) so
// that only the module can be what keeps responses out.
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TRACER_ENVIRONMENT } from '../../infra/constructs/worker-function.js';
import { startDynalite, type RunningDynalite } from '../../shared/local/dynalite.js';

type TracingModule = typeof import('../../shared/adapters/system/tracing.js');
type Document = { name: string; id: string; parent_id?: string; error?: boolean; fault?: boolean; cause?: unknown; annotations?: Record<string, unknown>; metadata?: unknown; aws?: Record<string, unknown> };

const SECRET = 'alice@example.com: Quarterly numbers';
const TRACE_ID = '1-5759e988-bd862e3fe1be46a994272793';

let daemon: Socket;
let documents: Document[];
let tracing: TracingModule;
let dynalite: RunningDynalite;
const raw: string[] = [];

/** Waits until the daemon socket has received `count` more documents than `before`. */
async function received(before: number, count: number): Promise<Document[]> {
  await vi.waitFor(() => expect(documents.length).toBeGreaterThanOrEqual(before + count), { timeout: 5_000 });
  return documents.slice(before);
}

const context = { functionName: 'mail2ticket-test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

beforeAll(async () => {
  documents = [];
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    const text = message.toString('utf8');
    raw.push(text);
    // Each datagram: the header line, then one segment document.
    const [, body] = text.split('\n');
    if (body) documents.push(JSON.parse(body) as Document);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  const { port } = daemon.address() as AddressInfo;
  // What Lambda sets (the task root, the runtime, the handler, the invocation's trace header, the
  // daemon address), then the function's own variables from the stack: the error switch only.
  vi.stubEnv('LAMBDA_TASK_ROOT', '/var/task');
  vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
  vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'mail2ticket-test');
  vi.stubEnv('_HANDLER', 'index.handler');
  vi.stubEnv('_X_AMZN_TRACE_ID', `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`);
  vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', `127.0.0.1:${port}`);
  vi.stubEnv('AWS_XRAY_LOG_LEVEL', 'silent');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'mail2ticket-test');
  vi.stubEnv('POWERTOOLS_TRACER_CAPTURE_RESPONSE', undefined);
  vi.stubEnv('POWERTOOLS_TRACER_CAPTURE_ERROR', TRACER_ENVIRONMENT.POWERTOOLS_TRACER_CAPTURE_ERROR);
  // Imported only now: the Tracer and the X-Ray SDK read their environment when loaded.
  tracing = await import('../../shared/adapters/system/tracing.js');
  dynalite = await startDynalite();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await dynalite?.stop();
  await new Promise<void>((resolve) => (daemon ? daemon.close(() => resolve()) : resolve()));
});

describe('tracing in Lambda', () => {
  it('is enabled by the Lambda environment alone, with the stack not forcing it', () => {
    expect(tracing.tracer.isTracingEnabled()).toBe(true);
    expect(tracing.HANDLER_CAPTURE).toEqual({ captureResponse: false });
  });

  it('records each invocation as a subsegment with ColdStart and Service, and never the response', async () => {
    const before = documents.length;
    const handler = tracing.traceInvocations(async (event: { id: string }) => ({ body: SECRET, id: event.id }));
    expect(await handler({ id: 'm-1' }, context)).toEqual({ body: SECRET, id: 'm-1' });
    const [invocation] = await received(before, 1);
    expect(invocation).toMatchObject({ name: '## index.handler', annotations: { ColdStart: expect.any(Boolean), Service: 'mail2ticket-test' } });
    expect(invocation).not.toHaveProperty('metadata');
    expect(JSON.stringify(invocation)).not.toContain(SECRET);
  });

  it('flags a failed invocation without its message or stack', async () => {
    const before = documents.length;
    const handler = tracing.traceInvocations(async (_event: unknown) => {
      throw new Error(SECRET);
    });
    await expect(handler({}, context)).rejects.toThrow(SECRET);
    const [invocation] = await received(before, 1);
    expect(invocation).toMatchObject({ name: '## index.handler', error: true, annotations: { Service: 'mail2ticket-test' } });
    expect(invocation).not.toHaveProperty('cause');
    expect(JSON.stringify(invocation)).not.toContain(SECRET);
  });

  it('traces AWS SDK calls inside the invocation: service, operation and table, not the item', async () => {
    const client = tracing.traced(new DynamoDBClient({ region: 'eu-west-1', endpoint: dynalite.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
    const table = 'traced';
    const before = documents.length;
    const handler = tracing.traceInvocations(async (_event: unknown) => {
      await client.send(new CreateTableCommand({ TableName: table, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
      await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'T#1' }, subject: { S: SECRET } } }));
    });
    await handler({}, context);
    const docs = await received(before, 3);
    const invocation = docs.find((d) => d.name === '## index.handler') as Document;
    const calls = docs.filter((d) => d.name === 'DynamoDB');
    expect(calls.map((d) => d.aws?.operation)).toEqual(['CreateTable', 'PutItem']);
    for (const call of calls) {
      expect(call.parent_id).toBe(invocation.id);
      expect(call.aws).toMatchObject({ table_name: table });
    }
    expect(raw.join('\n')).not.toContain(SECRET);
  });
});
