// Retention enforced by the infrastructure: the TTL stream consumer (filtered to deletions by the
// TTL service, at the event source itself), the daily backstop sweep with an alarm when it finds
// anything (the same run removes orphan objects of live mailboxes), and AWS Backup recovery points
// that expire within `backupRetentionDays` (≤ 365).
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../shared/adapters/dynamodb/table-schema.js';
import { ERASURE_JOURNAL_PREFIX } from '../../shared/domain/requester-journal.js';
import { TOMBSTONE_PREFIX } from '../../shared/domain/tombstones.js';
import { grantTenantKeys, TENANT_KEY_ALIAS_PREFIX } from './mail-ingest.js';
import { WorkerFunction } from './worker-function.js';
import { exactFailureDestination } from './failure-destination.js';

export interface RetentionProps {
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  readonly bucket: s3.IBucket;
  /** The bucket's SSE-KMS key: the sweeper writes and reads tombstones and reads the erasure journal. */
  readonly bucketKey: kms.IKey;
  readonly backupRetentionDays: number;
}

export class Retention extends Construct {
  public readonly purgeStream: WorkerFunction;
  public readonly sweeper: WorkerFunction;
  public readonly backupPlan: backup.BackupPlan;
  public readonly backupVault: backup.BackupVault;
  /** The table's selection; its role is the one the Backup service assumes. */
  public readonly backupSelection: backup.BackupSelection;
  public readonly leftoversAlarm: cloudwatch.Alarm;
  public readonly streamFailures: sqs.Queue;

  constructor(scope: Construct, id: string, props: RetentionProps) {
    super(scope, id);
    const { table, bucket } = props;
    const environment = { TABLE_NAME: table.tableName, BUCKET_NAME: bucket.bucketName };

    this.purgeStream = new WorkerFunction(this, 'PurgeStream', { entry: 'functions/purge-stream/handler.ts', serviceName: 'mail2ticket-purge-stream', environment });
    deleteObjects(this.purgeStream.role, bucket);
    const failureKey = new kms.Key(this, 'FailureKey', { description: 'mail2ticket purge stream failures', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    this.streamFailures = new sqs.Queue(this, 'StreamFailures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: failureKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.purgeStream.fn.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        retryAttempts: 10,
        bisectBatchOnError: true,
        onFailure: exactFailureDestination(this.streamFailures, failureKey, this.purgeStream.role),
        // Only the TTL service's deletions are retention events (the handler checks again).
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('REMOVE'), userIdentity: { type: lambda.FilterRule.isEqual('Service'), principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com') } })],
      }),
    );

    this.sweeper = new WorkerFunction(this, 'Sweeper', {
      entry: 'functions/sweeper/handler.ts',
      serviceName: 'mail2ticket-sweeper',
      environment: { ...environment, TENANT_KEY_ALIAS_PREFIX },
      timeout: Duration.minutes(15),
    });
    deleteObjects(this.sweeper.role, bucket);
    // Each purge leaves a tombstone; after a restore the sweeper reads them back, and the journal of
    // requester erasures (shared/domain/tombstones.ts, requester-journal.ts). No other object is read.
    this.sweeper.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'WriteTombstones', actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${TOMBSTONE_PREFIX}*`)] }),
    );
    this.sweeper.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRetentionRecords',
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${TOMBSTONE_PREFIX}*`), bucket.arnForObjects(`${ERASURE_JOURNAL_PREFIX}*`)],
      }),
    );
    this.sweeper.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'BucketKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.bucketKey.keyArn] }),
    );
    // Replaying the journaled requester erasures after a restore reads, redacts and re-seals the
    // restored records: the tenant keys, through their aliases and with our encryption context only.
    grantTenantKeys(this.sweeper.role);
    this.sweeper.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SweepTable',
        // BatchGetItem: the orphan sweep reads back the few fields of items the KEYS_ONLY index lists.
        // UpdateItem: a disconnect's recheck stamps the TTL on what an ingestion under way wrote after it.
        // DeleteItem: a replayed requester erasure deletes a ticket it left without messages.
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
        resources: [table.tableArn, ...TABLE_SCHEMA.GlobalSecondaryIndexes.map((index) => `${table.tableArn}/index/${index.IndexName}`)],
      }),
    );
    // After a restore (README runbook) the sweeper turns the table's TTL and stream back on.
    this.sweeper.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreSafeguards',
        actions: ['dynamodb:DescribeTimeToLive', 'dynamodb:UpdateTimeToLive', 'dynamodb:DescribeTable', 'dynamodb:UpdateTable'],
        resources: [table.tableArn],
      }),
    );
    this.sweeper.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'TableKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.tableKey.keyArn] }),
    );
    new events.Rule(this, 'Daily', { schedule: events.Schedule.rate(Duration.days(1)), targets: [new targets.LambdaFunction(this.sweeper.fn, { retryAttempts: 2 })] });
    this.leftoversAlarm = new cloudwatch.Alarm(this, 'LeftoversAlarm', {
      alarmDescription: 'The backstop sweep found data the TTL or the stream consumer should already have removed',
      metric: new cloudwatch.Metric({ namespace: 'mail2ticket', metricName: 'BackstopLeftoversFound', dimensionsMap: { service: 'sweeper' }, statistic: 'Sum', period: Duration.days(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const vaultKey = new kms.Key(this, 'BackupKey', { description: 'mail2ticket backups', enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    this.backupVault = new backup.BackupVault(this, 'Vault', { encryptionKey: vaultKey, removalPolicy: RemovalPolicy.RETAIN });
    this.backupPlan = new backup.BackupPlan(this, 'Plan', { backupVault: this.backupVault });
    this.backupPlan.addRule(
      new backup.BackupPlanRule({
        ruleName: 'daily',
        scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
        deleteAfter: Duration.days(props.backupRetentionDays),
      }),
    );
    this.backupSelection = this.backupPlan.addSelection('Tickets', { resources: [backup.BackupResource.fromArn(table.tableArn)] });
  }
}

/** Object deletion, every version: what the purge needs, nothing to read or write objects. */
function deleteObjects(role: iam.Role, bucket: s3.IBucket): void {
  role.addToPolicy(new iam.PolicyStatement({ sid: 'DeleteObjects', actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'], resources: [bucket.arnForObjects('*')] }));
  role.addToPolicy(new iam.PolicyStatement({ sid: 'ListObjects', actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [bucket.bucketArn] }));
}
