// The ingest worker: an SQS FIFO queue (one message group per mailbox, so a mailbox's mail is
// processed in order and never concurrently) feeding a Lambda that runs ingestMessage, with a
// dead-letter queue and an alarm on it. Least privilege: the table, the bucket's objects, the store
// keys, and tenant keys only through their aliases and only with our encryption context.
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WorkerFunction } from './worker-function.js';
import { TABLE_SCHEMA } from '../../shared/adapters/dynamodb/table-schema.js';
import { MAIL_STREAMING_V8_OPTIONS } from '../runtime-options.js';

/** Tenant keys are reached as `<prefix><tenantId>` (data) and `<prefix><tenantId>-index` (HMAC). */
export const TENANT_KEY_ALIAS_PREFIX = 'alias/mail2ticket/tenant/';

export interface MailIngestProps {
  readonly table: dynamodb.ITableV2;
  /** The table's CMK: DynamoDB needs the caller to be allowed to use it. */
  readonly tableKey: kms.IKey;
  readonly bucket: s3.IBucket;
  /** The bucket's SSE-KMS key. */
  readonly bucketKey: kms.IKey;
  /** Receives before a job moves to the dead-letter queue. Default 5. */
  readonly maxReceiveCount?: number;
  /** The worker's timeout; the queue's visibility timeout is six times it. Default 2 minutes. */
  readonly timeout?: Duration;
  /** Default one month (the worker's logs may name tenants and mailboxes by id, never content). */
  readonly logRetention?: logs.RetentionDays;
}

export class MailIngest extends Construct {
  /** Ingest jobs: FIFO, message group = mailbox. Producers need SendMessage and the queue key. */
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly worker: NodejsFunction;
  public readonly logGroup: logs.ILogGroup;
  public readonly queueKey: kms.Key;
  public readonly dlqAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: MailIngestProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(2);
    ({ key: this.queueKey, queue: this.queue, deadLetterQueue: this.deadLetterQueue } = fifoJobQueue(this, {
      description: 'mail2ticket ingest queues',
      ids: { queue: 'Jobs', deadLetters: 'DeadLetters' },
      consumerTimeout: timeout,
      maxReceiveCount: props.maxReceiveCount ?? 5,
    }));

    const worker = new WorkerFunction(this, 'Worker', {
      entry: 'functions/ingest/handler.ts',
      serviceName: 'mail2ticket-ingest',
      timeout,
      v8Options: MAIL_STREAMING_V8_OPTIONS,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      environment: { TABLE_NAME: props.table.tableName, BUCKET_NAME: props.bucket.bucketName, TENANT_KEY_ALIAS_PREFIX },
    });
    this.worker = worker.fn;
    this.logGroup = worker.logGroup;
    const role = worker.role;
    this.worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));

    grantStores(role, props);
    grantTenantKeys(role);

    this.dlqAlarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'Ingest jobs failed every retry and wait in the dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** The stores a worker that ingests mail reaches: the table, the bucket and their keys. */
export type IngestStores = Pick<MailIngestProps, 'table' | 'tableKey' | 'bucket' | 'bucketKey'>;

/**
 * Exactly the calls the repository and blob store make; each index named, no action wildcards.
 * Shared by every worker that runs ingestMessage (the ingest worker, the connectors' sync workers).
 */
export function grantStores(role: iam.Role, props: IngestStores): void {
  const { table, bucket } = props;
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'TicketTable',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query'],
      resources: [table.tableArn, ...TABLE_SCHEMA.GlobalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.IndexName}`)],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'Objects',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'],
      resources: [bucket.arnForObjects('*')],
    }),
  );
  role.addToPolicy(new iam.PolicyStatement({ sid: 'ObjectsList', actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [bucket.bucketArn] }));
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'StoreKeys',
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [props.tableKey.keyArn, props.bucketKey.keyArn],
    }),
  );
}

/** The encryption context keys of every tenant data key (shared/adapters/crypto/encryption-context.ts). */
export const TENANT_CONTEXT_KEYS = ['tenant', 'mailbox', 'purpose'] as const;

/** What a role may do with tenant keys; the defaults are what ingestMessage needs. */
export interface TenantKeyUse {
  /** Default GenerateDataKey and Decrypt (encrypting and reading objects and sealed fields). */
  readonly dataKeyActions?: readonly ('kms:GenerateDataKey' | 'kms:Decrypt')[];
  /** Default DescribeKey (alias to ARN) and GenerateMac (the tenant's HMAC index key). */
  readonly lookupActions?: readonly ('kms:DescribeKey' | 'kms:GenerateMac')[];
}

/**
 * Tenant keys are created at run time, one pair per tenant, so they can't be named here: the worker
 * may use a key only while it carries a mail2ticket tenant alias (kms:ResourceAliases, since the
 * keyring calls KMS by key ARN, not by alias), and data keys only under exactly our context: no key
 * outside the three (ForAllValues) and each of the three present (Null false). The worker needs no
 * kms:Encrypt: the keyring has one generator key and wraps with GenerateDataKey.
 */
export function grantTenantKeys(role: iam.Role, use: TenantKeyUse = {}): void {
  const keys = `arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`;
  const viaTenantAlias = { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': `${TENANT_KEY_ALIAS_PREFIX}*` } };
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'TenantDataKeys',
      actions: [...(use.dataKeyActions ?? ['kms:GenerateDataKey', 'kms:Decrypt'])],
      resources: [keys],
      conditions: {
        ...viaTenantAlias,
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...TENANT_CONTEXT_KEYS] },
        Null: Object.fromEntries(TENANT_CONTEXT_KEYS.map((key) => [`kms:EncryptionContext:${key}`, 'false'])),
      },
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({ sid: 'TenantKeyLookup', actions: [...(use.lookupActions ?? ['kms:DescribeKey', 'kms:GenerateMac'])], resources: [keys], conditions: viaTenantAlias }),
  );
}

export interface FifoJobQueueOptions {
  description: string;
  /** Construct ids of the two queues (they name the CloudFormation resources). */
  ids: { queue: string; deadLetters: string };
  /** The consuming function's timeout: the visibility timeout is six times it. */
  consumerTimeout: Duration;
  maxReceiveCount: number;
}

/**
 * A FIFO job queue and its FIFO dead-letter queue under their own rotating KMS key (construct id
 * `QueueKey`), TLS only. Jobs carry explicit deduplication ids and ids only, never content; still,
 * nothing waits longer than 14 days.
 */
export function fifoJobQueue(scope: Construct, options: FifoJobQueueOptions): { key: kms.Key; queue: sqs.Queue; deadLetterQueue: sqs.Queue } {
  const key = new kms.Key(scope, 'QueueKey', { description: options.description, enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
  const queueDefaults = {
    fifo: true,
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    dataKeyReuse: Duration.hours(1),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  };
  const deadLetterQueue = new sqs.Queue(scope, options.ids.deadLetters, queueDefaults);
  const queue = new sqs.Queue(scope, options.ids.queue, {
    ...queueDefaults,
    contentBasedDeduplication: false,
    // AWS advises six times the function timeout, so a retry never overlaps a running attempt.
    visibilityTimeout: Duration.seconds(options.consumerTimeout.toSeconds() * 6),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: options.maxReceiveCount },
  });
  return { key, queue, deadLetterQueue };
}
