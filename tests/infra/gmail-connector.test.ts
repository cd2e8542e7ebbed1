// The Gmail connector's infrastructure, asserted by value on the synthesized template: the webhook
// route behind Google's token, the FIFO sync queue and its dead letters, each function's exact
// grants, the service index key the key service resolves, the OAuth client secret, the schedules,
// the alarms and the outputs; once with defaults, once with every context key set. Where the
// template names something the code must agree with (an alias, a metric, a payload), the real code
// is run against it: the key service, the secret reader, the scheduled handler, the renewal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeHandler as makeScheduleHandler, type GmailScheduleDeps } from '../../functions/gmail-schedule/make-handler.js';
import { composeGmailSync } from '../../functions/gmail-sync/compose.js';
import { ContextError, GOOGLE_SERVICE_ACCOUNT, PUBSUB_TOPIC, readInfraConfig } from '../../infra/config.js';
import { GMAIL_METRIC_SERVICES, GOOGLE_ISSUER, METRIC_NAMESPACE, OAUTH_SECRET_PLACEHOLDER } from '../../infra/constructs/gmail-connector.js';
import { ACCESS_LOG_FIELDS } from '../../infra/constructs/webhook-api.js';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { readOAuthClientSecret } from '../../shared/adapters/system/secrets.js';
import { SERVICE_INDEX_TENANT } from '../../shared/domain/connectors/credentials.js';
import type { MailboxRecord } from '../../shared/domain/model.js';
import { ReauthorizationRequired } from '../../shared/domain/provider-errors.js';
import { FakeKms } from '../fakes/kms.js';
import { FAKE_CREDENTIALS, startFakeSecretsManager, type FakeSecretsManager } from './fake-secrets-manager.js';
import { ENV, newApp, removeTempDirs, ROOT, SKIP_BUNDLING } from './synth.js';
import { arn, fn, idOf, ofType, resourcesOf, statementsOf, type Json, type Resource, type Statement } from './template.js';


/** Every context key set, none to its default. */
const CUSTOM = {
  webhookRateLimit: 10,
  webhookBurstLimit: 20,
  gmailPushAudience: 'https://hooks.example.org/gmail',
  gmailPushServiceAccount: 'gmail-push@my-project.iam.gserviceaccount.com',
  gmailTopic: 'projects/my-project/topics/gmail',
  gmailFullSyncDays: 3,
  gmailSafetySyncMinutes: 5,
  gmailSyncMaxReceiveCount: 4,
} as const;

let base: Json;
let custom: Json;
let secrets: FakeSecretsManager;

beforeAll(async () => {
  secrets = await startFakeSecretsManager();
  // Template only: bundles.test.ts starts the real bundles. The custom synth also proves cdk-nag
  // stays clean when every key is set (a finding fails the synth).
  base = Template.fromStack(newApp(SKIP_BUNDLING).stack).toJSON() as Json;
  custom = Template.fromStack(newApp({ ...SKIP_BUNDLING, ...CUSTOM }).stack).toJSON() as Json;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await secrets?.close();
  removeTempDirs();
});

// ── template helpers ────────────────────────────────────────────────────────
const bySid = (statements: Statement[], sid: string) => statements.filter((s) => s.Sid === sid);
/** Fn::Join of literals and references, with each reference written as <Ref>. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(flatten).join(join[0]);
  const ref = (value as { Ref?: string }).Ref;
  if (ref) return `<${ref}>`;
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

const PUSH = 'mail2ticket-gmail-push';
const WORKER = 'mail2ticket-gmail-sync';
const SCHEDULE = 'mail2ticket-gmail-schedule';
/** The stack's stand-ins for deploy-time references, as bundles.test.ts makes them. */
const standIns = (env: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(env).map(([name, value]) => [name, typeof value === 'string' ? value : `m2t-${name.toLowerCase()}`]));

describe('the webhook API', () => {
  it('is one HTTP API whose POST /webhooks/gmail goes to the push function, behind a JWT authorizer for Google tokens', () => {
    const apis = ofType(base, 'AWS::ApiGatewayV2::Api');
    expect(apis).toHaveLength(1);
    const apiId = apis[0]?.[0] as string;
    const push = fn(base, PUSH);
    // The Graph routes share the API (graph-connector.test.ts); this one is Gmail's alone.
    const [route, ...otherRoutes] = ofType(base, 'AWS::ApiGatewayV2::Route').filter(([, r]) => String(r.Properties.RouteKey).includes('/webhooks/gmail'));
    expect(otherRoutes).toEqual([]);
    const integrationId = idOf(base, 'AWS::ApiGatewayV2::Integration', 'WebhooksApiPOSTwebhooksgmail');
    const authorizerId = idOf(base, 'AWS::ApiGatewayV2::Authorizer', '');
    expect(route?.[1].Properties).toEqual({
      ApiId: { Ref: apiId },
      RouteKey: 'POST /webhooks/gmail',
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: authorizerId },
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
    expect(resourcesOf(base)[integrationId]?.Properties).toMatchObject({ ApiId: { Ref: apiId }, IntegrationType: 'AWS_PROXY', IntegrationUri: arn(push.id), PayloadFormatVersion: '2.0' });
    expect(resourcesOf(base)[authorizerId]?.Properties).toEqual({
      ApiId: { Ref: apiId },
      AuthorizerType: 'JWT',
      Name: 'GooglePushToken',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: GOOGLE_ISSUER, Audience: [push.env.GMAIL_PUSH_AUDIENCE] },
    });
    // API Gateway may invoke the push function for this route only.
    const permissions = ofType(base, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify(arn(push.id)));
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.[1].Properties.Principal).toBe('apigateway.amazonaws.com');
    expect(flatten(permissions[0]?.[1].Properties.SourceArn)).toBe(`arn:aws:execute-api:${ENV.region}:${ENV.account}:<${apiId}>/*/*/webhooks/gmail`);
  });

  it('throttles its default stage (webhookRateLimit, webhookBurstLimit)', () => {
    const stage = (t: Json) => resourcesOf(t)[idOf(t, 'AWS::ApiGatewayV2::Stage', '')]?.Properties as Json;
    expect(stage(base)).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
    expect(stage(custom).DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
  });

  it('access-logs every request as JSON without personal data, to a KMS-encrypted log group kept 30 days', () => {
    const stage = resourcesOf(base)[idOf(base, 'AWS::ApiGatewayV2::Stage', '')]?.Properties as { AccessLogSettings: { DestinationArn: unknown; Format: string } };
    const logGroupId = idOf(base, 'AWS::Logs::LogGroup', 'WebhooksAccessLogs');
    expect(stage.AccessLogSettings.DestinationArn).toEqual(arn(logGroupId));
    const format = JSON.parse(stage.AccessLogSettings.Format) as Record<string, string>;
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(Object.keys(format).sort()).toEqual(['authorizerError', 'integrationLatency', 'integrationStatus', 'ip', 'requestId', 'requestTime', 'responseLatency', 'routeKey', 'status']);
    // Nothing the caller sent: no path, query string, header, body or token claim.
    for (const variable of Object.values(format)) expect(variable).not.toMatch(/path|querystring|header|claims|body|userAgent|input/i);
    const logGroup = resourcesOf(base)[logGroupId]?.Properties as Json;
    const keyId = idOf(base, 'AWS::KMS::Key', 'WebhooksAccessLogKey');
    expect(logGroup).toEqual({ KmsKeyId: arn(keyId), RetentionInDays: 30 });
    const key = resourcesOf(base)[keyId]?.Properties as { EnableKeyRotation: boolean; KeyPolicy: { Statement: Statement[] } };
    expect(key.EnableKeyRotation).toBe(true);
    const forLogs = key.KeyPolicy.Statement.find((s) => s.Sid === 'CloudWatchLogs');
    expect(forLogs?.Principal).toEqual({ Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } });
    expect(flatten((forLogs?.Condition?.ArnLike as Json)['kms:EncryptionContext:aws:logs:arn'])).toBe('arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*');
  });
});

describe('the push endpoint and audience', () => {
  it('outputs the push URL, which is also the token audience by default', () => {
    const apiId = idOf(base, 'AWS::ApiGatewayV2::Api', '');
    const outputs = base.Outputs as Record<string, { Value: unknown }>;
    const endpoint = outputs.GmailPushEndpoint?.Value;
    expect(flatten(endpoint)).toBe(`https://<${apiId}>.execute-api.${ENV.region}.<AWS::URLSuffix>/webhooks/gmail`);
    expect(fn(base, PUSH).env.GMAIL_PUSH_AUDIENCE).toEqual(endpoint);
  });

  it('uses gmailPushAudience for the authorizer and the function alike, the URL staying the API', () => {
    expect(fn(custom, PUSH).env.GMAIL_PUSH_AUDIENCE).toBe(CUSTOM.gmailPushAudience);
    const authorizer = resourcesOf(custom)[idOf(custom, 'AWS::ApiGatewayV2::Authorizer', '')]?.Properties as { JwtConfiguration: Json };
    expect(authorizer.JwtConfiguration).toEqual({ Issuer: GOOGLE_ISSUER, Audience: [CUSTOM.gmailPushAudience] });
    expect(flatten((custom.Outputs as Record<string, { Value: unknown }>).GmailPushEndpoint?.Value)).toMatch(/^https:\/\/<WebhooksApi\w+>\.execute-api\..+\/webhooks\/gmail$/);
  });

  it('takes the service account and topic from context, else as CloudFormation parameters a deploy must supply', () => {
    const parameters = base.Parameters as Record<string, Json>;
    expect(parameters.GmailPushServiceAccount).toMatchObject({ Type: 'String', AllowedPattern: GOOGLE_SERVICE_ACCOUNT.source });
    expect(parameters.GmailTopic).toMatchObject({ Type: 'String', AllowedPattern: PUBSUB_TOPIC.source });
    // No default: `cdk deploy` without them stops before changing anything, naming them.
    expect(parameters.GmailPushServiceAccount).not.toHaveProperty('Default');
    expect(parameters.GmailTopic).not.toHaveProperty('Default');
    expect(fn(base, PUSH).env.GMAIL_PUSH_SERVICE_ACCOUNT).toEqual({ Ref: 'GmailPushServiceAccount' });
    expect(fn(base, WORKER).env.GMAIL_TOPIC).toEqual({ Ref: 'GmailTopic' });
    expect(fn(base, SCHEDULE).env.GMAIL_TOPIC).toEqual({ Ref: 'GmailTopic' });

    expect(custom.Parameters).not.toHaveProperty('GmailPushServiceAccount');
    expect(custom.Parameters).not.toHaveProperty('GmailTopic');
    expect(fn(custom, PUSH).env.GMAIL_PUSH_SERVICE_ACCOUNT).toBe(CUSTOM.gmailPushServiceAccount);
    expect(fn(custom, SCHEDULE).env.GMAIL_TOPIC).toBe(CUSTOM.gmailTopic);
  });

  it('checks the parameters with the same patterns as the context keys', () => {
    const accepts = (pattern: string, value: string) => new RegExp(pattern).test(value);
    const parameters = base.Parameters as Record<string, { AllowedPattern: string }>;
    const account = parameters.GmailPushServiceAccount?.AllowedPattern as string;
    for (const good of ['gmail-push@my-project.iam.gserviceaccount.com', '123456789012-compute@developer.gserviceaccount.com', 'my-project@appspot.gserviceaccount.com']) {
      expect(accepts(account, good), good).toBe(true);
    }
    for (const bad of ['someone@gmail.com', 'Gmail-Push@my-project.iam.gserviceaccount.com', 'gmail-push@my-project.iam.gserviceaccount.com.evil.example', '']) expect(accepts(account, bad), bad).toBe(false);
    const topic = parameters.GmailTopic?.AllowedPattern as string;
    expect(accepts(topic, 'projects/my-project/topics/gmail')).toBe(true);
    for (const bad of ['gmail', 'projects/p/topics/gmail', 'projects/my-project/subscriptions/gmail', 'projects/my-project/topics/gm']) expect(accepts(topic, bad), bad).toBe(false);
  });
});

describe('the sync queue and worker', () => {
  const queue = (t: Json) => resourcesOf(t)[idOf(t, 'AWS::SQS::Queue', 'GmailConnectorSyncJobs')]?.Properties as Json;

  it('is FIFO, KMS-encrypted, without content-based deduplication, with a FIFO dead-letter queue after 8 receives', () => {
    const deadLetters = idOf(base, 'AWS::SQS::Queue', 'GmailConnectorSyncDeadLetters');
    const key = idOf(base, 'AWS::KMS::Key', 'GmailConnectorQueueKey');
    expect(queue(base)).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      KmsMasterKeyId: arn(key),
      RedrivePolicy: { deadLetterTargetArn: arn(deadLetters), maxReceiveCount: 8 },
    });
    expect(resourcesOf(base)[deadLetters]?.Properties).toMatchObject({ FifoQueue: true, KmsMasterKeyId: arn(key) });
    expect(resourcesOf(base)[key]?.Properties.EnableKeyRotation).toBe(true);
  });

  it('dead-letters after gmailSyncMaxReceiveCount receives, and tells the worker the same count', () => {
    expect(queue(custom).RedrivePolicy).toMatchObject({ maxReceiveCount: 4 });
    expect(fn(custom, WORKER).env.SYNC_MAX_RECEIVE_COUNT).toBe('4');
    expect(fn(base, WORKER).env.SYNC_MAX_RECEIVE_COUNT).toBe('8');
  });

  it('tells the worker to hand a long backlog to a fresh job while half its timeout is left (at most six minutes)', () => {
    const worker = fn(base, WORKER);
    expect(worker.props.Timeout).toBe(600);
    expect(worker.env.SYNC_TIME_RESERVE_SECONDS).toBe('300');
  });

  it('feeds the worker ten jobs at a time with partial batch failures, and hides a job six worker timeouts', () => {
    const worker = fn(base, WORKER);
    const mappings = ofType(base, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: worker.id }));
    expect(mappings.map(([, m]) => m.Properties)).toEqual([
      { EventSourceArn: arn(idOf(base, 'AWS::SQS::Queue', 'GmailConnectorSyncJobs')), FunctionName: { Ref: worker.id }, BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] },
    ]);
    expect(queue(base).VisibilityTimeout).toBeGreaterThanOrEqual(6 * (worker.props.Timeout as number));
  });

  it('gives the worker and the scheduled jobs the same settings: the ingest worker’s and the Gmail ones', () => {
    const ingest = fn(base, 'mail2ticket-ingest').env;
    const worker = fn(base, WORKER).env;
    // Settings alike; the V8 options differ on purpose: only the worker streams mail (infra/runtime-options.ts).
    const { POWERTOOLS_SERVICE_NAME: _worker, NODE_OPTIONS: workerOptions, ...workerSettings } = worker;
    const { POWERTOOLS_SERVICE_NAME: _schedule, NODE_OPTIONS: scheduleOptions, ...scheduleSettings } = fn(base, SCHEDULE).env;
    expect(scheduleSettings).toEqual(workerSettings);
    expect([workerOptions, scheduleOptions]).toEqual(['--enable-source-maps --max-semi-space-size=1', '--enable-source-maps']);
    for (const name of ['TABLE_NAME', 'BUCKET_NAME', 'TENANT_KEY_ALIAS_PREFIX', 'NODE_OPTIONS']) expect(worker[name], name).toEqual(ingest[name]);
    expect(worker).toMatchObject({
      SYNC_QUEUE_URL: { Ref: idOf(base, 'AWS::SQS::Queue', 'GmailConnectorSyncJobs') },
      GOOGLE_OAUTH_SECRET_ARN: { Ref: idOf(base, 'AWS::SecretsManager::Secret', 'GmailConnectorOAuthClient') },
      GMAIL_FULL_SYNC_DAYS: '7',
      GMAIL_SAFETY_SYNC_MINUTES: '15',
      GMAIL_STALLED_AFTER_MINUTES: '60',
      GMAIL_EXCLUDED_LABELS: 'SENT,DRAFT,SPAM,TRASH',
    });
    expect(fn(custom, WORKER).env).toMatchObject({ GMAIL_FULL_SYNC_DAYS: '3', GMAIL_SAFETY_SYNC_MINUTES: '5', GMAIL_TOPIC: CUSTOM.gmailTopic });
  });

  it('keeps the push function small and quick, and gives it only what it reads', () => {
    const push = fn(base, PUSH);
    expect(push.props).toMatchObject({ MemorySize: 256, Timeout: 10 });
    const { POWERTOOLS_SERVICE_NAME, NODE_OPTIONS, ...settings } = push.env;
    // No source maps at run time: loading the map would cost every cold start (worker-function.ts).
    expect([POWERTOOLS_SERVICE_NAME, NODE_OPTIONS]).toEqual([PUSH, undefined]);
    expect(Object.keys(settings).sort()).toEqual(['GMAIL_PUSH_AUDIENCE', 'GMAIL_PUSH_SERVICE_ACCOUNT', 'SYNC_QUEUE_URL', 'TABLE_NAME', 'TENANT_KEY_ALIAS_PREFIX']);
  });
});

describe('least privilege', () => {
  const table = () => idOf(base, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable');
  const tableKey = () => idOf(base, 'AWS::KMS::Key', 'TicketStoreKey');
  const syncQueue = () => idOf(base, 'AWS::SQS::Queue', 'GmailConnectorSyncJobs');
  const queueKey = () => idOf(base, 'AWS::KMS::Key', 'GmailConnectorQueueKey');
  const secret = () => idOf(base, 'AWS::SecretsManager::Secret', 'GmailConnectorOAuthClient');
  const secretKey = () => idOf(base, 'AWS::KMS::Key', 'GmailConnectorSecretKey');
  const serviceKey = () => idOf(base, 'AWS::KMS::Key', 'ServiceIndexKey');
  const logs = (service: string) => ({ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn(idOf(base, 'AWS::Logs::LogGroup', `GmailConnector${service}Logs`)) });
  const tenantKeys = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':key/*']] };
  const viaTenantAlias = { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' } };
  const secretRead = () => [
    { Sid: 'OAuthClientSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secret() } },
    {
      Sid: 'OAuthClientSecretKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: arn(secretKey()),
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          'kms:EncryptionContext:SecretARN': { Ref: secret() },
        },
      },
    },
  ];

  it('lets the push function read table items, enqueue, and MAC with the service index key: nothing else', () => {
    const statements = statementsOf(base, PUSH);
    expect(statements).toEqual([
      logs('Push'),
      // Gmail directory items only: the partition key names the provider.
      { Sid: 'DirectoryRead', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: arn(table()), Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DIR#gmail#*'] } } },
      { Sid: 'TableKeyRead', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: arn(tableKey()) },
      { Sid: 'SyncQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(syncQueue()) },
      { Sid: 'SyncQueueKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn(queueKey()) },
      { Sid: 'ServiceIndexKey', Effect: 'Allow', Action: 'kms:GenerateMac', Resource: arn(serviceKey()) },
    ]);
    // Spelled out: no object of the bucket, no tenant key (so no mail and no credentials), no secret.
    const text = JSON.stringify(statements);
    expect(text).not.toMatch(/"s3:|AttachmentStore|:key\/\*|secretsmanager:|TenantDataKeys/);
  });

  it('gives the sync worker the ingest worker’s grants, its queue, and the one secret', () => {
    const statements = statementsOf(base, WORKER);
    const ingest = statementsOf(base, 'mail2ticket-ingest');
    for (const sid of ['TicketTable', 'Objects', 'ObjectsList', 'StoreKeys', 'TenantDataKeys', 'TenantKeyLookup']) {
      expect(bySid(statements, sid), sid).toEqual(bySid(ingest, sid));
      expect(bySid(statements, sid), sid).toHaveLength(1);
    }
    expect(bySid(statements, 'SyncQueue')).toEqual([{ Sid: 'SyncQueue', Effect: 'Allow', Action: ['sqs:ChangeMessageVisibility', 'sqs:SendMessage'], Resource: arn(syncQueue()) }]);
    expect(bySid(statements, 'SyncQueueKey')).toEqual([{ Sid: 'SyncQueueKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn(queueKey()) }]);
    expect(statements.filter((s) => s.Sid?.startsWith('OAuthClient'))).toEqual(secretRead());
    // What the event source mapping needs to consume, on this queue and its key only.
    const unnamed = statements.filter((s) => s.Sid === undefined);
    expect(unnamed).toEqual([
      logs('Worker'),
      { Effect: 'Allow', Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], Resource: arn(syncQueue()) },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: arn(queueKey()) },
    ]);
    expect(new Set(statements.map((s) => s.Sid))).toEqual(
      new Set([undefined, 'TicketTable', 'Objects', 'ObjectsList', 'StoreKeys', 'TenantDataKeys', 'TenantKeyLookup', 'SyncQueue', 'SyncQueueKey', 'OAuthClientSecret', 'OAuthClientSecretKey']),
    );
  });

  it('lets the scheduled jobs list connected mailboxes on GSI1, update them, open their credentials and enqueue', () => {
    expect(statementsOf(base, SCHEDULE)).toEqual([
      logs('Schedule'),
      { Sid: 'ConnectedMailboxes', Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [arn(table()), '/index/GSI1']] } },
      { Sid: 'MailboxUpdate', Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: arn(table()) },
      { Sid: 'TableKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: arn(tableKey()) },
      {
        Sid: 'TenantDataKeys',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: tenantKeys,
        Condition: {
          ...viaTenantAlias,
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'mailbox', 'purpose'] },
          Null: { 'kms:EncryptionContext:tenant': 'false', 'kms:EncryptionContext:mailbox': 'false', 'kms:EncryptionContext:purpose': 'false' },
        },
      },
      { Sid: 'TenantKeyLookup', Effect: 'Allow', Action: 'kms:DescribeKey', Resource: tenantKeys, Condition: viaTenantAlias },
      { Sid: 'SyncQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(syncQueue()) },
      { Sid: 'SyncQueueKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn(queueKey()) },
      ...secretRead(),
    ]);
  });

  it('lets no other role than the worker, the scheduled jobs and the consent site read the OAuth client secret', () => {
    const readers = ofType(base, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(JSON.stringify({ Ref: secret() })))
      .flatMap(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref))
      .sort();
    const roleOf = (service: string) => (fn(base, service).props.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    // The consent site connects mailboxes (consent-site.test.ts).
    expect(readers).toEqual([roleOf(WORKER), roleOf(SCHEDULE), roleOf('mail2ticket-consent')].sort());
  });
});

describe('the service index key', () => {
  it('is a retained HMAC_256 key under the alias the key service resolves for the tenant _service', async () => {
    const keyId = idOf(base, 'AWS::KMS::Key', 'ServiceIndexKey');
    expect(resourcesOf(base)[keyId]).toMatchObject({ Properties: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }, DeletionPolicy: 'Retain' });
    const alias = resourcesOf(base)[idOf(base, 'AWS::KMS::Alias', 'ServiceIndexKeyAlias')]?.Properties as { AliasName: string; TargetKeyId: unknown };
    expect(alias.TargetKeyId).toEqual(arn(keyId));
    expect(alias.AliasName).toBe('alias/mail2ticket/tenant/_service-index');

    // The push function's own key service, with the prefix the stack gives it, against a KMS that
    // has nothing but an HMAC key under the template's alias: the index must come from that key.
    const kms = new FakeKms(ENV.region);
    await kms.start();
    try {
      kms.createKey(alias.AliasName, 'HMAC_256');
      const client = new KMSClient({ endpoint: kms.endpoint, region: ENV.region, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const keys = new KmsKeyService({ kms: client, aliasPrefix: String(fn(base, PUSH).env.TENANT_KEY_ALIAS_PREFIX) });
      await expect(keys.blindIndex(SERVICE_INDEX_TENANT, 'gmail-address', 'support@example.org')).resolves.toMatch(/\S/);
      expect(kms.count('GenerateMac')).toBe(1);
      // Only GenerateMac, which is all the push function is granted on it.
      expect(kms.total()).toBe(1);
    } finally {
      await kms.stop();
    }
  });

  it('is within the tenant alias pattern that the sync worker’s key lookup is conditioned on', () => {
    const alias = (resourcesOf(base)[idOf(base, 'AWS::KMS::Alias', 'ServiceIndexKeyAlias')]?.Properties as { AliasName: string }).AliasName;
    const [lookup] = bySid(statementsOf(base, WORKER), 'TenantKeyLookup');
    const pattern = ((lookup?.Condition as Record<string, Json>)['ForAnyValue:StringLike'] as Json)['kms:ResourceAliases'] as string;
    expect(new RegExp(`^${pattern.replaceAll('*', '.*')}$`).test(alias)).toBe(true);
    expect(lookup?.Action).toContain('kms:GenerateMac');
  });
});

describe('the OAuth client secret', () => {
  it('is KMS-encrypted, never rotated by AWS, and created with a placeholder of the expected shape', () => {
    const secretId = idOf(base, 'AWS::SecretsManager::Secret', 'GmailConnectorOAuthClient');
    const secret = resourcesOf(base)[secretId] as Resource;
    expect(secret.Properties).toMatchObject({ KmsKeyId: arn(idOf(base, 'AWS::KMS::Key', 'GmailConnectorSecretKey')), SecretString: JSON.stringify(OAUTH_SECRET_PLACEHOLDER) });
    expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    expect(ofType(base, 'AWS::SecretsManager::RotationSchedule')).toEqual([]);
    expect((base.Outputs as Record<string, { Value: unknown }>).GoogleOAuthSecretArn?.Value).toEqual({ Ref: secretId });
  });

  it('is refused by the reader until the operator stores the client, and read once stored', async () => {
    const secret = resourcesOf(base)[idOf(base, 'AWS::SecretsManager::Secret', 'GmailConnectorOAuthClient')] as Resource;
    const client = new SecretsManagerClient({ endpoint: secrets.url, region: ENV.region, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    secrets.put('oauth-placeholder', String(secret.Properties.SecretString));
    await expect(readOAuthClientSecret(client, 'oauth-placeholder')).rejects.toThrow('the OAuth client secret must be JSON {"clientId": "…", "clientSecret": "…"}');
    secrets.put('oauth-filled', JSON.stringify({ clientId: '1234-abc.apps.googleusercontent.com', clientSecret: 'GOCSPX-test' }));
    await expect(readOAuthClientSecret(client, 'oauth-filled')).resolves.toEqual({ clientId: '1234-abc.apps.googleusercontent.com', clientSecret: 'GOCSPX-test' });
  });
});

describe('the schedules', () => {
  // Gmail's schedules: those that invoke the scheduled Gmail function (graph-connector.test.ts has the others).
  const schedules = (t: Json) =>
    ofType(t, 'AWS::Scheduler::Schedule')
      .map(([, s]) => s.Properties as { ScheduleExpression: string; FlexibleTimeWindow: Json; State: string; Target: Json })
      .filter((s) => JSON.stringify(s.Target.Arn) === JSON.stringify(arn(fn(t, SCHEDULE).id)));

  it('renew the watches daily and enqueue safety syncs every 15 minutes, through a role that may invoke only that function', () => {
    const scheduled = fn(base, SCHEDULE);
    const roleId = idOf(base, 'AWS::IAM::Role', 'GmailConnectorSchedulerRole');
    const found = schedules(base).map((s) => ({ expression: s.ScheduleExpression, input: s.Target.Input, retry: s.Target.RetryPolicy, window: s.FlexibleTimeWindow, state: s.State, arn: s.Target.Arn, role: s.Target.RoleArn }));
    const common = { window: { Mode: 'OFF' }, state: 'ENABLED', arn: arn(scheduled.id), role: arn(roleId) };
    expect(found).toEqual([
      { ...common, expression: 'rate(1 day)', input: '{"task":"renew-watches"}', retry: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 5 } },
      { ...common, expression: 'rate(15 minutes)', input: '{"task":"safety-sync"}', retry: { MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 2 } },
    ]);
    const role = resourcesOf(base)[roleId]?.Properties as { AssumeRolePolicyDocument: { Statement: Statement[] } };
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'scheduler.amazonaws.com' }, Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }) }),
    ]);
    const policies = ofType(base, 'AWS::IAM::Policy').filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId));
    expect(policies.flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)).toEqual([
      { Sid: 'InvokeScheduled', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arn(scheduled.id) },
    ]);
  });

  it('follow gmailSafetySyncMinutes, a late safety sync expiring with its interval', () => {
    const safety = schedules(custom).find((s) => s.Target.Input === '{"task":"safety-sync"}');
    expect(safety?.ScheduleExpression).toBe('rate(5 minutes)');
    expect(safety?.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 2 });
  });

  it('send payloads the scheduled handler understands, and nothing else is accepted', async () => {
    const counts = new CountingMetrics();
    const queued: unknown[] = [];
    const connected: MailboxRecord = {
      tenantId: 'acme',
      mailboxId: 'support',
      provider: 'gmail',
      status: 'connected',
      createdAt: '2026-01-01T00:00:00.000Z',
      connection: { addressIndex: 'idx', sealedCredentials: new Uint8Array([1]) },
    };
    // Only what the two tasks touch; the handler is the real one.
    const deps = {
      directory: { listConnected: async () => [connected] },
      keys: { decrypt: async () => Buffer.from(JSON.stringify({ address: 'support@example.org', refreshToken: 'r' })) },
      gmail: { open: () => ({ watch: async () => ({ historyId: '1', expiration: new Date('2026-01-08T00:00:00Z') }) }) },
      repo: { updateConnection: async () => true },
      queue: { enqueue: async (job: unknown) => void queued.push(job) },
      clock: { now: () => new Date('2026-01-01T12:00:00Z') },
      metrics: counts,
      settings: { topicName: CUSTOM.gmailTopic },
      safetySyncMinutes: 15,
    } as unknown as GmailScheduleDeps;
    const handler = makeScheduleHandler(deps);
    const inputs = schedules(base).map((s) => JSON.parse(String(s.Target.Input)) as { task: string });
    const results = await Promise.all(inputs.map((input) => handler(input)));
    expect(results).toEqual([{ renewed: 1, reauthorizationRequired: 0, failed: 0 }, { enqueued: 1 }]);
    expect(queued).toHaveLength(1);
    await expect(handler({ task: 'renew' })).rejects.toThrow(/must name a task/);
  });
});

describe('the alarms', () => {
  const alarms = () => ofType(base, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const onMetric = (name: string) => alarms().filter((a) => a.MetricName === name);


  it('fire when the provider refuses our own app (invalid_client), counted by the worker and the schedule', () => {
    const misconfigured = alarms().find((a) => JSON.stringify(a.Metrics ?? []).includes('gmail.client_misconfigured')) as { Metrics: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: Json } }>; Threshold: number };
    expect(misconfigured.Threshold).toBe(1);
    expect(misconfigured.Metrics.find((m) => m.Expression)?.Expression).toBe('FILL(sync, 0) + FILL(schedule, 0)');
    expect(misconfigured.Metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat?.Metric)).toEqual([
      { Namespace: METRIC_NAMESPACE, MetricName: 'gmail.client_misconfigured', Dimensions: [{ Name: 'service', Value: GMAIL_METRIC_SERVICES.sync }] },
      { Namespace: METRIC_NAMESPACE, MetricName: 'gmail.client_misconfigured', Dimensions: [{ Name: 'service', Value: GMAIL_METRIC_SERVICES.schedule }] },
    ]);
  });
  it('fire on a sync job in the dead-letter queue', () => {
    const deadLetters = idOf(base, 'AWS::SQS::Queue', 'GmailConnectorSyncDeadLetters');
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetters, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  });

  it('fire on a stalled push, a refused token and failing watch renewals, by the service that counts each', () => {
    expect(onMetric('gmail.push_stalled')).toEqual([
      expect.objectContaining({ Namespace: METRIC_NAMESPACE, Dimensions: [{ Name: 'service', Value: GMAIL_METRIC_SERVICES.sync }], Statistic: 'Sum', Threshold: 1 }),
    ]);
    expect(onMetric('gmail.watch_renewal_failed')).toEqual([
      expect.objectContaining({ Namespace: METRIC_NAMESPACE, Dimensions: [{ Name: 'service', Value: GMAIL_METRIC_SERVICES.schedule }], Threshold: 1, EvaluationPeriods: 2, DatapointsToAlarm: 2, Period: 86_400 }),
    ]);
    const reauthorization = alarms().find((a) => JSON.stringify(a.Metrics ?? []).includes('gmail.reauthorization_required')) as { Metrics: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: Json } }> };
    expect(reauthorization.Metrics.find((m) => m.Expression)?.Expression).toBe('FILL(sync, 0) + FILL(schedule, 0)');
    expect(reauthorization.Metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat?.Metric)).toEqual([
      { Namespace: METRIC_NAMESPACE, MetricName: 'gmail.reauthorization_required', Dimensions: [{ Name: 'service', Value: GMAIL_METRIC_SERVICES.sync }] },
      { Namespace: METRIC_NAMESPACE, MetricName: 'gmail.reauthorization_required', Dimensions: [{ Name: 'service', Value: GMAIL_METRIC_SERVICES.schedule }] },
    ]);
  });

  it('fire on errors of each Gmail function', () => {
    const errors = onMetric('Errors').map((a) => a.Dimensions);
    for (const service of [PUSH, WORKER, SCHEDULE]) expect(errors, service).toContainEqual([{ Name: 'FunctionName', Value: { Ref: fn(base, service).id } }]);
  });

  it('watch the metric names the renewal counts, under the service it runs as', async () => {
    // The real renewal, against one connected mailbox whose watch fails one way, then another.
    const counted = async (failure: Error) => {
      const metrics = new CountingMetrics();
      const mailbox: MailboxRecord = { tenantId: 'acme', mailboxId: 'support', provider: 'gmail', status: 'connected', createdAt: '2026-01-01T00:00:00.000Z', connection: { addressIndex: 'idx', sealedCredentials: new Uint8Array([1]) } };
      const deps = {
        directory: { listConnected: async () => [mailbox] },
        keys: { decrypt: async () => Buffer.from(JSON.stringify({ address: 'support@example.org', refreshToken: 'r' })) },
        gmail: { open: () => ({ watch: async () => Promise.reject(failure) }) },
        repo: { updateConnection: async () => true },
        queue: { enqueue: async () => undefined },
        clock: { now: () => new Date('2026-01-01T12:00:00Z') },
        metrics,
        settings: { topicName: CUSTOM.gmailTopic },
        safetySyncMinutes: 15,
      } as unknown as GmailScheduleDeps;
      await makeScheduleHandler(deps)({ task: 'renew-watches' });
      return [...metrics.counts.keys()];
    };
    expect(await counted(new ReauthorizationRequired('invalid_grant'))).toEqual(['gmail.reauthorization_required']);
    expect(await counted(new Error('backend error'))).toEqual(['gmail.watch_renewal_failed']);
    // The scheduled function's Metrics are named by its entry point (the sync worker's by its default).
    const entry = readFileSync(join(ROOT, 'functions/gmail-schedule/handler.ts'), 'utf8');
    expect(entry).toContain(`composeGmailSync(process.env, '${GMAIL_METRIC_SERVICES.schedule}')`);
    // gmail.push_stalled: counted by the sync use-case (tests/integration/gmail-connector.test.ts drives it).
    expect(readFileSync(join(ROOT, 'shared/domain/gmail/sync.ts'), 'utf8')).toContain("count('gmail.push_stalled')");
  });

  it("publish the sync worker's metrics under the namespace and service dimension the alarms use", async () => {
    // The worker's real composition root with the environment the stack gives it; the secret comes
    // from the fake, through the SDK's endpoint variable (the SDK reads the process environment).
    const env: Record<string, string> = { ...standIns(fn(base, WORKER).env), AWS_REGION: ENV.region };
    secrets.put(String(env.GOOGLE_OAUTH_SECRET_ARN), JSON.stringify({ clientId: 'c', clientSecret: 's' }));
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secrets.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY);
    try {
      const { metrics } = await composeGmailSync(env);
      metrics.addMetric('probe', MetricUnit.Count, 1);
      const emf = metrics.serializeMetrics() as unknown as { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> }; service: string };
      expect(emf._aws.CloudWatchMetrics).toEqual([expect.objectContaining({ Namespace: METRIC_NAMESPACE, Dimensions: [['service']] })]);
      expect(emf.service).toBe(GMAIL_METRIC_SERVICES.sync);
      metrics.clearMetrics();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('the Gmail context keys', () => {
  const read = (context: Record<string, unknown>) => readInfraConfig(new App({ context }).node);

  it('read valid values from -c strings', () => {
    expect(read({ ...CUSTOM, webhookRateLimit: '10', gmailFullSyncDays: '3' })).toMatchObject(CUSTOM);
    expect(read({ gmailPushServiceAccount: '123456789012-compute@developer.gserviceaccount.com' }).gmailPushServiceAccount).toBe('123456789012-compute@developer.gserviceaccount.com');
  });

  it.each([
    ['gmailPushAudience', 'http://hooks.example.org/gmail', /"gmailPushAudience" must be an https URL without query or fragment \(got "http:/],
    ['gmailPushAudience', 'https://hooks.example.org/gmail?x=1', /"gmailPushAudience" must be an https URL/],
    ['gmailPushServiceAccount', 'someone@gmail.com', /"gmailPushServiceAccount" must be a Google service account e-mail/],
    ['gmailTopic', 'gmail', /"gmailTopic" must be projects\/<project>\/topics\/<topic> \(got "gmail"\)/],
    ['gmailTopic', 'projects/my-project/subscriptions/gmail', /"gmailTopic" must be projects\/<project>\/topics\/<topic>/],
    ['gmailFullSyncDays', '31', /"gmailFullSyncDays" must be an integer from 1 to 30/],
    ['gmailFullSyncDays', '0', /"gmailFullSyncDays" must be an integer from 1 to 30/],
    ['gmailSafetySyncMinutes', '4', /"gmailSafetySyncMinutes" must be an integer from 5 to 60/],
    ['gmailSafetySyncMinutes', '61', /"gmailSafetySyncMinutes" must be an integer from 5 to 60/],
    ['gmailSyncMaxReceiveCount', '2', /"gmailSyncMaxReceiveCount" must be an integer from 3 to 100/],
    ['webhookRateLimit', '0', /"webhookRateLimit" must be an integer from 1 to 10000/],
    ['webhookBurstLimit', '5001', /"webhookBurstLimit" must be an integer from 1 to 5000/],
  ])('refuse %s=%s, naming the key', (key, value, message) => {
    expect(() => read({ [key]: value })).toThrow(ContextError);
    expect(() => read({ [key]: value })).toThrow(message);
  });

  it('report every bad Gmail key at once, before anything is built', () => {
    expect(() => newApp({ gmailTopic: 'gmail', gmailSafetySyncMinutes: 1, webhookBurstLimit: 0 })).toThrow(/"gmailTopic".*"gmailSafetySyncMinutes".*"webhookBurstLimit"/);
  });
});
