// The operator's tenant commands in AWS: one function, invoked directly (no trigger, no URL), that
// creates a tenant with its own KMS keys, invites its admin, revokes invites and closes accounts. Its
// role is the only one in the stack that may create KMS keys or schedule their deletion, and only
// keys carrying the mail2ticket tenant tag: CreateKey and tag-on-create only with exactly the two
// mail2ticket tags, CreateAlias only under alias/mail2ticket/tenant/ and onto tagged keys, rotation,
// lookup and deletion only of tagged keys. It never encrypts, decrypts or MACs with a tenant key.
// Every closure is counted, and one closure raises an alarm: a human should know.
import { Aws, Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ROLE_TAG, TENANT_TAG } from '../../shared/adapters/crypto/kms-tenant-keys.js';
import { TABLE_SCHEMA } from '../../shared/adapters/dynamodb/table-schema.js';
import { grantSecretRead } from './connector-grants.js';
import { TENANT_KEY_ALIAS_PREFIX } from './mail-ingest.js';
import { WorkerFunction } from './worker-function.js';

export const TENANT_LIFECYCLE_ENTRY = 'functions/tenant-lifecycle/handler.ts';
export const TENANT_LIFECYCLE_SERVICE_NAME = 'mail2ticket-tenant-lifecycle';
/** GSI1: tenants and invites by id (DynamoDbConsentStore); GSI4: a mailbox's items a closure stamps. */
export const TENANT_LIFECYCLE_INDEXES = ['GSI1', 'GSI4'] as const;
/** What the function publishes (Powertools: namespace, `service` dimension). */
export const TENANT_METRICS = { namespace: 'mail2ticket', service: 'tenant-lifecycle', created: 'tenant_keys_created', scheduled: 'tenant_keys_scheduled_for_deletion' } as const;
/** The key specs a tenant key may have: its data key and its HMAC index key. */
export const TENANT_KEY_SPECS = ['SYMMETRIC_DEFAULT', 'HMAC_256'] as const;

export interface TenantLifecycleProps {
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  /** Named for the shared configuration loader only: the function reads, writes and deletes no object. */
  readonly bucket: s3.IBucket;
  /** The consent site's HMAC key of invite links and its key (read only): the links must verify there. */
  readonly signingSecret: secretsmanager.ISecret;
  readonly signingSecretKey: kms.IKey;
  /** The consent site's public origin: invite links are built on it. */
  readonly consentBaseUrl: string;
  /**
   * Default 5 minutes: a new key's tags may take minutes to reach KMS authorization (the provisioner
   * waits about four), and a closure disconnects every mailbox of the tenant, item by item.
   */
  readonly timeout?: Duration;
}

export class TenantLifecycle extends Construct {
  public readonly function: WorkerFunction;
  public readonly alarms: { readonly keysScheduledForDeletion: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: TenantLifecycleProps) {
    super(scope, id);
    const { table } = props;
    const missing = TENANT_LIFECYCLE_INDEXES.filter((name) => !TABLE_SCHEMA.GlobalSecondaryIndexes.some((index) => index.IndexName === name));
    if (missing.length > 0) throw new Error(`TABLE_SCHEMA has no ${missing.join(', ')}`);

    this.function = new WorkerFunction(this, 'Function', {
      entry: TENANT_LIFECYCLE_ENTRY,
      serviceName: TENANT_LIFECYCLE_SERVICE_NAME,
      memorySize: 512,
      timeout: props.timeout ?? Duration.minutes(5),
      environment: {
        TABLE_NAME: table.tableName,
        BUCKET_NAME: props.bucket.bucketName,
        TENANT_KEY_ALIAS_PREFIX,
        CONSENT_BASE_URL: props.consentBaseUrl,
        CONSENT_SIGNING_SECRET_ARN: props.signingSecret.secretArn,
      },
    });
    const role = this.function.role;

    // ── the table: tenants and invites, and a closure's mailbox disconnects (item by item) ──
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TableItems', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], resources: [table.tableArn] }));
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TableIndexes', actions: ['dynamodb:Query'], resources: TENANT_LIFECYCLE_INDEXES.map((index) => `${table.tableArn}/index/${index}`) }));
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TableKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.tableKey.keyArn] }));
    grantSecretRead(role, props.signingSecret, props.signingSecretKey, 'SigningSecret');

    // ── tenant keys: created, aliased, rotated, looked up and scheduled for deletion, nothing else ──
    const anyKey = `arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`;
    const withTenantTags = {
      // Both mail2ticket tags present, no other tag key, and a known role.
      Null: { [`aws:RequestTag/${TENANT_TAG}`]: 'false', [`aws:RequestTag/${ROLE_TAG}`]: 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_TAG, ROLE_TAG] },
      StringEquals: { [`aws:RequestTag/${ROLE_TAG}`]: ['data', 'index'] },
    };
    const taggedKey = { Null: { [`aws:ResourceTag/${TENANT_TAG}`]: 'false' } };
    // CreateKey names no resource (the key does not exist yet): IAM requires "*".
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CreateTenantKeys',
        actions: ['kms:CreateKey'],
        resources: ['*'],
        conditions: {
          ...withTenantTags,
          StringEquals: { ...withTenantTags.StringEquals, 'kms:KeySpec': [...TENANT_KEY_SPECS], 'kms:KeyOrigin': 'AWS_KMS' },
          Bool: { 'kms:MultiRegion': 'false', 'kms:BypassPolicyLockoutSafetyCheck': 'false' },
        },
      }),
    );
    // Tags given to CreateKey are authorized as kms:TagResource on every key of the account and Region.
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TagTenantKeysOnCreate', actions: ['kms:TagResource'], resources: [anyKey], conditions: withTenantTags }));
    // CreateAlias is authorized twice: on the alias (ours only) and on the key (a tenant key only).
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TenantAliases', actions: ['kms:CreateAlias'], resources: [`arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:${TENANT_KEY_ALIAS_PREFIX}*`] }));
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TenantAliasTargets', actions: ['kms:CreateAlias'], resources: [anyKey], conditions: taggedKey }));
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'TenantKeyAdministration', actions: ['kms:EnableKeyRotation', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion'], resources: [anyKey], conditions: taggedKey }),
    );
    const policy = role.node.findChild('DefaultPolicy');
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'kms:CreateKey names no resource (the key does not exist yet), so IAM requires "*". The statement allows it only with both mail2ticket tags and no other tag key, a known role tag, a SYMMETRIC_DEFAULT or HMAC_256 key of KMS origin, single-Region, without bypassing the key policy lockout check.',
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      reason:
        'Tenant keys are created at run time, so no ARN exists at synth. Tag-on-create (kms:TagResource) must cover every key of the account and Region and is allowed only with exactly the two mail2ticket tags; aliasing, rotation, lookup and deletion are allowed only on keys carrying the mail2ticket:tenant tag.',
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:${TENANT_KEY_ALIAS_PREFIX}*]`,
      reason: 'Each tenant gets two aliases, alias/mail2ticket/tenant/<tenantId> and <tenantId>-index, named at run time; kms:CreateAlias only, and only under that prefix.',
    });

    this.alarms = {
      keysScheduledForDeletion: new cloudwatch.Alarm(this, 'KeysScheduledForDeletionAlarm', {
        alarmDescription:
          "A tenant's account was closed: its KMS keys are scheduled for deletion and every copy of its data becomes unreadable when they go. If this was not intended, cancel the deletion within the pending window (aws kms cancel-key-deletion, then enable-key).",
        metric: new cloudwatch.Metric({
          namespace: TENANT_METRICS.namespace,
          metricName: TENANT_METRICS.scheduled,
          dimensionsMap: { service: TENANT_METRICS.service },
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
  }
}
