// Where the stack's alarms go and where an operator looks first: one SNS topic (KMS-encrypted, TLS
// only, optionally an e-mail subscription) that every CloudWatch alarm of the stack notifies on ALARM
// and on OK, and one dashboard. Both are wired by an aspect that walks the finished construct tree at
// synth, so an alarm, function or queue any construct adds (now or later) is covered without that
// construct knowing about this one; a function or parking queue no alarm watches gets a plain one.
import { Aspects, Aws, Duration, RemovalPolicy, Stack, type IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type { WebhookApi } from './webhook-api.js';

/** The namespace and dimension every function's Powertools metrics use (functions/<name>/compose.ts). */
export const APP_METRIC_NAMESPACE = 'mail2ticket';

/**
 * The application's own metrics, shown by name on the dashboard (a SEARCH over the `service`
 * dimension, so every function that emits one appears without being listed here). Alarmed metrics
 * of this namespace missing here are added to the dashboard by the aspect.
 */
export const APP_METRIC_GROUPS: ReadonlyArray<{ readonly title: string; readonly names: readonly string[]; readonly statistic: string }> = [
  { title: 'Gmail push', names: ['gmail.push_accepted', 'gmail.push_unauthenticated', 'gmail.push_unusable', 'gmail.push_stalled'], statistic: 'Sum' },
  {
    title: 'Gmail mailboxes',
    names: ['gmail.full_sync', 'gmail.message_parked', 'gmail.message_vanished', 'gmail.throttled', 'gmail.reauthorization_required', 'gmail.client_misconfigured', 'gmail.watch_renewal_failed', 'gmail.connected', 'gmail.release_incomplete'],
    statistic: 'Sum',
  },
  { title: 'Microsoft 365 notifications', names: ['graph.notification_accepted', 'graph.notification_rejected'], statistic: 'Sum' },
  {
    title: 'Microsoft 365 mailboxes',
    names: [
      'graph.delta_expired',
      'graph.message_parked',
      'graph.message_vanished',
      'graph.throttled',
      'graph.reauthorization_required',
      'graph.client_misconfigured',
      'graph.resubscribed',
      'graph.subscription_renewal_failed',
      'graph.notification_stalled',
      'graph.connected',
      'graph.release_incomplete',
    ],
    statistic: 'Sum',
  },
  { title: 'Entra app certificate: days left', names: ['graph.app_certificate_days_left'], statistic: 'Minimum' },
  { title: 'Retention backstop', names: ['BackstopLeftoversFound', 'BackstopMailboxesPurged', 'RecheckLateWritesFound', 'ClosedTenantsPurged'], statistic: 'Sum' },
];

export interface ObservabilityProps {
  /** Subscribed to the alarm topic by e-mail (the address confirms once). Unset: no subscription. */
  readonly alarmEmail?: string;
  /** Its traffic and latency on the dashboard (its spike alarms come with it). */
  readonly webhooks: WebhookApi;
}

export class Observability extends Construct {
  public readonly topic: sns.Topic;
  public readonly topicKey: kms.Key;
  public readonly dashboard: cloudwatch.Dashboard;
  /** Filled at synth by the aspect: every alarm of the stack, each notifying `topic`. */
  public readonly alarms: cloudwatch.AlarmBase[] = [];
  /** Filled at synth: every Lambda function and SQS queue of the stack, each on the dashboard. */
  public readonly functions: lambda.Function[] = [];
  public readonly queues: sqs.Queue[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Alarms of this account and region only: CloudWatch publishes on the alarm's behalf, so the
    // alarm's ARN is the source (a confused-deputy guard for both the key and the topic).
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
    };

    this.topicKey = new kms.Key(this, 'TopicKey', { description: 'mail2ticket alarm notifications', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    // CloudWatch can publish to a topic encrypted with a customer managed key only if the key policy
    // lets it generate and decrypt the data key (SNS docs, "compatibility between event sources from
    // AWS services and encrypted topics"); without it alarms deploy fine and deliver nothing.
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: `${stack.stackName} alarms`, masterKey: this.topicKey, enforceSSL: true });
    // Once a topic has a policy (enforceSSL gives it one), the service needs a statement of its own.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: stack.stackName,
      defaultInterval: Duration.hours(12),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });
    Aspects.of(stack).add(new WireObservability(stack, this, props.webhooks));
  }
}

/**
 * Runs once, on the stack, when the tree is complete (aspects run at synth): adds the safety-net
 * alarms, gives every alarm the topic, and lays out the dashboard from what the walk found.
 */
class WireObservability implements IAspect {
  constructor(
    private readonly stack: Stack,
    private readonly target: Observability,
    private readonly webhooks: WebhookApi,
  ) {}

  visit(node: IConstruct): void {
    if (node !== this.stack) return;
    const { alarms, functions, queues } = this.target;
    const consumed = new Set<string>();
    for (const child of this.stack.node.findAll()) {
      if (child instanceof cloudwatch.AlarmBase) alarms.push(child);
      else if (child instanceof lambda.Function) functions.push(child);
      else if (child instanceof sqs.Queue) queues.push(child);
      else if (child instanceof lambda.CfnEventSourceMapping && child.eventSourceArn) consumed.add(child.eventSourceArn);
      else if (child instanceof cloudwatch.CfnAlarm && !(child.node.scope instanceof cloudwatch.AlarmBase)) {
        throw new Error(`${child.node.path}: declare alarms with cloudwatch.Alarm, so the observability aspect can give them the alarm topic`);
      }
    }
    alarms.push(...this.fillGaps(consumed));
    const notify = new actions.SnsAction(this.target.topic);
    for (const alarm of alarms) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
    this.layOut();
  }

  /**
   * A safety net, not the place for alarms: a function whose errors no alarm watches gets one (any
   * failure in 5 minutes), and a queue nothing consumes and no alarm watches (a failure destination
   * where messages park) gets one on its first message. Alarms with a runbook live in their constructs.
   */
  private fillGaps(consumed: ReadonlySet<string>): cloudwatch.Alarm[] {
    const { alarms, functions, queues } = this.target;
    const watched = alarms.flatMap((alarm) => (alarm instanceof cloudwatch.Alarm ? metricsOf(alarm.metric) : []));
    const watches = (namespace: string, metricName: string | undefined, dimension: string, value: string) =>
      watched.some((m) => m.namespace === namespace && (metricName === undefined || m.metricName === metricName) && m.dimensions?.[dimension] === value);
    const whenAny = { threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    const added: cloudwatch.Alarm[] = [];
    for (const fn of functions) {
      if (watches('AWS/Lambda', 'Errors', 'FunctionName', fn.functionName)) continue;
      added.push(
        new cloudwatch.Alarm(this.target, `${idOf(fn)}ErrorsAlarm`, {
          alarmDescription: `The function ${labelOf(fn)} failed (an invocation threw or timed out); its log group says why`,
          metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
          ...whenAny,
        }),
      );
    }
    for (const queue of queues) {
      if (consumed.has(queue.queueArn) || watches('AWS/SQS', undefined, 'QueueName', queue.queueName)) continue;
      added.push(
        new cloudwatch.Alarm(this.target, `${idOf(queue)}ParkedAlarm`, {
          alarmDescription: `Messages wait in ${labelOf(queue)}, which nothing consumes: a failure destination to inspect and replay`,
          metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
          ...whenAny,
        }),
      );
    }
    return added;
  }

  private layOut(): void {
    const { dashboard, alarms, functions, queues } = this.target;
    const five = { period: Duration.minutes(5) };
    const third = { width: 8, height: 6 };
    const half = { width: 12, height: 6 };

    // About four alarms fit a row of a full-width status widget.
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: `Alarms (${alarms.length})`,
        alarms,
        width: 24,
        height: Math.max(3, Math.ceil(alarms.length / 4) + 1),
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );

    const byQueue = (metric: (q: sqs.Queue) => cloudwatch.Metric) => queues.map((queue) => metric(queue).with({ label: labelOf(queue) }));
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queues: messages waiting (dead-letter queues should stay at 0)',
        left: byQueue((q) => q.metricApproximateNumberOfMessagesVisible({ ...five, statistic: cloudwatch.Stats.MAXIMUM })),
        ...half,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues: age of the oldest message (s)',
        left: byQueue((q) => q.metricApproximateAgeOfOldestMessage({ ...five, statistic: cloudwatch.Stats.MAXIMUM })),
        ...half,
      }),
    );

    const byFunction = (metric: (f: lambda.Function) => cloudwatch.Metric) => functions.map((fn) => metric(fn).with({ label: labelOf(fn) }));
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Functions: errors', left: byFunction((f) => f.metricErrors({ ...five, statistic: cloudwatch.Stats.SUM })), ...third }),
      new cloudwatch.GraphWidget({ title: 'Functions: throttles', left: byFunction((f) => f.metricThrottles({ ...five, statistic: cloudwatch.Stats.SUM })), ...third }),
      new cloudwatch.GraphWidget({ title: 'Functions: duration p99 (ms)', left: byFunction((f) => f.metricDuration({ ...five, statistic: cloudwatch.Stats.p(99) })), ...third }),
    );

    const api = this.webhooks.api;
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhook API: requests and errors',
        left: [api.metricCount({ ...five, statistic: cloudwatch.Stats.SUM, label: 'requests' })],
        right: [api.metricClientError({ ...five, label: '4xx' }), api.metricServerError({ ...five, label: '5xx' })],
        ...half,
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhook API: latency (ms)',
        left: [
          api.metricLatency({ ...five, statistic: cloudwatch.Stats.p(99), label: 'latency p99' }),
          api.metricIntegrationLatency({ ...five, statistic: cloudwatch.Stats.p(99), label: 'integration latency p99' }),
        ],
        ...half,
      }),
    );

    dashboard.addWidgets(...this.appMetricWidgets());
  }

  /** The curated groups, then every alarmed metric of our namespace the groups do not name. */
  private appMetricWidgets(): cloudwatch.GraphWidget[] {
    const search = (names: readonly string[], statistic: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${APP_METRIC_NAMESPACE},service} ${names.map((name) => `MetricName="${name}"`).join(' OR ')}', '${statistic}', 300)`,
        usingMetrics: {},
        // One series per metric and function: CloudWatch's dynamic labels name both.
        label: "${PROP('MetricName')} (${PROP('Dim.service')})",
        period: Duration.minutes(5),
      });
    const widgets = APP_METRIC_GROUPS.map((group) => new cloudwatch.GraphWidget({ title: group.title, left: [search(group.names, group.statistic)], width: 8, height: 6 }));
    const curated = new Set(APP_METRIC_GROUPS.flatMap((group) => group.names));
    const uncurated = new Map<string, cloudwatch.IMetric>();
    for (const alarm of this.target.alarms) {
      if (!(alarm instanceof cloudwatch.Alarm)) continue;
      for (const metric of metricsOf(alarm.metric)) {
        if (metric.namespace !== APP_METRIC_NAMESPACE || curated.has(metric.metricName)) continue;
        uncurated.set(`${metric.metricName} ${JSON.stringify(metric.dimensions ?? {})}`, metric);
      }
    }
    if (uncurated.size > 0) widgets.push(new cloudwatch.GraphWidget({ title: 'Other alarmed application metrics', left: [...uncurated.values()], width: 8, height: 6 }));
    return widgets;
  }
}

/** A construct's path below the stack; WorkerFunction's child is always "Function", so its parent names it. */
function labelOf(construct: IConstruct): string {
  const path = construct.node.path.split('/').slice(1);
  return (path.at(-1) === 'Function' ? path.slice(0, -1) : path).join('/');
}

/** `labelOf` as a construct id: MailIngest/Worker → MailIngestWorker. */
const idOf = (construct: IConstruct): string => labelOf(construct).replace(/[^A-Za-z0-9]/g, '');

/** The plain metrics an alarm watches, through math expressions. */
function metricsOf(metric: cloudwatch.IMetric): cloudwatch.Metric[] {
  if (metric instanceof cloudwatch.Metric) return [metric];
  if (metric instanceof cloudwatch.MathExpression) return Object.values(metric.usingMetrics).flatMap(metricsOf);
  return [];
}
