// The tenant-lifecycle function's infrastructure, asserted by value: its environment (the consent
// site's base URL and signing secret, so its invite links verify there), its grants call by call, the
// alarm on a closed account, the output an operator invokes it by — and, across EVERY policy of the
// synthesized stack, that no other principal may create KMS keys or schedule their deletion.
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../functions/tenant-lifecycle/compose.js';
import { KEYS_SCHEDULED_METRIC } from '../../functions/tenant-lifecycle/make-handler.js';
import { CONSENT_SERVICE_NAME } from '../../infra/constructs/consent-site.js';
import { TENANT_KEY_ALIAS_PREFIX } from '../../infra/constructs/mail-ingest.js';
import { TENANT_LIFECYCLE_INDEXES, TENANT_LIFECYCLE_SERVICE_NAME, TENANT_METRICS } from '../../infra/constructs/tenant-lifecycle.js';
import { DEFAULT_ALIAS_PREFIX } from '../../shared/adapters/crypto/kms-key-service.js';
import { ROLE_TAG, TENANT_TAG } from '../../shared/adapters/crypto/kms-tenant-keys.js';
import { ENV, newApp, removeTempDirs, SKIP_BUNDLING } from './synth.js';
import { arn, fn, idOf, ofType, resourcesOf, roleOf, statementsOf, type Json, type Statement } from './template.js';

let t: Json;

beforeAll(() => {
  // Template only: bundles.test.ts starts the real bundle (it reads the signing secret at cold start).
  t = Template.fromStack(newApp(SKIP_BUNDLING).stack).toJSON() as Json;
});
afterAll(removeTempDirs);

const lifecycle = () => fn(t, TENANT_LIFECYCLE_SERVICE_NAME);
const pseudo = (name: string) => ({ Ref: `AWS::${name}` });
const anyKey = { 'Fn::Join': ['', ['arn:', pseudo('Partition'), ':kms:', pseudo('Region'), ':', pseudo('AccountId'), ':key/*']] };
const tenantAliases = { 'Fn::Join': ['', ['arn:', pseudo('Partition'), ':kms:', pseudo('Region'), ':', pseudo('AccountId'), ':alias/mail2ticket/tenant/*']] };
const taggedKey = { Null: { 'aws:ResourceTag/mail2ticket:tenant': 'false' } };
const withTenantTags = {
  Null: { 'aws:RequestTag/mail2ticket:tenant': 'false', 'aws:RequestTag/mail2ticket:role': 'false' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': ['mail2ticket:tenant', 'mail2ticket:role'] },
  StringEquals: { 'aws:RequestTag/mail2ticket:role': ['data', 'index'] },
};

describe('the tenant-lifecycle function', () => {
  it('gets the table, the tenant key alias prefix, and the consent site’s own base URL and signing secret', () => {
    const consent = fn(t, CONSENT_SERVICE_NAME).env;
    expect(lifecycle().env).toEqual({
      TABLE_NAME: { Ref: idOf(t, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable') },
      BUCKET_NAME: { Ref: idOf(t, 'AWS::S3::Bucket', 'AttachmentStoreBucket') },
      TENANT_KEY_ALIAS_PREFIX: 'alias/mail2ticket/tenant/',
      CONSENT_BASE_URL: consent.CONSENT_BASE_URL,
      CONSENT_SIGNING_SECRET_ARN: { Ref: idOf(t, 'AWS::SecretsManager::Secret', 'ConsentSiteSigningSecret') },
      POWERTOOLS_SERVICE_NAME: 'mail2ticket-tenant-lifecycle',
      NODE_OPTIONS: '--enable-source-maps',
    });
    // The aliases the keys get are the ones every other function resolves.
    expect(TENANT_KEY_ALIAS_PREFIX).toBe(DEFAULT_ALIAS_PREFIX);
    expect(lifecycle().props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 512, Timeout: 300 });
  });

  it('has no trigger: no event source, no permission for any service or URL to invoke it', () => {
    const id = lifecycle().id;
    const mentions = (type: string) => ofType(t, type).filter(([, r]) => JSON.stringify(r.Properties).includes(`"${id}"`));
    expect(mentions('AWS::Lambda::EventSourceMapping')).toEqual([]);
    expect(mentions('AWS::Lambda::Permission')).toEqual([]);
    expect(mentions('AWS::Lambda::Url')).toEqual([]);
  });

  it('is named in the TenantLifecycleFunctionName output', () => {
    const outputs = t.Outputs as Record<string, { Value: unknown }>;
    expect(outputs.TenantLifecycleFunctionName?.Value).toEqual({ Ref: lifecycle().id });
  });

  it('may do exactly this, call by call: table items, the signing secret, and tag-conditioned tenant key administration', () => {
    const table = idOf(t, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable');
    const secret = idOf(t, 'AWS::SecretsManager::Secret', 'ConsentSiteSigningSecret');
    const logGroup = (lifecycle().props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(statementsOf(t, TENANT_LIFECYCLE_SERVICE_NAME)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn(logGroup) },
      { Sid: 'TableItems', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], Resource: arn(table) },
      { Sid: 'TableIndexes', Effect: 'Allow', Action: 'dynamodb:Query', Resource: TENANT_LIFECYCLE_INDEXES.map((index) => ({ 'Fn::Join': ['', [arn(table), `/index/${index}`]] })) },
      { Sid: 'TableKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: arn(idOf(t, 'AWS::KMS::Key', 'TicketStoreKey')) },
      { Sid: 'SigningSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secret } },
      {
        Sid: 'SigningSecretKey',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: arn(idOf(t, 'AWS::KMS::Key', 'ConsentSiteSecretKey')),
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', pseudo('Region'), '.amazonaws.com']] }, 'kms:EncryptionContext:SecretARN': { Ref: secret } } },
      },
      {
        Sid: 'CreateTenantKeys',
        Effect: 'Allow',
        Action: 'kms:CreateKey',
        Resource: '*',
        Condition: {
          ...withTenantTags,
          StringEquals: { 'aws:RequestTag/mail2ticket:role': ['data', 'index'], 'kms:KeySpec': ['SYMMETRIC_DEFAULT', 'HMAC_256'], 'kms:KeyOrigin': 'AWS_KMS' },
          Bool: { 'kms:MultiRegion': 'false', 'kms:BypassPolicyLockoutSafetyCheck': 'false' },
        },
      },
      { Sid: 'TagTenantKeysOnCreate', Effect: 'Allow', Action: 'kms:TagResource', Resource: anyKey, Condition: withTenantTags },
      { Sid: 'TenantAliases', Effect: 'Allow', Action: 'kms:CreateAlias', Resource: tenantAliases },
      { Sid: 'TenantAliasTargets', Effect: 'Allow', Action: 'kms:CreateAlias', Resource: anyKey, Condition: taggedKey },
      { Sid: 'TenantKeyAdministration', Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:EnableKeyRotation', 'kms:ScheduleKeyDeletion'], Resource: anyKey, Condition: taggedKey },
    ]);
    // The tag keys the conditions name are the ones the adapter writes.
    expect([TENANT_TAG, ROLE_TAG]).toEqual(['mail2ticket:tenant', 'mail2ticket:role']);
  });

  it('never uses a tenant key: no data key, decrypt or MAC on tenant keys, no object, no queue, no key policy change', () => {
    const onTenantKeys = statementsOf(t, TENANT_LIFECYCLE_SERVICE_NAME).filter((s) => JSON.stringify(s.Resource).includes(':key/*') || s.Resource === '*');
    const actions = onTenantKeys.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual(['kms:CreateAlias', 'kms:CreateKey', 'kms:DescribeKey', 'kms:EnableKeyRotation', 'kms:ScheduleKeyDeletion', 'kms:TagResource']);
    const text = JSON.stringify(statementsOf(t, TENANT_LIFECYCLE_SERVICE_NAME));
    expect(text).not.toMatch(/"s3:|"sqs:|kms:(PutKeyPolicy|DisableKey|UntagResource|DeleteAlias|UpdateAlias|CancelKeyDeletion|GenerateMac)|dynamodb:(Scan|BatchWriteItem|DeleteItem)/);
  });

  it('raises an alarm when an account is closed (one key deletion scheduled), on the metric the function publishes', () => {
    expect(TENANT_METRICS).toEqual({ namespace: METRICS_NAMESPACE, service: METRICS_SERVICE, created: 'tenant_keys_created', scheduled: KEYS_SCHEDULED_METRIC });
    const alarms = ofType(t, 'AWS::CloudWatch::Alarm').filter(([, r]) => r.Properties.MetricName === KEYS_SCHEDULED_METRIC);
    expect(alarms).toHaveLength(1);
    const [, alarm] = alarms[0] as [string, { Properties: Json }];
    expect(alarm.Properties).toMatchObject({
      Namespace: 'mail2ticket',
      MetricName: 'tenant_keys_scheduled_for_deletion',
      Dimensions: [{ Name: 'service', Value: 'tenant-lifecycle' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(String(alarm.Properties.AlarmDescription)).toMatch(/cancel-key-deletion/);
    // The stack's observability aspect gives it the alarm topic like every other alarm.
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: idOf(t, 'AWS::SNS::Topic', 'ObservabilityAlarmTopic') }]);
  });
});

// ── every policy of the stack ───────────────────────────────────────────────
const GUARDED = ['kms:CreateKey', 'kms:ScheduleKeyDeletion'];

/** Whether an IAM action pattern (wildcards, any case) covers one of the guarded actions. */
function grantsGuarded(pattern: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return GUARDED.some((action) => regex.test(action));
}

interface Found {
  where: string;
  statement: Statement;
}

/** Every Allow statement of every policy document anywhere in the template, with where it sits. */
function allowStatements(template: Json): Found[] {
  const found: Found[] = [];
  const walk = (value: unknown, where: string): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${where}[${i}]`));
    if (typeof value !== 'object' || value === null) return;
    const statements = (value as { Statement?: unknown }).Statement;
    if (Array.isArray(statements)) for (const statement of statements as Statement[]) if (statement.Effect === 'Allow') found.push({ where, statement });
    for (const [key, child] of Object.entries(value)) walk(child, `${where}.${key}`);
  };
  for (const [id, resource] of Object.entries(resourcesOf(template))) walk(resource.Properties, id);
  return found;
}

describe('across every policy of the stack', () => {
  it('recognises the guarded actions however they are written', () => {
    for (const pattern of ['kms:CreateKey', 'KMS:createkey', 'kms:*', '*', 'kms:Create*', 'kms:Schedule*', 'kms:*Deletion', 'kms:CreateKe?']) expect(grantsGuarded(pattern), pattern).toBe(true);
    for (const pattern of ['kms:CreateAlias', 'kms:CancelKeyDeletion', 'kms:Decrypt', 'kms:Describe*', 's3:*']) expect(grantsGuarded(pattern), pattern).toBe(false);
  });

  it('lets only the tenant-lifecycle role create KMS keys or schedule their deletion; key policies only delegate to the account', () => {
    const grants = allowStatements(t).filter(({ statement }) => [statement.Action ?? []].flat().some((a) => grantsGuarded(String(a))));
    expect(grants.length).toBeGreaterThan(0);
    const lifecycleRole = roleOf(t, TENANT_LIFECYCLE_SERVICE_NAME);
    const root = `arn:aws:iam::${ENV.account}:root`;
    const byOwner = grants.map(({ where, statement }) => {
      const id = where.split('.')[0] as string;
      const resource = resourcesOf(t)[id];
      if (resource?.Type === 'AWS::IAM::Policy') {
        // A policy attached to the lifecycle role and to no other.
        expect(resource.Properties.Roles, where).toEqual([{ Ref: lifecycleRole }]);
        return { owner: 'tenant-lifecycle', sid: statement.Sid };
      }
      if (resource?.Type === 'AWS::KMS::Key') {
        // CDK's default key policy of the stack's own keys: the account may manage that one key
        // through IAM policies — which, above, only the lifecycle role holds for these actions.
        expect(statement.Principal, where).toEqual({ AWS: root });
        expect(statement.Resource, where).toBe('*');
        return { owner: 'account (key policy)', sid: id };
      }
      // Anything else — an inline role policy, a managed policy, a resource policy — is a failure.
      return { owner: `${resource?.Type ?? 'unknown'} ${where}`, sid: statement.Sid };
    });
    expect(byOwner.filter((g) => g.owner !== 'account (key policy)')).toEqual([
      { owner: 'tenant-lifecycle', sid: 'CreateTenantKeys' },
      { owner: 'tenant-lifecycle', sid: 'TenantKeyAdministration' },
    ]);
    // No NotAction statement anywhere could grant them sideways.
    expect(allowStatements(t).filter(({ statement }) => 'NotAction' in statement)).toEqual([]);
  });
});
