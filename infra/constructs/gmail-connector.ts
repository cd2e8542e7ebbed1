// The Gmail connector: Pub/Sub pushes arrive at POST /webhooks/gmail (a JWT authorizer checks
// Google's OIDC token, the push function checks it again down to the service account), each push
// becomes a job on a FIFO sync queue (group = mailbox), and the sync worker reads the mailbox's
// history and ingests what arrived. EventBridge Scheduler renews every watch daily and enqueues a
// safety sync for every connected mailbox every few minutes. The OAuth client lives in a Secrets
// Manager secret the operator fills in. Least privilege per function, call by call.
import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantConnectedMailboxes, grantEnqueue, grantSecretRead, invokeScheduled, schedulerRoleFor, syncTimeReserveSeconds } from './connector-grants.js';
import { fifoJobQueue, grantStores, grantTenantKeys, TENANT_KEY_ALIAS_PREFIX } from './mail-ingest.js';
import type { ServiceIndexKey } from './service-index-key.js';
import type { WebhookApi } from './webhook-api.js';
import { WorkerFunction } from './worker-function.js';
import { appMetric, countedBySyncAndSchedule } from './connector-metrics.js';
import { directoryPk } from '../../shared/adapters/dynamodb/keys.js';
import { MAIL_STREAMING_V8_OPTIONS } from '../runtime-options.js';

export const GMAIL_PUSH_PATH = '/webhooks/gmail';
/** The issuer of the OIDC tokens Pub/Sub signs for authenticated push subscriptions. */
export const GOOGLE_ISSUER = 'https://accounts.google.com';

/**
 * The `service` dimension of each function's metrics: the serviceName its composition root gives
 * Powertools' Metrics (functions/gmail-push/compose.ts, gmail-sync/compose.ts, gmail-schedule/handler.ts),
 * which Powertools publishes as the default dimension `service`.
 */
export const GMAIL_METRIC_SERVICES = { push: 'gmail-push', sync: 'gmail-sync', schedule: 'gmail-schedule' } as const;
export { METRIC_NAMESPACE } from './connector-metrics.js';

/** What the scheduled function is asked to do (functions/gmail-schedule/make-handler.ts). */
export const GMAIL_SCHEDULED_TASKS = { renewWatches: { task: 'renew-watches' }, safetySync: { task: 'safety-sync' } } as const;

/** The operator replaces this with the Google OAuth client (README, Infrastructure). */
export const OAUTH_SECRET_PLACEHOLDER = { clientId: '', clientSecret: '' } as const;

export interface GmailConnectorProps {
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  readonly bucket: s3.IBucket;
  readonly bucketKey: kms.IKey;
  /** The API the push route joins. */
  readonly webhooks: WebhookApi;
  /** The service-wide HMAC key that indexes Gmail addresses for push lookups. */
  readonly serviceIndexKey: ServiceIndexKey;
  /** The service account the push subscription authenticates as (may be a deploy-time parameter). */
  readonly pushServiceAccount: string;
  /** The push token's audience. Default: the push route's URL (Pub/Sub's default audience). */
  readonly pushAudience?: string;
  /** `projects/<project>/topics/<topic>` (may be a deploy-time parameter). */
  readonly topicName: string;
  /** Default 7. */
  readonly fullSyncDays?: number;
  /** Default 15. */
  readonly safetySyncMinutes?: number;
  /** Receives before a sync job is dead-lettered. Default 8. */
  readonly maxReceiveCount?: number;
  /** A safety sync finding mail no push announced for this long counts gmail.push_stalled. Default 60. */
  readonly stalledAfterMinutes?: number;
  /** Labels whose mail is never ingested. Default SENT, DRAFT, SPAM, TRASH. */
  readonly excludedLabels?: readonly string[];
  /** The sync worker's timeout; the queue's visibility timeout is six times it. Default 10 minutes. */
  readonly workerTimeout?: Duration;
}

export class GmailConnector extends Construct {
  public readonly syncQueue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  /** The OAuth client secret; the operator stores `{"clientId","clientSecret"}` in it after deploy. */
  public readonly oauthClientSecret: secretsmanager.Secret;
  public readonly secretKey: kms.Key;
  public readonly push: WorkerFunction;
  public readonly worker: WorkerFunction;
  public readonly scheduled: WorkerFunction;
  public readonly route: apigwv2.HttpRoute;
  /** The URL to give the Pub/Sub push subscription. */
  public readonly pushEndpoint: string;
  public readonly pushAudience: string;
  /** Assumed by EventBridge Scheduler; may invoke the scheduled function and nothing else. */
  public readonly schedulerRole: iam.Role;
  public readonly renewWatches: scheduler.Schedule;
  public readonly safetySync: scheduler.Schedule;
  public readonly alarms: {
    readonly deadLetters: cloudwatch.Alarm;
    readonly pushStalled: cloudwatch.Alarm;
    readonly reauthorizationRequired: cloudwatch.Alarm;
    readonly clientMisconfigured: cloudwatch.Alarm;
    readonly watchRenewalFailed: cloudwatch.Alarm;
    readonly pushErrors: cloudwatch.Alarm;
    readonly workerErrors: cloudwatch.Alarm;
    readonly scheduleErrors: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: GmailConnectorProps) {
    super(scope, id);
    const { table, webhooks } = props;
    const workerTimeout = props.workerTimeout ?? Duration.minutes(10);
    const maxReceiveCount = props.maxReceiveCount ?? 8;
    const safetySyncMinutes = props.safetySyncMinutes ?? 15;

    // ── the sync queue ───────────────────────────────────────────────────────
    // Jobs carry explicit deduplication ids (the Pub/Sub message id, the schedule slot).
    ({ key: this.queueKey, queue: this.syncQueue, deadLetterQueue: this.deadLetterQueue } = fifoJobQueue(this, {
      description: 'mail2ticket Gmail sync queues',
      ids: { queue: 'SyncJobs', deadLetters: 'SyncDeadLetters' },
      consumerTimeout: workerTimeout,
      maxReceiveCount,
    }));

    // ── the OAuth client secret ──────────────────────────────────────────────
    this.secretKey = new kms.Key(this, 'SecretKey', { description: 'mail2ticket Google OAuth client secret', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    // A placeholder of the right shape, not a generated value: the operator pastes the client Google
    // issued. Until then the worker refuses to start, naming the expected JSON. CloudFormation
    // rewrites the value only if this template value changes, so a deploy keeps what was stored.
    this.oauthClientSecret = new secretsmanager.Secret(this, 'OAuthClient', {
      description: 'Google OAuth client of the Gmail connector: {"clientId": "…", "clientSecret": "…"} (see README, Infrastructure)',
      encryptionKey: this.secretKey,
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(OAUTH_SECRET_PLACEHOLDER)),
    });

    // ── the push webhook ─────────────────────────────────────────────────────
    this.pushEndpoint = webhooks.urlOf(GMAIL_PUSH_PATH);
    this.pushAudience = props.pushAudience ?? this.pushEndpoint;
    this.push = new WorkerFunction(this, 'Push', {
      entry: 'functions/gmail-push/handler.ts',
      serviceName: 'mail2ticket-gmail-push',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {
        TABLE_NAME: table.tableName,
        SYNC_QUEUE_URL: this.syncQueue.queueUrl,
        GMAIL_PUSH_AUDIENCE: this.pushAudience,
        GMAIL_PUSH_SERVICE_ACCOUNT: props.pushServiceAccount,
        TENANT_KEY_ALIAS_PREFIX,
      },
      runtimeSourceMaps: false,
    });
    // Reads Gmail directory items (address index → mailbox), nothing else of the table; never the
    // bucket, never a tenant key.
    this.push.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DirectoryRead',
        actions: ['dynamodb:GetItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [directoryPk('gmail', '*')] } },
      }),
    );
    this.push.role.addToPolicy(new iam.PolicyStatement({ sid: 'TableKeyRead', actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [props.tableKey.keyArn] }));
    grantEnqueue(this.push.role, this.syncQueue, this.queueKey);
    props.serviceIndexKey.grantIndex(this.push.role);
    // API Gateway refuses a request whose token Google did not sign for this audience before it
    // costs an invocation; the function also checks the service account and its verified e-mail.
    const authorizer = new HttpJwtAuthorizer('GooglePushToken', GOOGLE_ISSUER, { jwtAudience: [this.pushAudience] });
    const [route] = webhooks.api.addRoutes({
      path: GMAIL_PUSH_PATH,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('GmailPush', this.push.fn, { timeout: Duration.seconds(15) }),
      authorizer,
    });
    if (!route) throw new Error('addRoutes returned no route for the Gmail push');
    this.route = route;

    // ── the sync worker and the scheduled jobs ───────────────────────────────
    const settings: Record<string, string> = {
      TABLE_NAME: table.tableName,
      BUCKET_NAME: props.bucket.bucketName,
      TENANT_KEY_ALIAS_PREFIX,
      SYNC_QUEUE_URL: this.syncQueue.queueUrl,
      GOOGLE_OAUTH_SECRET_ARN: this.oauthClientSecret.secretArn,
      GMAIL_TOPIC: props.topicName,
      GMAIL_FULL_SYNC_DAYS: String(props.fullSyncDays ?? 7),
      GMAIL_EXCLUDED_LABELS: (props.excludedLabels ?? ['SENT', 'DRAFT', 'SPAM', 'TRASH']).join(','),
      GMAIL_STALLED_AFTER_MINUTES: String(props.stalledAfterMinutes ?? 60),
      GMAIL_SAFETY_SYNC_MINUTES: String(safetySyncMinutes),
      SYNC_MAX_RECEIVE_COUNT: String(maxReceiveCount),
      SYNC_TIME_RESERVE_SECONDS: String(syncTimeReserveSeconds(workerTimeout)),
    };

    this.worker = new WorkerFunction(this, 'Worker', { entry: 'functions/gmail-sync/handler.ts', serviceName: 'mail2ticket-gmail-sync', timeout: workerTimeout, environment: settings, v8Options: MAIL_STREAMING_V8_OPTIONS });
    // One mailbox per message group: its jobs run in order, one at a time; the handler reports
    // partial failures and skips the rest of a failed group.
    this.worker.fn.addEventSource(new SqsEventSource(this.syncQueue, { batchSize: 10, reportBatchItemFailures: true }));
    // Everything ingestMessage needs, as the ingest worker has it (tenant keys open the credentials).
    grantStores(this.worker.role, props);
    grantTenantKeys(this.worker.role);
    // A throttled job is deferred (ChangeMessageVisibility) or handed to a fresh job (SendMessage).
    grantEnqueue(this.worker.role, this.syncQueue, this.queueKey, ['sqs:SendMessage', 'sqs:ChangeMessageVisibility']);
    grantSecretRead(this.worker.role, this.oauthClientSecret, this.secretKey, 'OAuthClientSecret');

    this.scheduled = new WorkerFunction(this, 'Schedule', {
      entry: 'functions/gmail-schedule/handler.ts',
      serviceName: 'mail2ticket-gmail-schedule',
      memorySize: 512,
      timeout: Duration.minutes(15),
      environment: settings,
    });
    const scheduledRole = this.scheduled.role;
    grantConnectedMailboxes(scheduledRole, table, props.tableKey);
    grantEnqueue(scheduledRole, this.syncQueue, this.queueKey);
    grantSecretRead(scheduledRole, this.oauthClientSecret, this.secretKey, 'OAuthClientSecret');

    this.schedulerRole = schedulerRoleFor(this, this.scheduled.fn);
    this.renewWatches = new scheduler.Schedule(this, 'RenewWatches', {
      description: 'Renews every connected Gmail mailbox watch (Google stops pushing 7 days after the last one)',
      schedule: scheduler.ScheduleExpression.rate(Duration.days(1)),
      target: invokeScheduled(this.scheduled.fn, this.schedulerRole, GMAIL_SCHEDULED_TASKS.renewWatches, { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 5 }),
    });
    this.safetySync = new scheduler.Schedule(this, 'SafetySync', {
      description: 'Enqueues a sync of every connected Gmail mailbox, catching what a lost push missed',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(safetySyncMinutes)),
      // A late run is worth nothing once the next one is due.
      target: invokeScheduled(this.scheduled.fn, this.schedulerRole, GMAIL_SCHEDULED_TASKS.safetySync, { maximumEventAgeInSeconds: safetySyncMinutes * 60, maximumRetryAttempts: 2 }),
    });

    // ── alarms ───────────────────────────────────────────────────────────────
    const whenAny = { threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    const errorsOf = (worker: WorkerFunction) => worker.fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM });
    const hour = Duration.hours(1);
    this.alarms = {
      deadLetters: new cloudwatch.Alarm(this, 'SyncDeadLettersAlarm', {
        alarmDescription: 'Gmail sync jobs failed every retry and wait in the dead-letter queue',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
        ...whenAny,
      }),
      pushStalled: new cloudwatch.Alarm(this, 'PushStalledAlarm', {
        alarmDescription: 'A safety sync found Gmail mail that no push announced: check the Pub/Sub subscription, its audience and service account',
        metric: appMetric('gmail.push_stalled', GMAIL_METRIC_SERVICES.sync, hour),
        ...whenAny,
      }),
      reauthorizationRequired: new cloudwatch.Alarm(this, 'ReauthorizationRequiredAlarm', {
        alarmDescription: 'Google refused a Gmail mailbox token (revoked or expired): the mailbox must be connected again',
        metric: countedBySyncAndSchedule('gmail.reauthorization_required', GMAIL_METRIC_SERVICES, hour),
        ...whenAny,
      }),
      clientMisconfigured: new cloudwatch.Alarm(this, 'ClientMisconfiguredAlarm', {
        alarmDescription: "Google refused our OAuth client itself (invalid_client: a wrong or rotated client secret): every Gmail mailbox's jobs fail and retry until the secret is fixed; no mailbox is disconnected",
        metric: countedBySyncAndSchedule('gmail.client_misconfigured', GMAIL_METRIC_SERVICES, hour),
        ...whenAny,
      }),
      watchRenewalFailed: new cloudwatch.Alarm(this, 'WatchRenewalFailedAlarm', {
        alarmDescription: 'Gmail watch renewals failed two days running (a watch lapses 7 days after its last renewal)',
        metric: appMetric('gmail.watch_renewal_failed', GMAIL_METRIC_SERVICES.schedule, Duration.days(1)),
        ...whenAny,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
      }),
      pushErrors: new cloudwatch.Alarm(this, 'PushErrorsAlarm', { alarmDescription: 'The Gmail push function failed (Pub/Sub retries)', metric: errorsOf(this.push), ...whenAny }),
      workerErrors: new cloudwatch.Alarm(this, 'WorkerErrorsAlarm', {
        alarmDescription: 'The Gmail sync worker failed as a whole (cold start, e.g. the OAuth client secret, or a timeout)',
        metric: errorsOf(this.worker),
        ...whenAny,
      }),
      scheduleErrors: new cloudwatch.Alarm(this, 'ScheduleErrorsAlarm', { alarmDescription: 'A scheduled Gmail job (watch renewal, safety sync) failed', metric: errorsOf(this.scheduled), ...whenAny }),
    };
  }



}
