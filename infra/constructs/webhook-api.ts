// The stack's one public HTTP API, for the providers' webhooks (Gmail's Pub/Sub push, Microsoft
// Graph's change and lifecycle notifications): each connector adds its own routes to `api`. Its
// `$default` stage is throttled, and every request is access-logged to a KMS-encrypted log group in
// a format that carries no personal data (no path, query string, headers or authorizer claims).
// Two alarms watch it for spikes: 5xx (our functions or integrations failing) and 4xx (a storm of
// forged or malformed pushes, or the throttle refusing a flood, shows as a wall of 4xx).
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * What an access log line holds: enough to trace a request (requestId, the API's own ids) and to see
 * why it was refused (status, the authorizer's error), never what it carried.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  authorizerError: '$context.authorizer.error',
} as const;

export interface WebhookApiProps {
  /** Steady requests per second across the stage. */
  readonly rateLimit: number;
  /** Requests above the steady rate the stage absorbs. */
  readonly burstLimit: number;
  /** Default one month: the lines name client IPs. */
  readonly accessLogRetention?: logs.RetentionDays;
  /** 5xx answers in five minutes that raise the alarm. Default 5. */
  readonly serverErrorsPerFiveMinutes?: number;
  /** 4xx answers in five minutes from which a 4xx spike counts (below: internet noise). Default 100. */
  readonly clientErrorsPerFiveMinutes?: number;
  /** …and the share of all requests they must reach, in percent. Default 20. */
  readonly clientErrorPercent?: number;
}

/** The defaults of the spike alarms (README, Alarms). */
export const WEBHOOK_SPIKES = { serverErrorsPerFiveMinutes: 5, clientErrorsPerFiveMinutes: 100, clientErrorPercent: 20 } as const;

export class WebhookApi extends Construct {
  /** Connectors add their routes here (`api.addRoutes`), each with its own authorizer. */
  public readonly api: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly accessLogs: logs.LogGroup;
  public readonly accessLogKey: kms.Key;
  public readonly alarms: { readonly serverErrors: cloudwatch.Alarm; readonly clientErrors: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.accessLogKey = new kms.Key(this, 'AccessLogKey', { description: 'mail2ticket webhook access logs', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    // CloudWatch Logs encrypts with the caller's key only if the key policy lets the service in, and
    // only for log groups of this account and region (the encryption context names the log group).
    this.accessLogKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogs',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
      }),
    );
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      encryptionKey: this.accessLogKey,
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The default stage is declared here, not by HttpApi, so that it carries throttling and logs.
    this.api = new apigwv2.HttpApi(this, 'Api', { apiName: `${Stack.of(this).stackName}-webhooks`, description: 'mail2ticket provider webhooks', createDefaultStage: false });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    const clientErrors = props.clientErrorsPerFiveMinutes ?? WEBHOOK_SPIKES.clientErrorsPerFiveMinutes;
    const clientErrorPercent = props.clientErrorPercent ?? WEBHOOK_SPIKES.clientErrorPercent;
    this.alarms = {
      serverErrors: new cloudwatch.Alarm(this, 'ServerErrorsAlarm', {
        alarmDescription: 'The webhook API answered 5xx repeatedly: a function failing or timing out behind a route (providers retry, then drop)',
        metric: this.api.metricServerError(fiveMinutes),
        threshold: props.serverErrorsPerFiveMinutes ?? WEBHOOK_SPIKES.serverErrorsPerFiveMinutes,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      // A count alone would fire on a busy day's stray 404s; a share alone on three bot requests at
      // night. Both must hold: many 4xx, and a large part of the traffic.
      clientErrors: new cloudwatch.Alarm(this, 'ClientErrorsAlarm', {
        alarmDescription: `The webhook API answered 4xx to at least ${clientErrors} requests in 5 minutes, ${clientErrorPercent}% or more of its traffic: forged or malformed pushes, a misconfigured subscription, or a flood the throttle refuses`,
        metric: new cloudwatch.MathExpression({
          expression: `IF(FILL(client, 0) >= ${clientErrors}, 100 * client / requests, 0)`,
          usingMetrics: { client: this.api.metricClientError(fiveMinutes), requests: this.api.metricCount(fiveMinutes) },
          period: Duration.minutes(5),
          label: '4xx % of requests (when ≥ the count floor)',
        }),
        threshold: clientErrorPercent,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
  }

  /** The public URL of `path` (which starts with a slash) on the default stage. */
  urlOf(path: string): string {
    if (!path.startsWith('/')) throw new Error(`webhook path must start with "/" (got ${JSON.stringify(path)})`);
    // The $default stage's URL ends with a slash and has no stage segment.
    return `${this.stage.url}${path.slice(1)}`;
  }
}
