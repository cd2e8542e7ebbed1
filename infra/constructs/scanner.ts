// The attachment scanner: a DynamoDB stream consumer (only pending attachment items reach it, filtered
// at the event source) that runs clamd in a container image function, records each verdict on the
// attachment item and deletes an infected object with every version. Its ClamAV definitions live in
// a bucket of their own, refreshed from database.clamav.net every 3 hours by a second function of the
// same image (outside a VPC: freshclam needs the internet). Hourly, the scanner also rescans what the
// stream left pending (a batch given up on, items older than the scanner). Alarms: the scanner
// failing, scans ending in error, stream batches given up on, attachments pending for hours, and
// definitions older than two days or not refreshed at all.
// Least privilege call by call: the attachment prefixes only, tenant keys only to decrypt attachments.
import { Aws, Duration, RemovalPolicy, Size, Stack, Stage, Validations, type CfnResource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { join } from 'node:path';
import { stageImageContext } from '../bundling/image-context.js';
import { invokeScheduled, schedulerRoleFor } from './connector-grants.js';
import { METRIC_NAMESPACE } from './gmail-connector.js';
import { TENANT_CONTEXT_KEYS, TENANT_KEY_ALIAS_PREFIX } from './mail-ingest.js';
import { activeTracing } from './worker-function.js';
import { exactFailureDestination } from './failure-destination.js';

const ROOT = join(import.meta.dirname, '../..');
const DOCKER_DIR = join(import.meta.dirname, '../scanner-image');

/** Partition keys of ticket items (shared/adapters/dynamodb/keys.ts ticketPk): where attachments live. */
const TICKET_PARTITIONS = 'T#*#K#*';
/** The index listing a tenant's held attachments under `T#<tenant>#HELD` (keys.ts heldAttachments). */
const HELD_INDEX = 'GSI2';
const HELD_PARTITIONS = 'T#*#HELD';
/** The index listing every tenant under the one partition `TENANTS` (DynamoDbConsentStore.listTenants). */
const TENANTS_INDEX = 'GSI1';
const TENANTS_PARTITION = 'TENANTS';
/** What the hourly schedule sends the scanner (functions/scanner/make-handler.ts RESCAN_PENDING_TASK). */
export const SCANNER_TASKS = { rescanPending: { task: 'rescan-pending' } } as const;
/** Attachment objects: `t/<tenant>/m/<mailbox>/att/<ingestId>/<attachmentId>` (shared/domain/object-keys.ts). */
export const ATTACHMENT_OBJECTS = 't/*/m/*/att/*';
/** Where the definitions live in their bucket. */
export const DEFINITIONS_PREFIX = 'clamav/';
/** The encryption context purpose of attachment objects: the only data the scanner may decrypt. */
export const ATTACHMENT_PURPOSE = 'attachment';

/** The Powertools `service` of each function, the dimension of its metrics. */
export const SCANNER_METRIC_SERVICES = { scanner: 'scanner', definitions: 'scanner-definitions' } as const;
export const SCANNER_METRICS = {
  clean: 'attachments_scanned_clean',
  infected: 'attachments_infected',
  errors: 'scan_errors',
  definitionsAge: 'definitions_age_hours',
  rescanned: 'attachments_rescanned',
  stillPending: 'attachments_still_pending',
} as const;
/** Hours in a row with attachments still pending after the hourly rescan before the alarm fires. */
export const STILL_PENDING_HOURS = 3;
/** Definitions older than this many hours alarm (ClamAV publishes several updates a day). */
export const STALE_DEFINITIONS_HOURS = 48;

/** The image command of each function: `<bundle dir>/index.handler` under the image's task root. */
const BUNDLES = {
  scanner: { dir: 'scanner', entry: 'functions/scanner/handler.ts' },
  definitions: { dir: 'definitions-update', entry: 'functions/definitions-update/handler.ts' },
} as const;

export interface ScannerProps {
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  readonly bucket: s3.IBucket;
  /** The attachment bucket's SSE-KMS key: reading an object needs it. */
  readonly bucketKey: kms.IKey;
  /** Receives the definitions bucket's server access logs (the AttachmentStore's log bucket). */
  readonly accessLogBucket: s3.IBucket;
  /** Default 3008 MB: clamd holds the full signature set in memory (over 1 GB) and reloads beside it. */
  readonly memorySize?: number;
  /** Scanner instances at most, so a burst of mail never starves the account. Default 5. */
  readonly reservedConcurrency?: number;
  /** Default RETAIN for the definitions bucket (they can always be downloaded again, but never lost by accident). */
  readonly removalPolicy?: RemovalPolicy;
}

export class Scanner extends Construct {
  /** ClamAV definitions under `clamav/`, written by the refresh, read by the scanner at cold start. */
  public readonly definitionsBucket: s3.Bucket;
  public readonly scanner: lambda.DockerImageFunction;
  public readonly scannerRole: iam.Role;
  public readonly scannerLogs: logs.LogGroup;
  public readonly definitionsUpdate: lambda.DockerImageFunction;
  public readonly definitionsUpdateRole: iam.Role;
  public readonly definitionsUpdateLogs: logs.LogGroup;
  /** Stream batches that failed every retry (their records, not the attachments). */
  public readonly streamFailures: sqs.Queue;
  public readonly failureKey: kms.Key;
  /** Assumed by EventBridge Scheduler; may invoke the definitions refresh and nothing else. */
  public readonly schedulerRole: iam.Role;
  public readonly refreshSchedule: scheduler.Schedule;
  /** Assumed by EventBridge Scheduler; may invoke the scanner and nothing else. */
  public readonly rescanSchedulerRole: iam.Role;
  /** Hourly `{"task":"rescan-pending"}` to the scanner: the backstop for attachments the stream left pending. */
  public readonly rescanSchedule: scheduler.Schedule;
  public readonly alarms: {
    readonly scannerErrors: cloudwatch.Alarm;
    readonly scanErrors: cloudwatch.Alarm;
    readonly streamFailures: cloudwatch.Alarm;
    readonly staleDefinitions: cloudwatch.Alarm;
    readonly stillPending: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: ScannerProps) {
    super(scope, id);
    const { table, bucket } = props;
    const stack = Stack.of(this);

    // ── the definitions bucket ───────────────────────────────────────────────
    // Public data, so S3-managed keys suffice; versioned so a bad refresh can be rolled back by hand.
    this.definitionsBucket = new s3.Bucket(this, 'Definitions', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: 'definitions/',
      lifecycleRules: [
        // Every refresh replaces the daily database (tens of MB): keep the old ones only briefly.
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(3), expiredObjectDeleteMarker: true },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    // ── one image, two functions ─────────────────────────────────────────────
    // Built in the cloud assembly (it never enters the repository); the asset hash depends on its files only.
    const assembly = Stage.of(this);
    if (!assembly) throw new Error('the Scanner must be built inside a CDK App or Stage');
    const context = stageImageContext({
      root: ROOT,
      dockerDir: DOCKER_DIR,
      bundles: Object.values(BUNDLES),
      bundle: stack.bundlingRequired,
      into: join(assembly.outdir, `image-context-${this.node.addr}`),
    });
    const image = (bundle: { dir: string }) => lambda.DockerImageCode.fromImageAsset(context, { platform: Platform.LINUX_ARM64, cmd: [`${bundle.dir}/index.handler`] });

    ({ role: this.scannerRole, logGroup: this.scannerLogs } = roleAndLogs(this, 'Scan'));
    this.scanner = new lambda.DockerImageFunction(this, 'ScanFunction', {
      code: image(BUNDLES.scanner),
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 3008,
      // The definitions (hundreds of MB) are copied to /tmp at cold start.
      ephemeralStorageSize: Size.gibibytes(2),
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 5,
      role: this.scannerRole,
      logGroup: this.scannerLogs,
      environment: {
        TABLE_NAME: table.tableName,
        BUCKET_NAME: bucket.bucketName,
        TENANT_KEY_ALIAS_PREFIX,
        DEFINITIONS_BUCKET: this.definitionsBucket.bucketName,
        POWERTOOLS_SERVICE_NAME: SCANNER_METRIC_SERVICES.scanner,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    activeTracing(this.scanner, this.scannerRole);
    this.grantScan(this.scannerRole, props);

    ({ role: this.definitionsUpdateRole, logGroup: this.definitionsUpdateLogs } = roleAndLogs(this, 'DefinitionsUpdate'));
    this.definitionsUpdate = new lambda.DockerImageFunction(this, 'DefinitionsUpdateFunction', {
      code: image(BUNDLES.definitions),
      architecture: lambda.Architecture.ARM_64,
      // freshclam loads the downloaded databases once to test them before it keeps them.
      memorySize: 3008,
      ephemeralStorageSize: Size.gibibytes(2),
      timeout: Duration.minutes(10),
      reservedConcurrentExecutions: 1,
      // A failed refresh waits for the next schedule: ClamAV's mirrors rate-limit clients that retry at once.
      retryAttempts: 0,
      role: this.definitionsUpdateRole,
      logGroup: this.definitionsUpdateLogs,
      environment: {
        DEFINITIONS_BUCKET: this.definitionsBucket.bucketName,
        POWERTOOLS_SERVICE_NAME: SCANNER_METRIC_SERVICES.definitions,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    activeTracing(this.definitionsUpdate, this.definitionsUpdateRole);
    this.definitionsUpdateRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DefinitionsWrite',
        // Uploads of the large databases are multipart; a container freshclam replaced (daily.cvd by
        // daily.cld) is deleted (a delete marker: the bucket's lifecycle expires the old version).
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        resources: [this.definitionsBucket.arnForObjects(`${DEFINITIONS_PREFIX}*`)],
      }),
    );
    listDefinitions(this.definitionsUpdateRole, this.definitionsBucket);

    // ── the stream consumer ──────────────────────────────────────────────────
    this.failureKey = new kms.Key(this, 'FailureKey', { description: 'mail2ticket scanner stream failures', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    this.streamFailures = new sqs.Queue(this, 'StreamFailures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.failureKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.scanner.addEventSource(
      new DynamoEventSource(table, {
        // Items written before the scanner existed are found through the HELD index, not replayed.
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 10,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 5,
        maxRecordAge: Duration.hours(6),
        onFailure: exactFailureDestination(this.streamFailures, this.failureKey, this.scannerRole),
        // Only attachments waiting for a verdict; the scanner's own write (scan no longer pending)
        // never comes back to it.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { NewImage: { entity: { S: lambda.FilterRule.isEqual('attachment') }, scan: { S: lambda.FilterRule.isEqual('pending') } } },
          }),
        ],
      }),
    );

    // ── the refresh schedule ─────────────────────────────────────────────────
    this.schedulerRole = schedulerRoleFor(this, this.definitionsUpdate);
    const updateFunction = this.definitionsUpdate;
    const schedulerRole = this.schedulerRole;
    this.refreshSchedule = new scheduler.Schedule(this, 'RefreshDefinitions', {
      description: 'Refreshes the ClamAV definitions from database.clamav.net (the function ignores the payload)',
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(3)),
      // A late run is worth nothing once the next one is due; retries are few, ClamAV's mirrors rate-limit.
      target: { bind: () => ({ arn: updateFunction.functionArn, role: schedulerRole, retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 2 } }) },
    });

    // ── the pending rescan ───────────────────────────────────────────────────
    // Its own role (in a scope of its own: schedulerRoleFor names it), invoking only the scanner.
    this.rescanSchedulerRole = schedulerRoleFor(new Construct(this, 'Rescan'), this.scanner);
    this.rescanSchedule = new scheduler.Schedule(this, 'RescanPending', {
      description: 'Scans attachments still pending 30 minutes after ingestion (stream batch given up on, or older than the scanner)',
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)),
      // A late run is worth nothing once the next one is due.
      target: invokeScheduled(this.scanner, this.rescanSchedulerRole, SCANNER_TASKS.rescanPending, { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 2 }),
    });

    // ── alarms ───────────────────────────────────────────────────────────────
    const fiveMinutes = Duration.minutes(5);
    const whenAny = { threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    this.alarms = {
      scannerErrors: new cloudwatch.Alarm(this, 'ScannerErrorsAlarm', {
        alarmDescription: 'The attachment scanner failed as a whole (cold start: definitions or clamd; or a timeout); the stream retries the batch',
        metric: this.scanner.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        ...whenAny,
      }),
      scanErrors: new cloudwatch.Alarm(this, 'ScanErrorsAlarm', {
        alarmDescription: 'Attachments could not be scanned (clamd failed or could not inspect them): they stay held as unscanned',
        metric: new cloudwatch.Metric({
          namespace: METRIC_NAMESPACE,
          metricName: SCANNER_METRICS.errors,
          dimensionsMap: { service: SCANNER_METRIC_SERVICES.scanner },
          statistic: cloudwatch.Stats.SUM,
          period: fiveMinutes,
        }),
        ...whenAny,
      }),
      streamFailures: new cloudwatch.Alarm(this, 'StreamFailuresAlarm', {
        alarmDescription: 'Scanner stream batches failed every retry: their records wait in the failure queue, those attachments are still pending',
        metric: this.streamFailures.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: cloudwatch.Stats.MAXIMUM }),
        ...whenAny,
      }),
      // Every refresh publishes the age, successful or not; hours without any datapoint are breaching,
      // so the alarm also fires when the refresh stopped running: twelve hours in a row (four missed
      // runs) with stale definitions or no report at all. A single late or failed run never alarms.
      staleDefinitions: new cloudwatch.Alarm(this, 'StaleDefinitionsAlarm', {
        alarmDescription: `ClamAV definitions are older than ${STALE_DEFINITIONS_HOURS} hours, or their refresh has not reported for 12 hours`,
        metric: new cloudwatch.Metric({
          namespace: METRIC_NAMESPACE,
          metricName: SCANNER_METRICS.definitionsAge,
          dimensionsMap: { service: SCANNER_METRIC_SERVICES.definitions },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.hours(1),
        }),
        threshold: STALE_DEFINITIONS_HOURS,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 12,
        datapointsToAlarm: 12,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      // Each hourly run reports how many attachments past the grace it left pending (0 included).
      // One hour with some is normal while clamd recovers or a backlog drains; hours in a row mean
      // attachments that cannot be scanned and never reach an agent: someone should look. An hour
      // without a run is not breaching: a failed run alarms through ScannerErrorsAlarm instead.
      stillPending: new cloudwatch.Alarm(this, 'StillPendingAlarm', {
        alarmDescription: `Attachments were still pending after the hourly rescan for ${STILL_PENDING_HOURS} hours in a row: they are never served nor delivered; check clamd, the definitions and the scanner logs (attachment ids)`,
        metric: new cloudwatch.Metric({
          namespace: METRIC_NAMESPACE,
          metricName: SCANNER_METRICS.stillPending,
          dimensionsMap: { service: SCANNER_METRIC_SERVICES.scanner },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.hours(1),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: STILL_PENDING_HOURS,
        datapointsToAlarm: STILL_PENDING_HOURS,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };

    this.acknowledgeFindings(bucket);
  }

  /** Exactly the calls the scanner makes (see the functions/scanner composition root). */
  private grantScan(role: iam.Role, props: ScannerProps): void {
    const { table, bucket } = props;
    // The attachment is read with a consistent Query of its ticket's partition (an index could lag
    // behind the stream record and make a fresh attachment look gone), and updateAttachmentScan puts the
    // whole item back: both only on ticket partitions (`T#<tenant>#K#<ticket>`), never the directory,
    // consent, audit or claim items.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AttachmentItems',
        actions: ['dynamodb:Query', 'dynamodb:PutItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TICKET_PARTITIONS] } },
      }),
    );
    // The hourly rescan: each tenant's held attachments (the HELD partitions of GSI2 only, not its
    // message-id lookups) and the tenant list (the one TENANTS partition of GSI1, not its ticket,
    // attachment or invite lookups). A Query on an index names only the index's partition key value,
    // so that is what dynamodb:LeadingKeys sees (the docs do not spell it out for indexes; were it
    // otherwise, the run would be denied and ScannerErrorsAlarm fire, never more access). Each
    // attachment's message (its receivedAt) is read from the ticket partition: AttachmentItems.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'HeldAttachments',
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${HELD_INDEX}`],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [HELD_PARTITIONS] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TenantList',
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${TENANTS_INDEX}`],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [TENANTS_PARTITION] } },
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TableKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.tableKey.keyArn] }));
    // Read an attachment; an infected one goes with every version (the bucket is versioned).
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'AttachmentObjects', actions: ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], resources: [bucket.arnForObjects(ATTACHMENT_OBJECTS)] }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AttachmentVersions',
        actions: ['s3:ListBucketVersions'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [ATTACHMENT_OBJECTS] } },
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ObjectsKey', actions: ['kms:Decrypt'], resources: [props.bucketKey.keyArn] }));
    grantAttachmentDecrypt(role);
    role.addToPolicy(new iam.PolicyStatement({ sid: 'DefinitionsRead', actions: ['s3:GetObject'], resources: [this.definitionsBucket.arnForObjects(`${DEFINITIONS_PREFIX}*`)] }));
    listDefinitions(role, this.definitionsBucket);
  }

  private acknowledgeFindings(bucket: s3.IBucket): void {
    const stack = Stack.of(this);
    const logicalId = (resource: IConstruct) => stack.getLogicalId(resource.node.defaultChild as CfnResource);
    const definitions = `AwsSolutions-IAM5[Resource::<${logicalId(this.definitionsBucket)}.Arn>/${DEFINITIONS_PREFIX}*]`;
    const scannerPolicy = child(this.scannerRole, 'DefaultPolicy');
    acknowledge(
      scannerPolicy,
      `AwsSolutions-IAM5[Resource::<${logicalId(bucket)}.Arn>/${ATTACHMENT_OBJECTS}]`,
      'Attachment keys hold tenant, mailbox, ingestion and attachment ids minted at run time; the grant is limited to the attachment prefixes of this one bucket, to read an attachment and delete an infected one.',
    );
    acknowledge(
      scannerPolicy,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      'Per-tenant KMS keys are created at run time, so no ARN exists at synth. Both statements require kms:ResourceAliases to match alias/mail2ticket/tenant/*; the only data-key call is kms:Decrypt, under exactly our encryption context keys and only for purpose attachment.',
    );
    acknowledge(scannerPolicy, definitions, 'The definition files (names chosen by ClamAV, e.g. main.cvd, daily.cld) are read under the clamav/ prefix of the definitions bucket only.');
    acknowledge(
      child(this.definitionsUpdateRole, 'DefaultPolicy'),
      definitions,
      'The refresh writes whatever database files freshclam produces (names chosen by ClamAV) under the clamav/ prefix of the definitions bucket only.',
    );
    acknowledge(
      this.streamFailures,
      'AwsSolutions-SQS3',
      'This queue is itself the failure destination of the scanner stream consumer: it receives the batches that failed every retry, for an operator to replay.',
    );
  }
}

/** A function's own role (no managed policy) and its own log group kept a month. */
function roleAndLogs(scope: Construct, id: string): { role: iam.Role; logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
  return { role, logGroup };
}

/** Listing the definitions, nothing else of the bucket. */
function listDefinitions(role: iam.Role, bucket: s3.IBucket): void {
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'DefinitionsList',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [DEFINITIONS_PREFIX, `${DEFINITIONS_PREFIX}*`] } },
    }),
  );
}

/**
 * Tenant keys as mail-ingest.ts grants them (only through a tenant alias, only under exactly our
 * context keys), narrowed to what the scanner does: Decrypt of attachment data keys, and DescribeKey
 * to resolve the alias to the key ARN the keyring matches. It can never read a raw message or a body.
 */
function grantAttachmentDecrypt(role: iam.Role): void {
  const keys = `arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`;
  const viaTenantAlias = { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': `${TENANT_KEY_ALIAS_PREFIX}*` } };
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'TenantAttachmentDecrypt',
      actions: ['kms:Decrypt'],
      resources: [keys],
      conditions: {
        ...viaTenantAlias,
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...TENANT_CONTEXT_KEYS] },
        Null: Object.fromEntries(TENANT_CONTEXT_KEYS.map((key) => [`kms:EncryptionContext:${key}`, 'false'])),
        StringEquals: { 'kms:EncryptionContext:purpose': ATTACHMENT_PURPOSE },
      },
    }),
  );
  role.addToPolicy(new iam.PolicyStatement({ sid: 'TenantKeyLookup', actions: ['kms:DescribeKey'], resources: [keys], conditions: viaTenantAlias }));
}

/** As infra/nag.ts: namespaced with the plugin's name, on the narrowest construct, with the reason. */
function acknowledge(scope: Construct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}

function child(scope: Construct, id: string): Construct {
  const found = scope.node.tryFindChild(id);
  if (!found) throw new Error(`${scope.node.path} has no child ${id} to acknowledge a finding on`);
  return found as Construct;
}
