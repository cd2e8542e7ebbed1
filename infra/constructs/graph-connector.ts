// The Microsoft 365 connector: Graph posts change and lifecycle notifications to POST /webhooks/graph
// and /webhooks/graph/lifecycle (no token: a notification is authenticated by the subscription's
// clientState, which the notify function checks in constant time against the digest kept for it), each
// valid item becomes a job on a FIFO sync queue (group = mailbox), and the sync worker runs a delta
// round on the mailbox and ingests what arrived. EventBridge Scheduler renews subscriptions every six
// hours and enqueues a safety sync for every connected mailbox every few minutes. The Entra app's
// credential lives in a Secrets Manager secret the operator fills in; its certificate's expiry is
// published by every renewal run and alarmed 30 days ahead. Least privilege per function, call by call.
import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
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
import { appMetric, countedBySyncAndSchedule } from './connector-metrics.js';
import { grantConnectedMailboxes, grantEnqueue, grantSecretRead, invokeScheduled, schedulerRoleFor, syncTimeReserveSeconds } from './connector-grants.js';
import { fifoJobQueue, grantStores, grantTenantKeys, TENANT_KEY_ALIAS_PREFIX } from './mail-ingest.js';
import type { WebhookApi } from './webhook-api.js';
import { WorkerFunction } from './worker-function.js';
import { MAIL_STREAMING_V8_OPTIONS } from '../runtime-options.js';
import { directoryPk } from '../../shared/adapters/dynamodb/keys.js';
import { subscriptionKey } from '../../shared/domain/graph/notify.js';

/** The notify function's reads: Graph subscription entries, and a tenant's own partition (mailbox items), not its deeper ones. */
const GRAPH_SUBSCRIPTION_ENTRIES = directoryPk('graph', subscriptionKey('*'));
const TENANT_PARTITIONS = 'T#*';
const TENANT_DATA_PARTITIONS = 'T#*#*';

export const GRAPH_NOTIFICATION_PATH = '/webhooks/graph';
export const GRAPH_LIFECYCLE_PATH = '/webhooks/graph/lifecycle';

/**
 * The `service` dimension of each function's metrics: the serviceName its composition root gives
 * Powertools' Metrics (functions/graph-notify/compose.ts, graph-sync/compose.ts, graph-schedule/handler.ts).
 */
export const GRAPH_METRIC_SERVICES = { notify: 'graph-notify', sync: 'graph-sync', schedule: 'graph-schedule' } as const;

/** What the scheduled function is asked to do (functions/graph-schedule/make-handler.ts). */
export const GRAPH_SCHEDULED_TASKS = { renewSubscriptions: { task: 'renew-subscriptions' }, safetySync: { task: 'safety-sync' } } as const;

/** The gauge every renewal run publishes (functions/graph-schedule/make-handler.ts), and its floor. */
export const CERTIFICATE_DAYS_LEFT = { metricName: 'graph.app_certificate_days_left', alarmBelowDays: 30 } as const;

/**
 * The operator replaces this with the Entra app's certificate (README, Infrastructure); the reader
 * (shared/adapters/system/graph-app-secret.ts) also accepts `{"clientId","clientSecret"}`.
 */
export const GRAPH_APP_SECRET_PLACEHOLDER = { clientId: '', thumbprintSha256: '', privateKey: '', x5c: '', notAfter: '' } as const;

export interface GraphConnectorProps {
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  readonly bucket: s3.IBucket;
  readonly bucketKey: kms.IKey;
  /** The API the notification routes join. */
  readonly webhooks: WebhookApi;
  /** Default 7. */
  readonly fullSyncDays?: number;
  /** Default 15. */
  readonly safetySyncMinutes?: number;
  /** Receives before a sync job is dead-lettered. Default 8. */
  readonly maxReceiveCount?: number;
  /** How long a subscription is asked for (Outlook allows at most 10,080). Default 10,020. */
  readonly subscriptionMinutes?: number;
  /** A subscription is renewed once it lapses within this long. Default two days. */
  readonly renewBeforeMinutes?: number;
  /** A safety sync finding mail no change notification announced for this long counts graph.notification_stalled. Default 60. */
  readonly stalledAfterMinutes?: number;
  /** The sync worker's timeout; the queue's visibility timeout is six times it. Default 10 minutes. */
  readonly workerTimeout?: Duration;
}

export class GraphConnector extends Construct {
  public readonly syncQueue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  /** The Entra app credential; the operator stores the certificate JSON in it after deploy. */
  public readonly appSecret: secretsmanager.Secret;
  public readonly secretKey: kms.Key;
  public readonly notify: WorkerFunction;
  public readonly worker: WorkerFunction;
  public readonly scheduled: WorkerFunction;
  /** POST /webhooks/graph and POST /webhooks/graph/lifecycle, without an authorizer (see below). */
  public readonly routes: { readonly notifications: apigwv2.HttpRoute; readonly lifecycle: apigwv2.HttpRoute };
  /** The subscription's notificationUrl. */
  public readonly notificationUrl: string;
  /** The subscription's lifecycleNotificationUrl. */
  public readonly lifecycleUrl: string;
  /** Assumed by EventBridge Scheduler; may invoke the scheduled function and nothing else. */
  public readonly schedulerRole: iam.Role;
  public readonly renewSubscriptions: scheduler.Schedule;
  public readonly safetySync: scheduler.Schedule;
  public readonly alarms: {
    readonly deadLetters: cloudwatch.Alarm;
    readonly notificationStalled: cloudwatch.Alarm;
    readonly certificateExpiry: cloudwatch.Alarm;
    readonly reauthorizationRequired: cloudwatch.Alarm;
    readonly clientMisconfigured: cloudwatch.Alarm;
    readonly subscriptionRenewalFailed: cloudwatch.Alarm;
    readonly notifyErrors: cloudwatch.Alarm;
    readonly workerErrors: cloudwatch.Alarm;
    readonly scheduleErrors: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: GraphConnectorProps) {
    super(scope, id);
    const { table, webhooks } = props;
    const workerTimeout = props.workerTimeout ?? Duration.minutes(10);
    const maxReceiveCount = props.maxReceiveCount ?? 8;
    const safetySyncMinutes = props.safetySyncMinutes ?? 15;

    // ── the sync queue ───────────────────────────────────────────────────────
    // Jobs carry explicit deduplication ids (a hash of the notification, the schedule slot).
    ({ key: this.queueKey, queue: this.syncQueue, deadLetterQueue: this.deadLetterQueue } = fifoJobQueue(this, {
      description: 'mail2ticket Microsoft 365 sync queues',
      ids: { queue: 'SyncJobs', deadLetters: 'SyncDeadLetters' },
      consumerTimeout: workerTimeout,
      maxReceiveCount,
    }));

    // ── the app credential ───────────────────────────────────────────────────
    this.secretKey = new kms.Key(this, 'SecretKey', { description: 'mail2ticket Microsoft Entra app credential', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    // A placeholder of the right shape, not a generated value: the operator pastes the certificate
    // uploaded to the app registration. Until then the worker refuses to start, naming what it needs.
    // CloudFormation rewrites the value only if this template value changes: a deploy keeps what was stored.
    this.appSecret = new secretsmanager.Secret(this, 'AppCredential', {
      description:
        'Microsoft Entra app of the Microsoft 365 connector: {"clientId","thumbprintSha256","privateKey","x5c","notAfter"} (or {"clientId","clientSecret"}); see README, Infrastructure',
      encryptionKey: this.secretKey,
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(GRAPH_APP_SECRET_PLACEHOLDER)),
    });

    // ── the webhooks ─────────────────────────────────────────────────────────
    this.notificationUrl = webhooks.urlOf(GRAPH_NOTIFICATION_PATH);
    this.lifecycleUrl = webhooks.urlOf(GRAPH_LIFECYCLE_PATH);
    // Graph wants a 2xx within 3 seconds (the validation echo within 10): small, and no Graph call,
    // no secret, no KMS key in it (the clientState is compared as a SHA-256 digest). The timeout is the
    // validation limit: a batch finished after Graph gave up still lands its jobs, and Graph's retry
    // is absorbed by the deduplication ids.
    this.notify = new WorkerFunction(this, 'Notify', {
      entry: 'functions/graph-notify/handler.ts',
      serviceName: 'mail2ticket-graph-notify',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: { TABLE_NAME: table.tableName, SYNC_QUEUE_URL: this.syncQueue.queueUrl },
      runtimeSourceMaps: false,
    });
    // Reads the subscription's directory item (and the mailbox item, for an entry written before
    // entries carried the clientState digest), nothing else of the table; never the bucket, never a
    // tenant key, never the secret. A mailbox item's partition is the tenant's own, `T#<tenant>`;
    // every other tenant item lies in a longer one (`T#<tenant>#…`, tenant ids have no `#`), which
    // IAM's wildcards cannot leave out of `T#*` but the explicit Deny does.
    this.notify.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DirectoryRead',
        actions: ['dynamodb:GetItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [GRAPH_SUBSCRIPTION_ENTRIES, TENANT_PARTITIONS] } },
      }),
    );
    this.notify.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'NoTenantData',
        effect: iam.Effect.DENY,
        actions: ['dynamodb:GetItem'],
        resources: [table.tableArn],
        conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [TENANT_DATA_PARTITIONS] } },
      }),
    );
    this.notify.role.addToPolicy(new iam.PolicyStatement({ sid: 'TableKeyRead', actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [props.tableKey.keyArn] }));
    grantEnqueue(this.notify.role, this.syncQueue, this.queueKey);
    // No authorizer: Graph sends no token. The validation handshake proves the URL is ours when the
    // subscription is made; after that an item counts only if it names a subscription we hold and
    // carries its clientState (acknowledged as AwsSolutions-APIG4 in infra/nag.ts).
    const integration = new HttpLambdaIntegration('GraphNotify', this.notify.fn, { timeout: Duration.seconds(10) });
    const route = (path: string): apigwv2.HttpRoute => {
      const [added] = webhooks.api.addRoutes({ path, methods: [apigwv2.HttpMethod.POST], integration });
      if (!added) throw new Error(`addRoutes returned no route for ${path}`);
      return added;
    };
    this.routes = { notifications: route(GRAPH_NOTIFICATION_PATH), lifecycle: route(GRAPH_LIFECYCLE_PATH) };

    // ── the sync worker and the scheduled jobs ───────────────────────────────
    const settings: Record<string, string> = {
      TABLE_NAME: table.tableName,
      BUCKET_NAME: props.bucket.bucketName,
      TENANT_KEY_ALIAS_PREFIX,
      SYNC_QUEUE_URL: this.syncQueue.queueUrl,
      GRAPH_APP_SECRET_ARN: this.appSecret.secretArn,
      GRAPH_NOTIFICATION_URL: this.notificationUrl,
      GRAPH_LIFECYCLE_URL: this.lifecycleUrl,
      GRAPH_FULL_SYNC_DAYS: String(props.fullSyncDays ?? 7),
      GRAPH_SUBSCRIPTION_MINUTES: String(props.subscriptionMinutes ?? 10_020),
      GRAPH_RENEW_BEFORE_MINUTES: String(props.renewBeforeMinutes ?? 2 * 24 * 60),
      GRAPH_STALLED_AFTER_MINUTES: String(props.stalledAfterMinutes ?? 60),
      GRAPH_SAFETY_SYNC_MINUTES: String(safetySyncMinutes),
      SYNC_MAX_RECEIVE_COUNT: String(maxReceiveCount),
      SYNC_TIME_RESERVE_SECONDS: String(syncTimeReserveSeconds(workerTimeout)),
    };

    this.worker = new WorkerFunction(this, 'Worker', { entry: 'functions/graph-sync/handler.ts', serviceName: 'mail2ticket-graph-sync', timeout: workerTimeout, environment: settings, v8Options: MAIL_STREAMING_V8_OPTIONS });
    // One mailbox per message group: its jobs (syncs, renewals, new subscriptions) run in order, one
    // at a time; the handler reports partial failures and skips the rest of a failed group.
    this.worker.fn.addEventSource(new SqsEventSource(this.syncQueue, { batchSize: 10, reportBatchItemFailures: true }));
    // Everything ingestMessage needs, as the ingest worker has it. It covers the directory too: a new
    // subscription claims its item (conditional PutItem) and releases the old one (conditional
    // DeleteItem); the mailbox's sealed credentials open with the tenant's key.
    grantStores(this.worker.role, props);
    grantTenantKeys(this.worker.role);
    // A throttled job is deferred (ChangeMessageVisibility) or handed to a fresh job (SendMessage).
    grantEnqueue(this.worker.role, this.syncQueue, this.queueKey, ['sqs:SendMessage', 'sqs:ChangeMessageVisibility']);
    grantSecretRead(this.worker.role, this.appSecret, this.secretKey, 'GraphAppSecret');

    this.scheduled = new WorkerFunction(this, 'Schedule', {
      entry: 'functions/graph-schedule/handler.ts',
      serviceName: 'mail2ticket-graph-schedule',
      memorySize: 512,
      timeout: Duration.minutes(15),
      environment: settings,
    });
    const scheduledRole = this.scheduled.role;
    grantConnectedMailboxes(scheduledRole, table, props.tableKey);
    grantEnqueue(scheduledRole, this.syncQueue, this.queueKey);
    grantSecretRead(scheduledRole, this.appSecret, this.secretKey, 'GraphAppSecret');

    this.schedulerRole = schedulerRoleFor(this, this.scheduled.fn);
    this.renewSubscriptions = new scheduler.Schedule(this, 'RenewSubscriptions', {
      description: 'Renews Microsoft 365 subscriptions that lapse within two days, and reports the app certificate expiry',
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(6)),
      target: invokeScheduled(this.scheduled.fn, this.schedulerRole, GRAPH_SCHEDULED_TASKS.renewSubscriptions, { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 5 }),
    });
    this.safetySync = new scheduler.Schedule(this, 'SafetySync', {
      description: 'Enqueues a sync of every connected Microsoft 365 mailbox, catching what a lost notification missed',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(safetySyncMinutes)),
      // A late run is worth nothing once the next one is due.
      target: invokeScheduled(this.scheduled.fn, this.schedulerRole, GRAPH_SCHEDULED_TASKS.safetySync, { maximumEventAgeInSeconds: safetySyncMinutes * 60, maximumRetryAttempts: 2 }),
    });

    // ── alarms ───────────────────────────────────────────────────────────────
    const whenAny = { threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    const errorsOf = (worker: WorkerFunction) => worker.fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM });
    const hour = Duration.hours(1);
    this.alarms = {
      deadLetters: new cloudwatch.Alarm(this, 'SyncDeadLettersAlarm', {
        alarmDescription: 'Microsoft 365 sync jobs failed every retry and wait in the dead-letter queue',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
        ...whenAny,
      }),
      notificationStalled: new cloudwatch.Alarm(this, 'NotificationStalledAlarm', {
        alarmDescription:
          'A safety sync found Microsoft 365 mail that no change notification announced: check the subscription (Graph drops one whose webhook keeps failing) and the notify function',
        metric: appMetric('graph.notification_stalled', GRAPH_METRIC_SERVICES.sync, hour),
        ...whenAny,
      }),
      certificateExpiry: new cloudwatch.Alarm(this, 'AppCertificateExpiryAlarm', {
        alarmDescription:
          'The Microsoft Entra app certificate expires in less than 30 days, or its expiry is unknown (no "notAfter" in the app secret, a client secret, or no renewal run reported it for a day): upload a new certificate to the app registration and store it in the secret',
        // Four renewal runs a day each report the days left; the day's smallest counts.
        metric: appMetric(CERTIFICATE_DAYS_LEFT.metricName, GRAPH_METRIC_SERVICES.schedule, Duration.days(1), cloudwatch.Stats.MINIMUM),
        threshold: CERTIFICATE_DAYS_LEFT.alarmBelowDays,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // Silence is not good news: an expiry nobody reports is an expiry nobody watches.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      reauthorizationRequired: new cloudwatch.Alarm(this, 'ReauthorizationRequiredAlarm', {
        alarmDescription: "Microsoft refused the app's token for a mailbox (consent revoked or the app removed from the customer's directory): the customer's admin must grant access again",
        metric: countedBySyncAndSchedule('graph.reauthorization_required', GRAPH_METRIC_SERVICES, hour),
        ...whenAny,
      }),
      clientMisconfigured: new cloudwatch.Alarm(this, 'ClientMisconfiguredAlarm', {
        alarmDescription: "Microsoft refused our app's own credential (invalid_client: an expired or wrong certificate or secret): every Microsoft 365 mailbox's jobs fail and retry until it is fixed; no mailbox is disconnected",
        metric: countedBySyncAndSchedule('graph.client_misconfigured', GRAPH_METRIC_SERVICES, hour),
        ...whenAny,
      }),
      subscriptionRenewalFailed: new cloudwatch.Alarm(this, 'SubscriptionRenewalFailedAlarm', {
        alarmDescription: 'Microsoft 365 subscription renewals failed in two consecutive six-hour runs (a subscription is renewed two days before it lapses)',
        metric: appMetric('graph.subscription_renewal_failed', GRAPH_METRIC_SERVICES.schedule, Duration.hours(6)),
        ...whenAny,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
      }),
      notifyErrors: new cloudwatch.Alarm(this, 'NotifyErrorsAlarm', { alarmDescription: 'The Graph notification function failed (Graph retries, then drops)', metric: errorsOf(this.notify), ...whenAny }),
      workerErrors: new cloudwatch.Alarm(this, 'WorkerErrorsAlarm', {
        alarmDescription: 'The Microsoft 365 sync worker failed as a whole (cold start, e.g. the app secret, or a timeout)',
        metric: errorsOf(this.worker),
        ...whenAny,
      }),
      scheduleErrors: new cloudwatch.Alarm(this, 'ScheduleErrorsAlarm', {
        alarmDescription: 'A scheduled Microsoft 365 job (subscription renewal, safety sync) failed',
        metric: errorsOf(this.scheduled),
        ...whenAny,
      }),
    };
  }



}
