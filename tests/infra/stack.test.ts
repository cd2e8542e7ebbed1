// The synthesized template, asserted by value: the promises the infrastructure itself keeps.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { TABLE_SCHEMA } from '../../shared/adapters/dynamodb/table-schema.js';

process.env.CDK_DEFAULT_ACCOUNT ??= '123456789012';
process.env.CDK_DEFAULT_REGION ??= 'eu-west-1';

let template: Template;
const outdir = () => mkdtempSync(join(tmpdir(), 'm2t-cdk-'));

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (type: string) => Object.values(template.findResources(type)) as Resource[];

beforeAll(() => {
  const { stack } = buildApp({}, outdir());
  template = Template.fromStack(stack);
});

describe('TicketStore', () => {
  it('has TTL on expiresAt, PITR, a stream, deletion protection and a rotating CMK', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      BillingMode: 'PAY_PER_REQUEST',
      Replicas: [Match.objectLike({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
    });
  });

  it('matches the key schema and indexes the local stack uses', () => {
    const [table] = resources('AWS::DynamoDB::GlobalTable');
    expect(table?.Properties.KeySchema).toEqual(TABLE_SCHEMA.KeySchema);
    const indexes = table?.Properties.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: unknown; Projection: unknown }>;
    expect(indexes.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection }))).toEqual(TABLE_SCHEMA.GlobalSecondaryIndexes);
  });
});

describe('AttachmentStore', () => {
  it('is KMS-encrypted, versioned, private, TLS-only and short-lived in every copy', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ BucketKeyEnabled: true, ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
    });
    const main = resources('AWS::S3::Bucket').find((b) => b.Properties.VersioningConfiguration);
    const rules = (main?.Properties.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;
    const noncurrent = rules.find((r) => r.NoncurrentVersionExpiration) as { NoncurrentVersionExpiration: { NoncurrentDays: number } };
    expect(noncurrent.NoncurrentVersionExpiration.NoncurrentDays).toBeLessThanOrEqual(30);
    const multipart = rules.find((r) => r.AbortIncompleteMultipartUpload) as { AbortIncompleteMultipartUpload: { DaysAfterInitiation: number } };
    expect(multipart.AbortIncompleteMultipartUpload.DaysAfterInitiation).toBeLessThanOrEqual(1);
  });

  it('blocks public access and denies non-TLS requests on every bucket', () => {
    const buckets = resources('AWS::S3::Bucket');
    expect(buckets).toHaveLength(2);
    for (const bucket of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    }
    const policies = resources('AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    }
  });

  it('expires its access logs within 30 days', () => {
    const logs = resources('AWS::S3::Bucket').find((b) => !b.Properties.VersioningConfiguration);
    const rules = (logs?.Properties.LifecycleConfiguration as { Rules: Array<{ ExpirationInDays?: number }> }).Rules;
    expect(Math.max(...rules.map((r) => r.ExpirationInDays ?? Infinity))).toBeLessThanOrEqual(30);
  });
});

describe('keys', () => {
  it('rotates every customer-managed key', () => {
    const keys = resources('AWS::KMS::Key');
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys) expect(key.Properties.EnableKeyRotation).toBe(true);
  });
});

describe('MailIngest', () => {
  it('feeds the worker from an encrypted FIFO queue with a dead-letter queue, both bounded', () => {
    const queues = resources('AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(3);
    for (const queue of queues) {
      expect(queue.Properties.KmsMasterKeyId).toBeDefined();
      expect(queue.Properties.MessageRetentionPeriod).toBeLessThanOrEqual(14 * 24 * 3600);
    }
    expect(queues.filter((q) => q.Properties.FifoQueue === true)).toHaveLength(2);
    const jobs = queues.find((q) => q.Properties.RedrivePolicy) as Resource;
    expect((jobs.Properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(5);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
  });

  it('runs Node 22 on arm64 with resource names from the stack and logs kept at most 30 days', () => {
    const [fn] = resources('AWS::Lambda::Function');
    expect(fn?.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    const env = (fn?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['TABLE_NAME', 'BUCKET_NAME', 'TENANT_KEY_ALIAS_PREFIX']));
    expect(typeof env.TABLE_NAME).not.toBe('string'); // a reference to the table, never a literal name
    const visibility = resources('AWS::SQS::Queue').find((q) => q.Properties.RedrivePolicy)?.Properties.VisibilityTimeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * (fn?.Properties.Timeout as number));
    for (const group of resources('AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toBeLessThanOrEqual(30);
  });
});

describe('Retention', () => {
  it('keeps backups at most backupRetentionDays, encrypted with a rotating key', () => {
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ Lifecycle: { DeleteAfterDays: 365 } })] },
    });
    template.hasResourceProperties('AWS::Backup::BackupVault', { EncryptionKeyArn: Match.anyValue() });
    const { stack } = buildApp({ backupRetentionDays: 90 }, outdir());
    Template.fromStack(stack).hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ Lifecycle: { DeleteAfterDays: 90 } })] },
    });
  });

  it('consumes only the TTL service\'s deletions from the table stream, with a failure destination', () => {
    const mapping = resources('AWS::Lambda::EventSourceMapping').find((m) => m.Properties.FilterCriteria);
    const pattern = JSON.parse((mapping?.Properties.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters[0]?.Pattern as string);
    expect(pattern).toEqual({ eventName: ['REMOVE'], userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] } });
    expect(mapping?.Properties).toMatchObject({ BisectBatchOnFunctionError: true, DestinationConfig: { OnFailure: { Destination: expect.anything() } } });
  });

  it('sweeps daily and alarms when the sweep finds leftovers', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BackstopLeftoversFound', Namespace: 'mail2ticket', Threshold: 1 });
  });
});

describe('IAM', () => {
  const dataServices = /^(dynamodb|s3|sqs|kms|secretsmanager):/;

  it('grants no wildcard actions and no "*" resource on data stores, queues, keys or secrets', () => {
    const statements = resources('AWS::IAM::Policy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement);
    expect(statements.length).toBeGreaterThan(3);
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      for (const action of actions) expect(action, JSON.stringify(statement)).not.toMatch(/\*/);
      const resourceList = [statement.Resource].flat();
      if (actions.some((a) => dataServices.test(a))) expect(resourceList, JSON.stringify(statement)).not.toContain('*');
    }
  });

  it('lets tenant keys be used only through tenant aliases and with our encryption context', () => {
    const statements = resources('AWS::IAM::Policy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<{ Sid?: string; Condition?: Record<string, unknown> }> }).Statement);
    const dataKeys = statements.find((s) => s.Sid === 'TenantDataKeys');
    expect(dataKeys?.Condition).toMatchObject({
      'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'mailbox', 'purpose'] },
    });
    expect(statements.find((s) => s.Sid === 'TenantKeyLookup')?.Condition).toMatchObject({ 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' } });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('synthesizes with no unacknowledged finding', () => {
    const { app } = buildApp({}, outdir());
    expect(() => app.synth()).not.toThrow();
  });

  it('fails the synth on a new violation (the check can fail)', () => {
    const { app, stack } = buildApp({}, outdir());
    new s3.Bucket(Stack.of(stack), 'CarelessBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S(1|10)/);
  });
});

describe('context validation', () => {
  it.each([
    [{ retentionDays: 45 }, /retentionDays/],
    [{ retentionDays: '0' }, /retentionDays/],
    [{ backupRetentionDays: 400 }, /backupRetentionDays/],
  ])('%j is refused', (context, message) => {
    expect(() => buildApp(context, outdir())).toThrow(message);
  });
});
