// The audit chain on dynalite: appends serialize under concurrency, and an edited record is found.
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../shared/adapters/dynamodb/dynamodb-audit-log.js';
import { recordAccess, verifyAuditChain } from '../../shared/domain/audit.js';
import { ensureTable, startDynalite, type RunningDynalite } from '../../shared/local/dynalite.js';
import { ManualClock, SequentialIds } from '../support/memory.js';

let server: RunningDynalite;
let client: DynamoDBClient;

beforeAll(async () => {
  server = await startDynalite();
  client = new DynamoDBClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await ensureTable(client, 'audit');
});
afterAll(async () => {
  client.destroy();
  await server.stop();
});

describe('audit log', () => {
  it('keeps one unbroken chain per tenant under concurrent appends, and finds an edited record', async () => {
    const deps = { audit: new DynamoDbAuditLog(client, 'audit'), clock: new ManualClock(), ids: new SequentialIds() };
    const who = { actor: 'operator:test', reason: 'ticket 42 follow-up' };
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordAccess(deps, 'acme', who, 'ticket.view', [`T${i}`])));
    await recordAccess(deps, 'globex', who, 'ticket.list', []);
    const records = await deps.audit.list('acme');
    expect(records).toHaveLength(20);
    expect(verifyAuditChain(records)).toEqual({ ok: true, count: 20 });
    expect(new Set(records.map((r) => r.prevHash)).size).toBe(20); // no fork: every record has its own predecessor
    expect(JSON.stringify(records)).not.toMatch(/alice|@/);

    const victim = records[7]!;
    await client.send(
      new UpdateItemCommand({
        TableName: 'audit',
        Key: { PK: { S: 'T#acme#AUDIT' }, SK: { S: `A#${victim.auditId}` } },
        UpdateExpression: 'SET reason = :r',
        ExpressionAttributeValues: { ':r': { S: 'nothing to see' } },
      }),
    );
    expect(verifyAuditChain(await deps.audit.list('acme'))).toEqual({ ok: false, brokenAt: victim.auditId, count: 20 });
    expect(verifyAuditChain(await deps.audit.list('globex')).ok).toBe(true);
  });
});
