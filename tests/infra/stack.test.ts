// The synthesized template, asserted by value: the promises the infrastructure itself keeps.
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_CONTEXT_KEYS, TENANT_KEY_ALIAS_PREFIX } from '../../infra/constructs/mail-ingest.js';
import { toSdkContext } from '../../shared/adapters/crypto/encryption-context.js';
import { DEFAULT_ALIAS_PREFIX } from '../../shared/adapters/crypto/kms-key-service.js';
import { TABLE_SCHEMA, TTL_ATTRIBUTE } from '../../shared/adapters/dynamodb/table-schema.js';
import { BUNDLED_SYNTH_TIMEOUT, newApp, removeTempDirs, SKIP_BUNDLING, tempDir } from './synth.js';
import { arn, fn, idOf, statementsOf, type Json } from './template.js';
import { ERASURE_JOURNAL_PREFIX } from '../../shared/domain/requester-journal.js';
import { TOMBSTONE_PREFIX } from '../../shared/domain/tombstones.js';
import { MAIL_STREAMING_V8_OPTIONS } from '../../infra/runtime-options.js';

afterAll(removeTempDirs);

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

let template: Template;
const resources = (type: string) => Object.values(template.findResources(type)) as Resource[];
const logicalIds = (type: string) => Object.keys(template.findResources(type));
const only = (type: string): Resource => {
  const found = resources(type);
  expect(found, type).toHaveLength(1);
  return found[0] as Resource;
};
const byName = <T extends { AttributeName: string }>(list: readonly T[]) => [...list].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));

beforeAll(() => {
  template = Template.fromStack(newApp().stack);
}, BUNDLED_SYNTH_TIMEOUT);

describe('TicketStore', () => {
  it('has TTL on expiresAt, PITR, a NEW_AND_OLD_IMAGES stream, on-demand billing and deletion protection', () => {
    const table = only('AWS::DynamoDB::GlobalTable');
    expect(TTL_ATTRIBUTE).toBe('expiresAt');
    expect(table.Properties).toMatchObject({
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      BillingMode: 'PAY_PER_REQUEST',
    });
    expect(table.Properties.Replicas).toEqual([
      expect.objectContaining({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: expect.objectContaining({ PointInTimeRecoveryEnabled: true }) }),
    ]);
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('is encrypted with its own rotating customer-managed key', () => {
    const table = only('AWS::DynamoDB::GlobalTable');
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    const [replica] = table.Properties.Replicas as Array<{ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [string, string] } } }>;
    const keyId = replica?.SSESpecification.KMSMasterKeyId['Fn::GetAtt'][0] as string;
    expect(template.toJSON().Resources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
  });

  it('has exactly the key schema, attributes and indexes of TABLE_SCHEMA (the local stack uses the same)', () => {
    const table = only('AWS::DynamoDB::GlobalTable');
    expect(table.Properties.KeySchema).toEqual(TABLE_SCHEMA.KeySchema);
    expect(byName(table.Properties.AttributeDefinitions as Array<{ AttributeName: string }>)).toEqual(byName(TABLE_SCHEMA.AttributeDefinitions));
    const indexes = table.Properties.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: unknown; Projection: unknown }>;
    expect(indexes.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection }))).toEqual(TABLE_SCHEMA.GlobalSecondaryIndexes);
    expect(table.Properties.BillingMode).toBe(TABLE_SCHEMA.BillingMode);
  });
});

describe('AttachmentStore', () => {
  const mainBucket = () => resources('AWS::S3::Bucket').find((b) => b.Properties.VersioningConfiguration) as Resource;
  const logBucketId = () => logicalIds('AWS::S3::Bucket').find((id) => !template.toJSON().Resources[id].Properties.VersioningConfiguration) as string;

  it('is versioned, SSE-KMS with a bucket key and owner-enforced', () => {
    expect(mainBucket().Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const [sse] = (mainBucket().Properties.BucketEncryption as { ServerSideEncryptionConfiguration: Array<{ ServerSideEncryptionByDefault: { KMSMasterKeyID: { 'Fn::GetAtt': [string] } } }> }).ServerSideEncryptionConfiguration;
    const keyId = sse?.ServerSideEncryptionByDefault.KMSMasterKeyID['Fn::GetAtt'][0] as string;
    expect(template.toJSON().Resources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } });
  });

  it('keeps replaced versions at most 30 days and aborts incomplete uploads after a day', () => {
    const rules = (mainBucket().Properties.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;
    const noncurrent = rules.find((r) => r.NoncurrentVersionExpiration) as { Status: string; NoncurrentVersionExpiration: { NoncurrentDays: number } };
    expect(noncurrent.Status).toBe('Enabled');
    expect(noncurrent.NoncurrentVersionExpiration.NoncurrentDays).toBeLessThanOrEqual(30);
    const multipart = rules.find((r) => r.AbortIncompleteMultipartUpload) as { Status: string; AbortIncompleteMultipartUpload: { DaysAfterInitiation: number } };
    expect(multipart.Status).toBe('Enabled');
    expect(multipart.AbortIncompleteMultipartUpload.DaysAfterInitiation).toBeLessThanOrEqual(1);
  });

  it('keeps an erasure journal entry as long as a backup from before the erasure can be restored, and no longer', () => {
    const journalRule = (t: Template) =>
      ((Object.values(t.findResources('AWS::S3::Bucket')) as Resource[])
        .flatMap((b) => ((b.Properties.LifecycleConfiguration as { Rules?: Array<Record<string, unknown>> } | undefined)?.Rules ?? []))
        .find((r) => r.Prefix === ERASURE_JOURNAL_PREFIX) as { Status: string; ExpirationInDays: number } | undefined);
    expect(journalRule(template)).toEqual(expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 366 })); // the default 365 days of backups
    expect(journalRule(Template.fromStack(newApp({ ...SKIP_BUNDLING, backupRetentionDays: 7 }).stack))?.ExpirationInDays).toBe(36); // PITR's 35 days
  });

  it('logs access to a separate SSE-S3 bucket whose logs expire within 30 days', () => {
    expect(mainBucket().Properties.LoggingConfiguration).toMatchObject({ DestinationBucketName: { Ref: logBucketId() } });
    const logs = template.toJSON().Resources[logBucketId()] as Resource;
    expect(logs.Properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(logs.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    // With ACLs disabled, delivery rests on the bucket policy letting the logging service write.
    const logPolicy = resources('AWS::S3::BucketPolicy').find((p) => (p.Properties.Bucket as { Ref: string }).Ref === logBucketId()) as Resource;
    expect((logPolicy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' } }),
    );
    const rules = (logs.Properties.LifecycleConfiguration as { Rules: Array<{ ExpirationInDays?: number }> }).Rules;
    expect(Math.max(...rules.map((r) => r.ExpirationInDays ?? Infinity))).toBeLessThanOrEqual(30);
  });

  it('blocks public access and denies non-TLS requests on every bucket', () => {
    const buckets = logicalIds('AWS::S3::Bucket');
    // The objects, their access logs, the scanner's definitions.
    expect(buckets).toHaveLength(3);
    for (const bucket of resources('AWS::S3::Bucket')) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    }
    const policies = resources('AWS::S3::BucketPolicy');
    expect(policies.map((p) => (p.Properties.Bucket as { Ref: string }).Ref).sort()).toEqual([...buckets].sort());
    for (const policy of policies) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    }
  });
});

describe('keys', () => {
  it('rotates every customer-managed encryption key', () => {
    const keys = resources('AWS::KMS::Key');
    expect(keys.length).toBeGreaterThanOrEqual(3);
    // KMS rotates symmetric encryption keys only; the one HMAC key (the service index) can't be.
    const encryption = keys.filter((key) => key.Properties.KeySpec === undefined || key.Properties.KeySpec === 'SYMMETRIC_DEFAULT');
    expect(keys.filter((key) => !encryption.includes(key)).map((key) => key.Properties.KeySpec)).toEqual(['HMAC_256']);
    for (const key of encryption) expect(key.Properties.EnableKeyRotation).toBe(true);
  });
});

describe('MailIngest', () => {
  const jobsId = () => logicalIds('AWS::SQS::Queue').find((id) => id.startsWith('MailIngestJobs')) as string;
  const jobs = () => template.toJSON().Resources[jobsId()] as Resource;
  const worker = () => resources('AWS::Lambda::Function').find((f) => (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables.POWERTOOLS_SERVICE_NAME === 'mail2ticket-ingest') as Resource;

  it('feeds the worker from a FIFO queue with a FIFO dead-letter queue after 5 receives', () => {
    const dlqId = ((jobs().Properties.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] } }).deadLetterTargetArn['Fn::GetAtt'])[0];
    expect(jobs().Properties).toMatchObject({ FifoQueue: true, RedrivePolicy: { maxReceiveCount: 5 } });
    expect(template.toJSON().Resources[dlqId]).toMatchObject({ Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [jobsId(), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('encrypts every queue with a CMK, keeps messages at most 14 days and denies non-TLS access', () => {
    const queues = resources('AWS::SQS::Queue');
    for (const queue of queues) {
      expect(queue.Properties.KmsMasterKeyId).toMatchObject({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
      expect(queue.Properties.MessageRetentionPeriod).toBeLessThanOrEqual(14 * 24 * 3600);
    }
    const policies = resources('AWS::SQS::QueuePolicy');
    expect(policies.flatMap((p) => p.Properties.Queues as unknown[])).toHaveLength(queues.length);
    for (const policy of policies) {
      expect((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('runs Node 22 on arm64 (every function) with a visibility timeout of six function timeouts', () => {
    // The scanner's container image functions have no runtime: their Node 22 is the image's base (scanner.test.ts).
    for (const fn of resources('AWS::Lambda::Function')) {
      expect(fn.Properties).toMatchObject(fn.Properties.PackageType === 'Image' ? { Architectures: ['arm64'] } : { Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    }
    expect(jobs().Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (worker().Properties.Timeout as number));
  });

  it('gets resource names from the stack, never literal physical names', () => {
    const env = (worker().Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      TABLE_NAME: { Ref: expect.stringMatching(/^TicketStoreTable/) },
      BUCKET_NAME: { Ref: expect.stringMatching(/^AttachmentStoreBucket/) },
      TENANT_KEY_ALIAS_PREFIX: 'alias/mail2ticket/tenant/',
      POWERTOOLS_SERVICE_NAME: 'mail2ticket-ingest',
    });
  });

  it('runs the worker with a 1 MB young generation, the V8 options the benchmark measures ingestion with', () => {
    const env = (worker().Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=1');
    expect(env.NODE_OPTIONS).toBe(['--enable-source-maps', ...MAIL_STREAMING_V8_OPTIONS].join(' '));
  });

  it('grants the tenant alias prefix and context the key service actually uses', () => {
    expect(TENANT_KEY_ALIAS_PREFIX).toBe(DEFAULT_ALIAS_PREFIX);
    expect(Object.keys(toSdkContext({ tenantId: 't', mailboxId: 'm', purpose: 'raw' })).sort()).toEqual([...TENANT_CONTEXT_KEYS].sort());
  });

  it('logs every function to its own log group kept at most 30 days', () => {
    const groups = logicalIds('AWS::Logs::LogGroup');
    for (const group of resources('AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBeLessThanOrEqual(30);
    const targets = resources('AWS::Lambda::Function').map((f) => (f.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref);
    expect(new Set(targets).size).toBe(targets.length);
    for (const target of targets) expect(groups).toContain(target);
  });
});

describe('Retention', () => {
  it('keeps backups at most backupRetentionDays, in a vault with its own key', () => {
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ Lifecycle: { DeleteAfterDays: 365 } })] },
    });
    template.hasResourceProperties('AWS::Backup::BackupVault', { EncryptionKeyArn: Match.anyValue() });
    Template.fromStack(newApp({ ...SKIP_BUNDLING, backupRetentionDays: 90 }).stack).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ Lifecycle: { DeleteAfterDays: 90 } })] },
    });
  });

  it("consumes only the TTL service's deletions from the table stream, with a failure destination", () => {
    const mapping = resources('AWS::Lambda::EventSourceMapping').find((m) => m.Properties.FilterCriteria);
    const pattern = JSON.parse((mapping?.Properties.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters[0]?.Pattern as string);
    expect(pattern).toEqual({ eventName: ['REMOVE'], userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] } });
    expect(mapping?.Properties).toMatchObject({ BisectBatchOnFunctionError: true, DestinationConfig: { OnFailure: { Destination: expect.anything() } } });
  });

  it('lets the sweeper write and read tombstones and read the erasure journal, under the bucket key, and no other object', () => {
    const t = template.toJSON() as Json;
    const statements = statementsOf(t, 'mail2ticket-sweeper');
    const objectStatements = statements.filter((s) => [s.Action].flat().some((a) => a === 's3:GetObject' || a === 's3:PutObject'));
    expect(objectStatements.map((s) => s.Sid).sort()).toEqual(['ReadRetentionRecords', 'WriteTombstones']);
    const prefixes = (sid: string) => [statements.find((s) => s.Sid === sid)?.Resource].flat().map((r) => JSON.stringify(r).match(/\/([a-z]+)\/\*/)?.[1]);
    expect(statements.find((s) => s.Sid === 'WriteTombstones')?.Action).toBe('s3:PutObject');
    expect(prefixes('WriteTombstones')).toEqual([TOMBSTONE_PREFIX.slice(0, -1)]);
    expect(statements.find((s) => s.Sid === 'ReadRetentionRecords')?.Action).toBe('s3:GetObject');
    expect(prefixes('ReadRetentionRecords').sort()).toEqual([ERASURE_JOURNAL_PREFIX.slice(0, -1), TOMBSTONE_PREFIX.slice(0, -1)].sort());
    // The bucket is SSE-KMS: writing and reading an object needs its key.
    const bucketKeyId = idOf(t, 'AWS::KMS::Key', 'AttachmentStore');
    expect(statements.find((s) => s.Sid === 'BucketKey')).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn(bucketKeyId) });
    // A disconnect's recheck stamps TTLs; a replayed erasure deletes an emptied ticket.
    expect(statements.find((s) => s.Sid === 'SweepTable')?.Action).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
    expect(fn(t, 'mail2ticket-sweeper').env).toMatchObject({ TENANT_KEY_ALIAS_PREFIX });
  });

  it('sweeps daily and alarms when the sweep finds leftovers', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BackstopLeftoversFound', Namespace: 'mail2ticket', Threshold: 1 });
  });
});

describe('IAM', () => {
  /** Every identity-policy statement: role default policies, inline role policies, managed policies. */
  const identityStatements = (): Statement[] => [
    ...resources('AWS::IAM::Policy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement),
    ...resources('AWS::IAM::ManagedPolicy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement),
    ...resources('AWS::IAM::Role').flatMap((r) => ((r.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((p) => p.PolicyDocument.Statement)),
  ];

  it('grants no wildcard actions, and "*" as a resource only where IAM accepts nothing else', () => {
    const statements = identityStatements();
    expect(statements.length).toBeGreaterThan(10);
    for (const statement of statements) {
      expect(statement, JSON.stringify(statement)).not.toHaveProperty('NotAction');
      const actions = [statement.Action].flat();
      for (const action of actions) expect(action, JSON.stringify(statement)).not.toMatch(/\*/);
      // kms:CreateKey names no resource (the key doesn't exist yet): IAM requires "*"; its tag, spec and
      // origin conditions, and that only the tenant-lifecycle role has it, are in tenant-lifecycle.test.ts.
      const createsKeys = statement.Sid === 'CreateTenantKeys' && actions.join() === 'kms:CreateKey';
      // X-Ray has no resource-level permissions: its two write actions, alone in each function's
      // tracing policy (worker-function.ts activeTracing; tracing.test.ts), take "*" only.
      const writesTraces = statement.Sid === 'XRayWrite' && [...actions].sort().join() === 'xray:PutTelemetryRecords,xray:PutTraceSegments';
      if (!createsKeys && !writesTraces) expect([statement.Resource].flat(), JSON.stringify(statement)).not.toContain('*');
    }
  });

  it('lets tenant keys be used only through tenant aliases and with exactly our encryption context', () => {
    const statements = identityStatements();
    const dataKeys = statements.filter((s) => s.Sid === 'TenantDataKeys');
    // The ingest worker, each connector's sync worker and scheduled jobs (Gmail, Microsoft 365), the
    // consent site (sealing a new mailbox's credentials, opening them to release one), and the sweeper
    // (replaying requester erasures after a restore).
    expect(dataKeys).toHaveLength(7);
    for (const statement of dataKeys) {
      expect(['kms:Decrypt', 'kms:GenerateDataKey']).toEqual(expect.arrayContaining([statement.Action].flat()));
      expect(statement.Condition).toEqual({
        'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' },
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'mailbox', 'purpose'] },
        Null: { 'kms:EncryptionContext:tenant': 'false', 'kms:EncryptionContext:mailbox': 'false', 'kms:EncryptionContext:purpose': 'false' },
      });
    }
    // The scanner decrypts attachment data keys only (purpose attachment; scanner.test.ts).
    const attachmentDecrypts = statements.filter((s) => s.Sid === 'TenantAttachmentDecrypt');
    expect(attachmentDecrypts).toHaveLength(1);
    for (const statement of attachmentDecrypts) {
      expect(statement.Action).toBe('kms:Decrypt');
      expect(statement.Condition).toEqual({
        'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' },
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'mailbox', 'purpose'] },
        Null: { 'kms:EncryptionContext:tenant': 'false', 'kms:EncryptionContext:mailbox': 'false', 'kms:EncryptionContext:purpose': 'false' },
        StringEquals: { 'kms:EncryptionContext:purpose': 'attachment' },
      });
    }
    const lookups = statements.filter((s) => s.Sid === 'TenantKeyLookup');
    // The seven above and the scanner.
    expect(lookups).toHaveLength(8);
    for (const statement of lookups) {
      expect(['kms:DescribeKey', 'kms:GenerateMac']).toEqual(expect.arrayContaining([statement.Action].flat()));
      expect(statement.Condition).toEqual({ 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' } });
    }
    // Every other statement on a key ARN pattern would escape the alias condition, but for the
    // tenant-lifecycle role's key administration (tag-conditioned; tenant-lifecycle.test.ts).
    const LIFECYCLE = ['TagTenantKeysOnCreate', 'TenantAliasTargets', 'TenantKeyAdministration'];
    const onAnyKey = statements.filter((s) => JSON.stringify(s.Resource).includes(':key/*'));
    expect(new Set(onAnyKey.map((s) => s.Sid))).toEqual(new Set(['TenantDataKeys', 'TenantAttachmentDecrypt', 'TenantKeyLookup', ...LIFECYCLE]));
    expect(onAnyKey).toHaveLength(dataKeys.length + attachmentDecrypts.length + lookups.length + LIFECYCLE.length);
  });
});

describe('synth', () => {
  it('is deterministic: a second synth elsewhere gives the same template, asset hashes included', () => {
    // Deeper than the first: esbuild's source map paths are relative to the output directory.
    const elsewhere = join(tempDir(), 'deeper', 'still');
    expect(Template.fromStack(newApp({}, elsewhere).stack).toJSON()).toEqual(template.toJSON());
  }, BUNDLED_SYNTH_TIMEOUT);
});
