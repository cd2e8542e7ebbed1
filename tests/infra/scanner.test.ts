// The scanner's infrastructure, asserted by value on the synthesized template: one arm64 image for
// two functions, staged at synth without Docker; the table stream feeding only pending attachments to
// the scanner (the filter is matched against an item the real repository writes), with batch failures
// reported and given-up batches kept in an encrypted queue; the 3-hourly refresh; the hourly rescan of
// pending attachments (its payload run through the real handler's routing); every grant (the rescan's
// index queries checked against what the real adapters send); the definitions bucket; the five alarms.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, QueryCommand, type AttributeValue, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScannerTask, RESCAN_METRICS, RESCAN_PENDING_TASK } from '../../functions/scanner/make-handler.js';
import { ATTACHMENT_OBJECTS, SCANNER_METRIC_SERVICES, SCANNER_METRICS, SCANNER_TASKS } from '../../infra/constructs/scanner.js';
import { DynamoDbConsentStore } from '../../shared/adapters/dynamodb/dynamodb-consent-store.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { attachmentLookup } from '../../shared/adapters/dynamodb/keys.js';
import type { AttachmentRecord } from '../../shared/domain/model.js';
import { attachmentKey, bodyKey, rawKey } from '../../shared/domain/object-keys.js';
import { ensureTable, startDynalite, type RunningDynalite } from '../../shared/local/dynalite.js';
import { BUNDLED_SYNTH_TIMEOUT, newApp, removeTempDirs, tempDir } from './synth.js';
import { arn, fn, idOf, ofType, resourcesOf, statementsOf, statementsOfRole, type Json, type Resource, type Statement } from './template.js';

let t: Json;
let outdir: string;
let dynalite: RunningDynalite | undefined;

beforeAll(() => {
  // Whatever would call Docker at synth fails on this; only `cdk deploy` may build the image.
  const docker = process.env.CDK_DOCKER;
  process.env.CDK_DOCKER = join(tempDir(), 'no-docker-here');
  try {
    const app = newApp();
    app.app.synth();
    outdir = app.outdir;
    t = Template.fromStack(app.stack).toJSON() as Json;
  } finally {
    if (docker === undefined) delete process.env.CDK_DOCKER;
    else process.env.CDK_DOCKER = docker;
  }
}, BUNDLED_SYNTH_TIMEOUT);

afterAll(async () => {
  await dynalite?.stop();
  removeTempDirs();
});

const scanner = () => fn(t, SCANNER_METRIC_SERVICES.scanner);
const refresh = () => fn(t, SCANNER_METRIC_SERVICES.definitions);
const resource = (id: string) => resourcesOf(t)[id] as Resource;
const definitionsBucket = () => idOf(t, 'AWS::S3::Bucket', 'ScannerDefinitions');
const attachmentBucket = () => idOf(t, 'AWS::S3::Bucket', 'AttachmentStoreBucket');
const failureQueue = () => idOf(t, 'AWS::SQS::Queue', 'ScannerStreamFailures');
const mapping = () => {
  const found = ofType(t, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: scanner().id }));
  expect(found).toHaveLength(1);
  return (found[0] as [string, Resource])[1].Properties;
};
const objectsOf = (bucketId: string, suffix: string) => ({ 'Fn::Join': ['', [arn(bucketId), `/${suffix}`]] });
const alarm = (prefix: string) => resource(idOf(t, 'AWS::CloudWatch::Alarm', prefix)).Properties;
const indexOf = (tableId: string, index: string) => ({ 'Fn::Join': ['', [arn(tableId), `/index/${index}`]] });

/** Lambda's event filtering for the rules the scanner uses: exact values listed in arrays, nested objects. */
function matchesFilter(pattern: Json, event: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const value = (event as Record<string, unknown> | undefined)?.[key];
    if (Array.isArray(rule)) {
      if (!rule.every((r) => typeof r === 'string')) throw new Error(`unsupported filter rule ${JSON.stringify(rule)}`);
      return typeof value === 'string' && rule.includes(value);
    }
    return value !== undefined && matchesFilter(rule as Json, value);
  });
}

describe('the scanner image', () => {
  it('runs both functions from one arm64 image, each with its own command', () => {
    for (const f of [scanner(), refresh()]) {
      expect(f.props).toMatchObject({ PackageType: 'Image', Architectures: ['arm64'] });
      expect(f.props).not.toHaveProperty('Runtime');
    }
    expect(scanner().props.ImageConfig).toEqual({ Command: ['scanner/index.handler'] });
    expect(refresh().props.ImageConfig).toEqual({ Command: ['definitions-update/index.handler'] });
    expect(scanner().props.Code).toEqual(refresh().props.Code);
  });

  it('is staged at synth with both bundles and the Dockerfile, for linux/arm64, without Docker', () => {
    const uri = JSON.stringify((scanner().props.Code as { ImageUri: unknown }).ImageUri);
    const hash = /:([0-9a-f]{64})"/.exec(uri)?.[1];
    expect(hash, uri).toBeDefined();
    const manifest = JSON.parse(readFileSync(join(outdir, 'Mail2Ticket.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; platform?: string } }> };
    expect(Object.keys(manifest.dockerImages)).toEqual([hash]);
    const source = manifest.dockerImages[hash as string]?.source;
    expect(source).toEqual({ directory: `asset.${hash}`, platform: 'linux/arm64' });
    const context = join(outdir, `asset.${hash}`);
    const dockerfile = readFileSync(join(context, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM public\.ecr\.aws\/lambda\/nodejs:22$/m);
    expect(dockerfile).toMatch(/dnf -y install clamav clamav-update clamd\b/);
    // Each command names a bundle the image copies into its task root.
    for (const dir of ['scanner', 'definitions-update']) {
      expect(dockerfile).toContain(`COPY ${dir}/ \${LAMBDA_TASK_ROOT}/${dir}/`);
      const bundle = readFileSync(join(context, dir, 'index.mjs'), 'utf8');
      expect(bundle.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);"), dir).toBe(true);
      // Source maps name sources from the project root, whatever the output directory.
      const map = JSON.parse(readFileSync(join(context, dir, 'index.mjs.map'), 'utf8')) as { sources: string[] };
      expect(map.sources, dir).toContain(`functions/${dir}/handler.ts`);
      for (const s of map.sources) expect(s.startsWith('/') || s.startsWith('..'), s).toBe(false);
    }
    expect(existsSync(join(context, 'node_modules'))).toBe(false);
  });

  it('gives the scanner room for clamd and its definitions, bounded in time and concurrency', () => {
    expect(scanner().props).toMatchObject({ MemorySize: 3008, EphemeralStorage: { Size: 2048 }, Timeout: 300, ReservedConcurrentExecutions: 5 });
    expect(refresh().props).toMatchObject({ EphemeralStorage: { Size: 2048 }, Timeout: 600, ReservedConcurrentExecutions: 1 });
    // Outside a VPC: freshclam reaches database.clamav.net.
    expect(refresh().props).not.toHaveProperty('VpcConfig');
    for (const f of [scanner(), refresh()]) {
      const group = (f.props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resource(group).Properties.RetentionInDays).toBeLessThanOrEqual(30);
    }
  });

  it('passes each function the names the contract asks for', () => {
    expect(scanner().env).toEqual({
      TABLE_NAME: { Ref: idOf(t, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable') },
      BUCKET_NAME: { Ref: attachmentBucket() },
      TENANT_KEY_ALIAS_PREFIX: 'alias/mail2ticket/tenant/',
      DEFINITIONS_BUCKET: { Ref: definitionsBucket() },
      POWERTOOLS_SERVICE_NAME: 'scanner',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(refresh().env).toEqual({ DEFINITIONS_BUCKET: { Ref: definitionsBucket() }, POWERTOOLS_SERVICE_NAME: 'scanner-definitions', NODE_OPTIONS: '--enable-source-maps' });
  });
});

describe('the stream consumer', () => {
  it('receives only inserted or modified attachment items still pending a scan', () => {
    const filters = (mapping().FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters;
    expect(filters).toHaveLength(1);
    expect(JSON.parse((filters[0] as { Pattern: string }).Pattern)).toEqual({
      eventName: ['INSERT', 'MODIFY'],
      dynamodb: { NewImage: { entity: { S: ['attachment'] }, scan: { S: ['pending'] } } },
    });
    expect(mapping()).toMatchObject({ EventSourceArn: { 'Fn::GetAtt': [idOf(t, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable'), 'StreamArn'] }, StartingPosition: 'LATEST', BatchSize: 10 });
  });

  it('matches the attachment item the repository writes while pending, and not once it has a verdict', async () => {
    dynalite ??= await startDynalite();
    const client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ensureTable(client, 'tickets');
    const repository = new DynamoDbTicketRepository(client, 'tickets');
    const attachment: AttachmentRecord = {
      tenantId: 'tenant01',
      mailboxId: 'mbx01',
      attachmentId: 'att01',
      ticketId: 'tkt01',
      messageId: 'msg01',
      contentType: 'application/pdf',
      size: 1234,
      inline: false,
      scan: 'pending',
      blobKey: attachmentKey('tenant01', 'mbx01', 'ing01', 'att01'),
      sealed: new Uint8Array([1, 2, 3]),
    };
    const stored = async () => {
      const out = await client.send(new QueryCommand({ TableName: 'tickets', IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': { S: attachmentLookup('tenant01', 'att01') } } }));
      expect(out.Items).toHaveLength(1);
      return out.Items?.[0];
    };
    const pattern = JSON.parse(((mapping().FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters[0] as { Pattern: string }).Pattern) as Json;

    // Written as ingestion writes it (the verdict's write-back only updates an existing item).
    const now = new Date().toISOString();
    const { tenantId, mailboxId, ticketId, messageId } = attachment;
    await repository.writeIngested({
      ticket: { tenantId, mailboxId, ticketId, status: 'open', createdAt: now, lastActivityAt: now, participantIndexes: ['a'.repeat(64)], sealed: new Uint8Array([1]) },
      ticketIsNew: true,
      message: {
        tenantId,
        mailboxId,
        ticketId,
        messageId,
        direction: 'inbound',
        receivedAt: now,
        messageIdIndex: 'b'.repeat(64),
        fromIndex: 'a'.repeat(64),
        rawKey: null,
        bodyKey: null,
        attachmentIds: [attachment.attachmentId],
        noticeCodes: [],
        sealed: new Uint8Array([2]),
      },
      attachments: [attachment],
      requesterIndexes: [],
      claim: { tenantId, mailboxId, fingerprint: 'c'.repeat(64), ingestId: 'ing01', ticketId, messageId, status: 'created', claimedAt: now, leaseUntil: now },
    });
    const pending = await stored();
    expect(matchesFilter(pattern, { eventName: 'INSERT', dynamodb: { NewImage: pending } })).toBe(true);
    expect(matchesFilter(pattern, { eventName: 'MODIFY', dynamodb: { NewImage: pending } })).toBe(true);
    expect(matchesFilter(pattern, { eventName: 'REMOVE', dynamodb: { OldImage: pending } })).toBe(false);
    // The scanner's own write of the verdict never comes back to it.
    for (const scan of ['clean', 'infected', 'unscanned'] as const) {
      await repository.updateAttachmentScan({ ...attachment, scan });
      expect(matchesFilter(pattern, { eventName: 'MODIFY', dynamodb: { NewImage: await stored() } }), scan).toBe(false);
    }
  });

  it('reports partial batch failures, bisects, retries boundedly and keeps given-up batches in an encrypted queue', () => {
    expect(mapping()).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: arn(failureQueue()) } },
    });
    const queue = resource(failureQueue()).Properties;
    expect(queue).toMatchObject({ KmsMasterKeyId: arn(idOf(t, 'AWS::KMS::Key', 'ScannerFailureKey')) });
    expect(queue.MessageRetentionPeriod).toBeLessThanOrEqual(14 * 24 * 3600);
  });
});

/** The scanner construct's schedules, by the function they invoke. */
const schedulesOf = (functionId: string) =>
  ofType(t, 'AWS::Scheduler::Schedule').filter(([id, s]) => id.startsWith('Scanner') && JSON.stringify((s.Properties.Target as Json).Arn) === JSON.stringify(arn(functionId)));

describe('the definitions refresh', () => {
  it('runs every 3 hours, invoking exactly the refresh function through a role that may do nothing else', () => {
    expect(ofType(t, 'AWS::Scheduler::Schedule').filter(([id]) => id.startsWith('Scanner'))).toHaveLength(2);
    const schedules = schedulesOf(refresh().id);
    expect(schedules).toHaveLength(1);
    const schedule = (schedules[0] as [string, Resource])[1].Properties;
    expect(schedule.ScheduleExpression).toBe('rate(3 hours)');
    const target = schedule.Target as { Arn: unknown; RoleArn: { 'Fn::GetAtt': [string, string] } };
    expect(target.Arn).toEqual(arn(refresh().id));
    expect(statementsOfRole(t, target.RoleArn['Fn::GetAtt'][0])).toEqual([{ Sid: 'InvokeScheduled', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arn(refresh().id) }]);
  });
});

describe('the pending rescan', () => {
  it('runs hourly, sending the scanner its task through a role that may invoke the scanner and nothing else', () => {
    const schedules = schedulesOf(scanner().id);
    expect(schedules).toHaveLength(1);
    const schedule = (schedules[0] as [string, Resource])[1].Properties;
    expect(schedule).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' } });
    const target = schedule.Target as { Arn: unknown; Input: string; RoleArn: { 'Fn::GetAtt': [string, string] }; RetryPolicy: Json };
    expect(JSON.parse(target.Input)).toEqual({ task: 'rescan-pending' });
    // A late run is worth nothing once the next hour's is due.
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 });
    const roleId = target.RoleArn['Fn::GetAtt'][0];
    expect(roleId).toBe(idOf(t, 'AWS::IAM::Role', 'ScannerRescanSchedulerRole'));
    expect(statementsOfRole(t, roleId)).toEqual([{ Sid: 'InvokeScheduled', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arn(scanner().id) }]);
    const trust = (resource(roleId).Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    expect(trust).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'scheduler.amazonaws.com' }, Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }) }),
    ]);
    // The refresh schedule keeps its own role.
    expect(roleId).not.toBe(idOf(t, 'AWS::IAM::Role', 'ScannerSchedulerRole'));
  });

  it('sends the payload the scanner routes to the rescan, and nothing a stream batch could be taken for', () => {
    const input = JSON.parse((((schedulesOf(scanner().id)[0] as [string, Resource])[1].Properties.Target as Json).Input as string)) as unknown;
    expect(input).toEqual(RESCAN_PENDING_TASK);
    expect(SCANNER_TASKS.rescanPending).toEqual(RESCAN_PENDING_TASK);
    expect(isScannerTask(input)).toBe(true);
    expect(isScannerTask({ Records: [] })).toBe(false);
    expect(isScannerTask({ task: 'rescan' })).toBe(false);
  });
});

describe('grants', () => {
  const scannerStatements = () => statementsOf(t, SCANNER_METRIC_SERVICES.scanner);
  const refreshStatements = () => statementsOf(t, SCANNER_METRIC_SERVICES.definitions);
  const bySid = (statements: Statement[], sid: string) => {
    const found = statements.filter((s) => s.Sid === sid);
    expect(found, sid).toHaveLength(1);
    return found[0] as Statement;
  };

  it('name every action and never the "*" resource', () => {
    for (const statement of [...scannerStatements(), ...refreshStatements()]) {
      for (const action of [statement.Action].flat()) expect(action, JSON.stringify(statement)).not.toMatch(/\*/);
      expect([statement.Resource].flat(), JSON.stringify(statement)).not.toContain('*');
      expect(statement.Effect).toBe('Allow');
    }
  });

  it('let the scanner read and update attachment items, and nothing else of the table', () => {
    const table = idOf(t, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable');
    const statements = scannerStatements();
    expect(bySid(statements, 'AttachmentItems')).toMatchObject({
      Action: ['dynamodb:PutItem', 'dynamodb:Query'],
      Resource: arn(table),
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#K#*'] } },
    });
    // The hourly rescan: one index partition each.
    expect(bySid(statements, 'HeldAttachments')).toEqual({
      Sid: 'HeldAttachments',
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: indexOf(table, 'GSI2'),
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#HELD'] } },
    });
    expect(bySid(statements, 'TenantList')).toEqual({
      Sid: 'TenantList',
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: indexOf(table, 'GSI1'),
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['TENANTS'] } },
    });
    const dynamo = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    const streamActions = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
    for (const s of dynamo.filter((s) => !['AttachmentItems', 'HeldAttachments', 'TenantList'].includes(s.Sid ?? ''))) {
      expect(s).toMatchObject({ Action: streamActions, Resource: { 'Fn::GetAtt': [table, 'StreamArn'] } });
    }
  });

  it('allow every query the rescan sends through the real adapters, and not the other partitions of those indexes', async () => {
    dynalite ??= await startDynalite();
    const client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ensureTable(client, 'rescan');
    const sent: QueryCommandInput[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as Partial<QueryCommandInput>;
        if (typeof input.KeyConditionExpression === 'string') sent.push(input as QueryCommandInput);
        return next(args);
      },
      { step: 'initialize', name: 'recordQueries' },
    );
    const repository = new DynamoDbTicketRepository(client, 'rescan');
    await new DynamoDbConsentStore(client, 'rescan').listTenants();
    await repository.listHeldAttachments('tenant01');
    await repository.listMessages('tenant01', 'tkt01'); // each due attachment's receivedAt
    await repository.listAttachments('tenant01', 'tkt01'); // scanStoredAttachment's reread
    client.destroy();
    expect(sent).toHaveLength(4);

    const table = idOf(t, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable');
    const queries = scannerStatements().filter((s) => [s.Action].flat().includes('dynamodb:Query'));
    const allows = (index: string | undefined, partition: string) =>
      queries.some((s) => {
        const onResource = JSON.stringify(s.Resource) === JSON.stringify(index ? indexOf(table, index) : arn(table));
        const condition = s.Condition as Record<string, { 'dynamodb:LeadingKeys': string[] }> | undefined;
        const like = condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
        const equals = condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
        const leading = like ? like.some((p) => new RegExp(`^${p.replaceAll('*', '.*')}$`).test(partition)) : (equals?.includes(partition) ?? false);
        return onResource && leading;
      });
    for (const query of sent) {
      const [, , placeholder] = /^(\w+) = (:\w+)/.exec(query.KeyConditionExpression as string) ?? [];
      const partition = (query.ExpressionAttributeValues as Record<string, AttributeValue>)[placeholder as string]?.S as string;
      expect(allows(query.IndexName, partition), `${query.IndexName ?? 'table'} ${partition}`).toBe(true);
    }
    // Not the other partitions of the same indexes: message-id lookups (GSI2), attachment, ticket and invite lookups (GSI1).
    expect(allows('GSI2', 'T#tenant01#MB#mbx01#MID#abc')).toBe(false);
    expect(allows('GSI1', attachmentLookup('tenant01', 'att01'))).toBe(false);
    expect(allows('GSI1', 'INV#inv01')).toBe(false);
    expect(allows('GSI3', 'T#tenant01#HELD')).toBe(false);
  });

  it('limit object access to attachment keys and clamav/, listing included', () => {
    const attachments = attachmentBucket();
    const definitions = definitionsBucket();
    const s3Of = (statements: Statement[]) => statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3Of(scannerStatements())).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Sid: 'AttachmentObjects', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject'], Resource: objectsOf(attachments, ATTACHMENT_OBJECTS) }),
        expect.objectContaining({ Sid: 'AttachmentVersions', Action: 's3:ListBucketVersions', Resource: arn(attachments), Condition: { StringLike: { 's3:prefix': ['t/*/m/*/att/*'] } } }),
        expect.objectContaining({ Sid: 'DefinitionsRead', Action: 's3:GetObject', Resource: objectsOf(definitions, 'clamav/*') }),
        expect.objectContaining({ Sid: 'DefinitionsList', Action: 's3:ListBucket', Resource: arn(definitions), Condition: { StringLike: { 's3:prefix': ['clamav/', 'clamav/*'] } } }),
      ]),
    );
    expect(s3Of(scannerStatements())).toHaveLength(4);
    expect(s3Of(refreshStatements())).toEqual([
      expect.objectContaining({ Sid: 'DefinitionsWrite', Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], Resource: objectsOf(definitions, 'clamav/*') }),
      expect.objectContaining({ Sid: 'DefinitionsList', Action: 's3:ListBucket', Resource: arn(definitions), Condition: { StringLike: { 's3:prefix': ['clamav/', 'clamav/*'] } } }),
    ]);
    // The refresh touches nothing but its bucket and its log group.
    expect(new Set(refreshStatements().flatMap((s) => [s.Action].flat()).map((a) => a.split(':')[0]))).toEqual(new Set(['s3', 'logs']));
    // The pattern (IAM's `*` spans slashes too) covers the keys object-keys.ts builds for attachments,
    // and not a raw message or a body.
    const covered = new RegExp(`^${ATTACHMENT_OBJECTS.replaceAll('*', '.*')}$`);
    expect(attachmentKey('tenant01', 'mbx01', 'ing01', 'att01')).toMatch(covered);
    expect(rawKey('tenant01', 'mbx01', 'ing01')).not.toMatch(covered);
    expect(bodyKey('tenant01', 'mbx01', 'ing01')).not.toMatch(covered);
  });

  it('let tenant keys decrypt only attachment data keys, through tenant aliases, under exactly our context', () => {
    const statements = scannerStatements();
    expect(bySid(statements, 'TenantAttachmentDecrypt')).toMatchObject({
      Action: 'kms:Decrypt',
      Condition: {
        'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' },
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'mailbox', 'purpose'] },
        Null: { 'kms:EncryptionContext:tenant': 'false', 'kms:EncryptionContext:mailbox': 'false', 'kms:EncryptionContext:purpose': 'false' },
        StringEquals: { 'kms:EncryptionContext:purpose': 'attachment' },
      },
    });
    expect(bySid(statements, 'TenantKeyLookup')).toMatchObject({ Action: 'kms:DescribeKey', Condition: { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' } } });
    // No other statement reaches a key it does not name.
    const onAnyKey = statements.filter((s) => JSON.stringify(s.Resource).includes(':key/*'));
    expect(onAnyKey.map((s) => s.Sid).sort()).toEqual(['TenantAttachmentDecrypt', 'TenantKeyLookup']);
    // Other keys: each named by its ARN, none able to generate a tenant data key.
    const kms = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')) && !onAnyKey.includes(s));
    for (const s of kms) expect(JSON.stringify(s.Resource), JSON.stringify(s)).toMatch(/^\{"Fn::GetAtt":\["(TicketStoreKey|AttachmentStoreKey|ScannerFailureKey)/);
  });
});

describe('the definitions bucket', () => {
  it('is private, TLS only, versioned with short-lived old versions, and access-logged', () => {
    const bucket = resource(definitionsBucket()).Properties;
    expect(bucket).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: idOf(t, 'AWS::S3::Bucket', 'AttachmentStoreAccessLogs') }, LogFilePrefix: 'definitions/' },
    });
    const rules = (bucket.LifecycleConfiguration as { Rules: Array<{ NoncurrentVersionExpiration?: { NoncurrentDays: number } }> }).Rules;
    expect(rules.some((r) => (r.NoncurrentVersionExpiration?.NoncurrentDays ?? Infinity) <= 7)).toBe(true);
    const policies = ofType(t, 'AWS::S3::BucketPolicy').filter(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: definitionsBucket() }));
    expect(policies).toHaveLength(1);
    const statements = ((policies[0] as [string, Resource])[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });
});

describe('alarms', () => {
  it('fire on any scanner failure, any scan error and any given-up stream batch', () => {
    expect(alarm('ScannerScannerErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: scanner().id } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm('ScannerScanErrorsAlarm')).toMatchObject({
      Namespace: 'mail2ticket',
      MetricName: SCANNER_METRICS.errors,
      Dimensions: [{ Name: 'service', Value: 'scanner' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm('ScannerStreamFailuresAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [failureQueue(), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('fire on definitions older than 48 hours, and on a refresh that stopped reporting', () => {
    const stale = alarm('ScannerStaleDefinitionsAlarm');
    expect(stale).toMatchObject({
      Namespace: 'mail2ticket',
      MetricName: 'definitions_age_hours',
      Dimensions: [{ Name: 'service', Value: 'scanner-definitions' }],
      Statistic: 'Maximum',
      Threshold: 48,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    // Hours without a report count as stale; a run every 3 hours keeps at least one fresh datapoint
    // in every window, so only 12 hours of silence (or of stale reports) alarm.
    const windowHours = ((stale.Period as number) * (stale.EvaluationPeriods as number)) / 3600;
    expect(stale.DatapointsToAlarm).toBe(stale.EvaluationPeriods);
    expect(windowHours).toBeGreaterThan(3 * 2);
    expect(windowHours).toBeLessThanOrEqual(24);
  });
});

describe('the still-pending alarm', () => {
  it('fires when the hourly rescan leaves attachments pending three hours in a row, and goes to the alarm topic', () => {
    const stillPending = alarm('ScannerStillPendingAlarm');
    expect(stillPending).toMatchObject({
      Namespace: 'mail2ticket',
      MetricName: SCANNER_METRICS.stillPending,
      Dimensions: [{ Name: 'service', Value: 'scanner' }],
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    // The names the handler publishes.
    expect(SCANNER_METRICS.stillPending).toBe(RESCAN_METRICS.stillPending);
    expect(SCANNER_METRICS.rescanned).toBe(RESCAN_METRICS.rescanned);
    // The observability aspect gave it the alarm topic, like every other alarm.
    expect(stillPending.AlarmActions).toEqual([{ Ref: idOf(t, 'AWS::SNS::Topic', 'ObservabilityAlarmTopic') }]);
  });
});

describe('outputs', () => {
  it('name the definitions bucket', () => {
    expect((t.Outputs as Record<string, { Value: unknown }>).DefinitionsBucketName?.Value).toEqual({ Ref: definitionsBucket() });
  });
});
