// The alarm topic and the dashboard (infra/constructs/observability.ts), the webhook API's spike
// alarms (webhook-api.ts), and the context keys that reach the template (alarmEmail, msAppId).
import { Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_METRIC_GROUPS } from '../../infra/constructs/observability.js';
import { WEBHOOK_SPIKES } from '../../infra/constructs/webhook-api.js';
import { BUNDLED_SYNTH_TIMEOUT, newApp, removeTempDirs, SKIP_BUNDLING } from './synth.js';
import { arn, idOf, ofType, resourcesOf, type Json, type Resource, type Statement } from './template.js';

afterAll(removeTempDirs);

const ALARM_EMAIL = 'ops@example.com';
const MS_APP_ID = '6f1c2a9e-8b7d-4e3f-a1b2-c3d4e5f60718';

let base: Json;
let custom: Json;

beforeAll(() => {
  base = newApp(SKIP_BUNDLING).app.synth().getStackByName('Mail2Ticket').template as Json;
  // An alarm, a queue and a custom-namespace metric added after the stack was built, by code that
  // knows nothing of Observability: the aspect must still cover them.
  const { app, stack } = newApp({ ...SKIP_BUNDLING, alarmEmail: ALARM_EMAIL, msAppId: MS_APP_ID });
  const late = new sqs.Queue(stack, 'LateQueue', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
  new cloudwatch.Alarm(stack, 'LateAlarm', {
    metric: new cloudwatch.Metric({ namespace: 'mail2ticket', metricName: 'late.metric', dimensionsMap: { service: 'late' } }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  Validations.of(late).acknowledge({ id: 'AwsSolutions::AwsSolutions-SQS3', reason: 'A queue of this test only, never deployed.' });
  custom = app.synth().getStackByName('Mail2Ticket').template as Json;
}, BUNDLED_SYNTH_TIMEOUT * 2);

const topicOf = (t: Json) => idOf(t, 'AWS::SNS::Topic', 'ObservabilityAlarmTopic');
const keyPolicy = (t: Json, keyId: string) => ((resourcesOf(t)[keyId] as Resource).Properties.KeyPolicy as { Statement: Statement[] }).Statement;

/** The dashboard body with every intrinsic replaced by a readable placeholder: `<Ref:Id>`, `<GetAtt:Id.Attr>`. */
function dashboardBody(t: Json): { widgets: Array<{ type: string; properties: Json }> } & { text: string } {
  const [[, dashboard]] = ofType(t, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
  const body = dashboard.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const piece = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const intrinsic = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (intrinsic.Ref) return `<Ref:${intrinsic.Ref}>`;
    if (intrinsic['Fn::GetAtt']) return `<GetAtt:${intrinsic['Fn::GetAtt'].join('.')}>`;
    throw new Error(`unexpected piece in the dashboard body: ${JSON.stringify(part)}`);
  };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map(piece).join(body['Fn::Join'][0]);
  return { ...(JSON.parse(text) as { widgets: Array<{ type: string; properties: Json }> }), text };
}

describe('the alarm topic', () => {
  it('is encrypted with its own rotating customer-managed key that CloudWatch alarms of this account may use', () => {
    const topic = resourcesOf(base)[topicOf(base)] as Resource;
    const keyId = idOf(base, 'AWS::KMS::Key', 'ObservabilityTopicKey');
    expect(topic.Properties.KmsMasterKeyId).toEqual(arn(keyId));
    expect((resourcesOf(base)[keyId] as Resource).Properties.EnableKeyRotation).toBe(true);
    const cloudwatchGrant = keyPolicy(base, keyId).find((s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }));
    expect(cloudwatchGrant).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': expect.anything() } },
    });
    expect(JSON.stringify(cloudwatchGrant?.Condition)).toContain(':alarm:*');
  });

  it('refuses publishing without TLS and lets only CloudWatch alarms of this account publish', () => {
    const topicId = topicOf(base);
    const policies = ofType(base, 'AWS::SNS::TopicPolicy').filter(([, p]) => JSON.stringify(p.Properties.Topics) === JSON.stringify([{ Ref: topicId }]));
    expect(policies).toHaveLength(1);
    const statements = ((policies[0] as [string, Resource])[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: { Ref: topicId } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    );
  });

  it('has an e-mail subscription only when alarmEmail is given', () => {
    expect(ofType(base, 'AWS::SNS::Subscription')).toEqual([]);
    const subscriptions = ofType(custom, 'AWS::SNS::Subscription').map(([, s]) => s.Properties);
    expect(subscriptions).toEqual([{ Protocol: 'email', Endpoint: ALARM_EMAIL, TopicArn: { Ref: topicOf(custom) } }]);
  });

  it('is output for subscribing by hand', () => {
    expect((base.Outputs as Record<string, { Value: unknown }>).AlarmTopicArn?.Value).toEqual({ Ref: topicOf(base) });
  });
});

describe('every alarm of the stack', () => {
  it.each([
    ['as built', () => base],
    ['with an alarm added after the stack was built', () => custom],
  ])('notifies the topic on ALARM and on OK (%s)', (_, template) => {
    const t = template();
    const topic = { Ref: topicOf(t) };
    const alarms = ofType(t, 'AWS::CloudWatch::Alarm');
    // The connectors', the retention backstop's, the ingest DLQ's, the consent site's and the API's at least.
    expect(alarms.length).toBeGreaterThanOrEqual(20);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topic]);
      expect(alarm.Properties.OKActions, id).toEqual([topic]);
    }
    expect(ofType(t, 'AWS::CloudWatch::CompositeAlarm')).toEqual([]);
  });

  it('covers the late alarm (the aspect sees what is added after Observability)', () => {
    const lateId = idOf(custom, 'AWS::CloudWatch::Alarm', 'LateAlarm');
    expect((resourcesOf(custom)[lateId] as Resource).Properties.AlarmActions).toEqual([{ Ref: topicOf(custom) }]);
  });
});

describe('the safety net', () => {
  /** What an alarm watches: its one metric, or each metric of its math expression. */
  const watched = (alarm: Resource): Array<{ MetricName?: string; Dimensions?: unknown }> => {
    const p = alarm.Properties as { MetricName?: string; Dimensions?: unknown; Metrics?: Array<{ MetricStat?: { Metric: { MetricName: string; Dimensions?: unknown } } }> };
    if (p.MetricName) return [{ MetricName: p.MetricName, Dimensions: p.Dimensions }];
    return (p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
  };
  const alarmsOn = (t: Json, metricName: string, dimension: { Name: string; Value: unknown }) =>
    ofType(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => watched(a).some((m) => m.MetricName === metricName && JSON.stringify(m.Dimensions) === JSON.stringify([dimension])));

  it('leaves no function without an alarm on its errors', () => {
    for (const [id] of ofType(base, 'AWS::Lambda::Function')) expect(alarmsOn(base, 'Errors', { Name: 'FunctionName', Value: { Ref: id } }).length, id).toBeGreaterThanOrEqual(1);
    // The ingest worker's had none before (its jobs reach the DLQ only after every retry).
    const ingest = idOf(base, 'AWS::Lambda::Function', 'MailIngestWorker');
    expect(alarmsOn(base, 'Errors', { Name: 'FunctionName', Value: { Ref: ingest } }).map(([id]) => id)).toEqual([idOf(base, 'AWS::CloudWatch::Alarm', 'ObservabilityMailIngestWorkerErrorsAlarm')]);
  });

  it('does not double an alarm a construct already has', () => {
    const worker = idOf(base, 'AWS::Lambda::Function', 'GmailConnectorWorker');
    expect(alarmsOn(base, 'Errors', { Name: 'FunctionName', Value: { Ref: worker } }).map(([id]) => id)).toEqual([idOf(base, 'AWS::CloudWatch::Alarm', 'GmailConnectorWorkerErrorsAlarm')]);
  });

  it('alarms on the first message parked in a queue nothing consumes and nothing watches', () => {
    const failures = idOf(base, 'AWS::SQS::Queue', 'RetentionStreamFailures');
    const parked = alarmsOn(base, 'ApproximateNumberOfMessagesVisible', { Name: 'QueueName', Value: { 'Fn::GetAtt': [failures, 'QueueName'] } });
    expect(parked).toHaveLength(1);
    expect((parked[0] as [string, Resource])[1].Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Maximum' });
    const late = idOf(custom, 'AWS::SQS::Queue', 'LateQueue');
    expect(alarmsOn(custom, 'ApproximateNumberOfMessagesVisible', { Name: 'QueueName', Value: { 'Fn::GetAtt': [late, 'QueueName'] } })).toHaveLength(1);
    // A consumed queue is watched through its dead-letter queue, not by itself.
    const jobs = idOf(base, 'AWS::SQS::Queue', 'MailIngestJobs');
    expect(alarmsOn(base, 'ApproximateNumberOfMessagesVisible', { Name: 'QueueName', Value: { 'Fn::GetAtt': [jobs, 'QueueName'] } })).toEqual([]);
  });
});

describe('the webhook API spike alarms', () => {
  const apiId = () => idOf(base, 'AWS::ApiGatewayV2::Api', 'WebhooksApi');

  it('alarm on 5 or more 5xx in five minutes', () => {
    const alarm = (resourcesOf(base)[idOf(base, 'AWS::CloudWatch::Alarm', 'WebhooksServerErrorsAlarm')] as Resource).Properties;
    expect(WEBHOOK_SPIKES.serverErrorsPerFiveMinutes).toBe(5);
    expect(alarm).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId() } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarm when at least 100 4xx in five minutes are 20% or more of the requests', () => {
    const alarm = (resourcesOf(base)[idOf(base, 'AWS::CloudWatch::Alarm', 'WebhooksClientErrorsAlarm')] as Resource).Properties;
    expect(alarm).toMatchObject({ Threshold: 20, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    const metrics = alarm.Metrics as Array<{ Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown }; Period: number; Stat: string } }>;
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('IF(FILL(client, 0) >= 100, 100 * client / requests, 0)');
    const stat = (id: string) => metrics.find((m) => m.Id === id)?.MetricStat;
    expect(stat('client')).toEqual({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: '4xx', Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId() } }] }, Period: 300, Stat: 'Sum' });
    expect(stat('requests')).toEqual({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId() } }] }, Period: 300, Stat: 'Sum' });
  });
});

describe('the dashboard', () => {
  it('is named after the stack, and output', () => {
    const dashboards = ofType(base, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect((dashboards[0] as [string, Resource])[1].Properties.DashboardName).toBe('Mail2Ticket');
    expect((base.Outputs as Record<string, { Value: unknown }>).DashboardName?.Value).toEqual({ Ref: (dashboards[0] as [string, Resource])[0] });
  });

  it.each([
    ['as built', () => base],
    ['with a queue and an alarm added later', () => custom],
  ])('shows the status of every alarm, every queue and every function (%s)', (_, template) => {
    const t = template();
    const { widgets, text } = dashboardBody(t);
    const alarmWidget = widgets.find((w) => w.type === 'alarm');
    const alarmArns = ofType(t, 'AWS::CloudWatch::Alarm').map(([id]) => `<GetAtt:${id}.Arn>`);
    expect([...(alarmWidget?.properties.alarms as string[])].sort()).toEqual(alarmArns.sort());

    const queues = ofType(t, 'AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(6);
    for (const [id] of queues) {
      expect(text, id).toMatch(new RegExp(`"ApproximateNumberOfMessagesVisible","QueueName","<GetAtt:${id}.QueueName>"`));
      expect(text, id).toMatch(new RegExp(`"ApproximateAgeOfOldestMessage","QueueName","<GetAtt:${id}.QueueName>"`));
    }
    const functions = ofType(t, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(9);
    for (const [id] of functions) {
      for (const metric of ['Errors', 'Throttles', 'Duration']) expect(text, `${id} ${metric}`).toContain(`"${metric}","FunctionName","<Ref:${id}>"`);
    }
  });

  it('shows the webhook API and the application metrics, curated and alarmed', () => {
    const { widgets, text } = dashboardBody(base);
    const apiRef = `<Ref:${idOf(base, 'AWS::ApiGatewayV2::Api', 'WebhooksApi')}>`;
    for (const metric of ['Count', '4xx', '5xx', 'Latency', 'IntegrationLatency']) expect(text).toContain(`"AWS/ApiGateway","${metric}","ApiId","${apiRef}"`);
    for (const name of APP_METRIC_GROUPS.flatMap((group) => group.names)) expect(text).toContain(`MetricName=\\"${name}\\"`);
    expect(text).toContain("SEARCH('{mail2ticket,service}");
    // The late alarm's metric is in no curated group: it gets a widget of its own.
    expect(dashboardBody(custom).text).toContain('"mail2ticket","late.metric","service","late"');
    expect(widgets.length).toBeLessThanOrEqual(20);
  });
});

describe('msAppId', () => {
  const withSecretArn = (t: Json) =>
    ofType(t, 'AWS::Lambda::Function').filter(([, f]) => 'GRAPH_APP_SECRET_ARN' in (f.Properties.Environment as { Variables: Json }).Variables);

  it('reaches every function that reads the Graph app secret as GRAPH_APP_ID, and only when set', () => {
    expect(withSecretArn(custom).length).toBeGreaterThanOrEqual(3);
    for (const [id, f] of withSecretArn(custom)) expect((f.Properties.Environment as { Variables: Json }).Variables.GRAPH_APP_ID, id).toBe(MS_APP_ID);
    for (const [id, f] of ofType(base, 'AWS::Lambda::Function')) expect((f.Properties.Environment as { Variables: Json }).Variables, id).not.toHaveProperty('GRAPH_APP_ID');
  });
});
