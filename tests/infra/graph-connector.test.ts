// The Microsoft 365 connector's infrastructure, asserted by value on the synthesized template: the two
// webhook routes without an authorizer (and the acknowledgement that says why), the FIFO sync queue
// and its dead letters, each function's exact grants, the app secret, the schedules, the alarms (the
// certificate's among them) and the outputs; once with defaults, once with every Graph key set. Where
// the template names something the code must agree with (an alias, a metric, a payload, a setting),
// the real code is run against it: the blind index, the secret reader, the settings loader, the
// scheduled handler and the composition roots' metrics.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDBClient, type GetItemCommandInput } from '@aws-sdk/client-dynamodb';
import { composeGraphNotify } from '../../functions/graph-notify/compose.js';
import { CERTIFICATE_DAYS_LEFT_METRIC, makeHandler as makeScheduleHandler, type GraphScheduleDeps } from '../../functions/graph-schedule/make-handler.js';
import { composeGraphSync } from '../../functions/graph-sync/compose.js';
import { ContextError, readInfraConfig } from '../../infra/config.js';
import { METRIC_NAMESPACE } from '../../infra/constructs/gmail-connector.js';
import { CERTIFICATE_DAYS_LEFT, GRAPH_APP_SECRET_PLACEHOLDER, GRAPH_METRIC_SERVICES } from '../../infra/constructs/graph-connector.js';
import type { Mail2TicketStack } from '../../infra/stack.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { readGraphAppSecret } from '../../shared/adapters/system/graph-app-secret.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { loadGraphSettings } from '../../shared/config.js';
import { acceptGraphNotification, clientStateDigest, subscriptionKey } from '../../shared/domain/graph/notify.js';
import type { MailboxRecord } from '../../shared/domain/model.js';
import type { QueuedJob } from '../../shared/domain/ports.js';
import { ReauthorizationRequired } from '../../shared/domain/provider-errors.js';
import { ensureTable, startDynalite } from '../../shared/local/dynalite.js';
import { FAKE_CREDENTIALS, startFakeSecretsManager, type FakeSecretsManager } from './fake-secrets-manager.js';
import { ENV, newApp, removeTempDirs, ROOT, SKIP_BUNDLING } from './synth.js';
import { arn, fn, idOf, ofType, resourcesOf, roleOf, statementsOf, statementsOfRole, type Json, type Resource, type Statement } from './template.js';


/** Every Graph context key set, none to its default. */
const CUSTOM = { graphFullSyncDays: 3, graphSafetySyncMinutes: 5, graphSyncMaxReceiveCount: 4 } as const;
/** An app certificate as the operator stores it (README, Infrastructure). */
const OPERATOR_CERTIFICATE = {
  clientId: '6731de76-14a6-49ae-97bc-6eba6914391e',
  thumbprintSha256: 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778',
  privateKey: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
  x5c: '-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIQ\n-----END CERTIFICATE-----\n',
  notAfter: '2026-01-31T00:00:00Z',
};

let stack: Mail2TicketStack;
let base: Json;
let custom: Json;
let secrets: FakeSecretsManager;

beforeAll(async () => {
  secrets = await startFakeSecretsManager();
  // Template only: bundles.test.ts starts the real bundles. The custom synth also proves cdk-nag
  // stays clean with every Graph key set (a finding fails the synth).
  stack = newApp(SKIP_BUNDLING).stack;
  base = Template.fromStack(stack).toJSON() as Json;
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
/** The acknowledgements recorded on one construct (id → reason). */
const acknowledgedOn = (construct: IConstruct): Record<string, string> =>
  Object.assign({}, ...construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data as Record<string, string>));

const NOTIFY = 'mail2ticket-graph-notify';
const WORKER = 'mail2ticket-graph-sync';
const SCHEDULE = 'mail2ticket-graph-schedule';
const outputs = (t: Json) => t.Outputs as Record<string, { Value: unknown; Description?: string }>;
/** A function's environment with each deploy-time reference written out as <Ref>. */
const standIns = (env: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(env).map(([name, value]) => [name, flatten(value)]));

describe('the Graph webhooks', () => {
  const routes = () => ofType(base, 'AWS::ApiGatewayV2::Route').filter(([, r]) => String(r.Properties.RouteKey).includes('/webhooks/graph'));

  it('are POST /webhooks/graph and /webhooks/graph/lifecycle on the one webhook API, both to the notify function, without an authorizer', () => {
    const apiId = idOf(base, 'AWS::ApiGatewayV2::Api', '');
    const integrationId = idOf(base, 'AWS::ApiGatewayV2::Integration', 'WebhooksApiPOSTwebhooksgraph');
    const target = { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] };
    expect(routes().map(([, r]) => r.Properties)).toEqual([
      { ApiId: { Ref: apiId }, RouteKey: 'POST /webhooks/graph', AuthorizationType: 'NONE', Target: target },
      { ApiId: { Ref: apiId }, RouteKey: 'POST /webhooks/graph/lifecycle', AuthorizationType: 'NONE', Target: target },
    ]);
    const notify = fn(base, NOTIFY);
    expect(resourcesOf(base)[integrationId]?.Properties).toEqual({ ApiId: { Ref: apiId }, IntegrationType: 'AWS_PROXY', IntegrationUri: arn(notify.id), PayloadFormatVersion: '2.0', TimeoutInMillis: 10_000 });
    // The API's only authorizer is Gmail's; no Graph route names one.
    expect(ofType(base, 'AWS::ApiGatewayV2::Authorizer').map(([, a]) => a.Properties.Name)).toEqual(['GooglePushToken']);
    // API Gateway may invoke the notify function for these two routes only.
    const permissions = ofType(base, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify(arn(notify.id)));
    expect(permissions.map(([, p]) => [p.Properties.Principal, flatten(p.Properties.SourceArn)])).toEqual([
      ['apigateway.amazonaws.com', `arn:aws:execute-api:${ENV.region}:${ENV.account}:<${apiId}>/*/*/webhooks/graph`],
      ['apigateway.amazonaws.com', `arn:aws:execute-api:${ENV.region}:${ENV.account}:<${apiId}>/*/*/webhooks/graph/lifecycle`],
    ]);
  });

  it('acknowledge AwsSolutions-APIG4 on exactly these two routes, saying how a notification is authenticated instead', () => {
    const { notifications, lifecycle } = stack.graph.routes;
    for (const route of [notifications, lifecycle]) {
      const acks = acknowledgedOn(route);
      expect(Object.keys(acks), route.node.path).toEqual(['AwsSolutions::AwsSolutions-APIG4']);
      expect(acks['AwsSolutions::AwsSolutions-APIG4']).toMatch(/without any token.*validation handshake.*clientState.*constant time/s);
    }
    // The consent site's routes carry their own (consent-site.test.ts).
    const consentRoutes: readonly IConstruct[] = stack.consent.routes;
    const elsewhere = stack.node.findAll().filter((c) => c !== notifications && c !== lifecycle && !consentRoutes.includes(c) && Object.keys(acknowledgedOn(c)).some((id) => id.includes('APIG4')));
    expect(elsewhere.map((c) => c.node.path)).toEqual([]);
    // The Gmail route keeps its JWT authorizer and needs no such acknowledgement.
    const gmail = ofType(base, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === 'POST /webhooks/gmail');
    expect(gmail?.[1].Properties.AuthorizationType).toBe('JWT');
  });

  it('output the two URLs, which are what the worker subscribes with', () => {
    const apiId = idOf(base, 'AWS::ApiGatewayV2::Api', '');
    const url = (path: string) => `https://<${apiId}>.execute-api.${ENV.region}.<AWS::URLSuffix>${path}`;
    expect(flatten(outputs(base).GraphNotificationUrl?.Value)).toBe(url('/webhooks/graph'));
    expect(flatten(outputs(base).GraphLifecycleUrl?.Value)).toBe(url('/webhooks/graph/lifecycle'));
    for (const service of [WORKER, SCHEDULE]) {
      expect(fn(base, service).env.GRAPH_NOTIFICATION_URL, service).toEqual(outputs(base).GraphNotificationUrl?.Value);
      expect(fn(base, service).env.GRAPH_LIFECYCLE_URL, service).toEqual(outputs(base).GraphLifecycleUrl?.Value);
    }
  });

  it('run a small, quick function that gets only what it reads', () => {
    const notify = fn(base, NOTIFY);
    expect(notify.props).toMatchObject({ MemorySize: 256, Timeout: 10 });
    const { POWERTOOLS_SERVICE_NAME, NODE_OPTIONS, ...settings } = notify.env;
    // No source maps at run time: loading the map would cost every cold start (worker-function.ts).
    expect([POWERTOOLS_SERVICE_NAME, NODE_OPTIONS]).toEqual([NOTIFY, undefined]);
    expect(settings).toEqual({
      TABLE_NAME: { Ref: idOf(base, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable') },
      SYNC_QUEUE_URL: { Ref: idOf(base, 'AWS::SQS::Queue', 'GraphConnectorSyncJobs') },
    });
  });
});

describe('the sync queue and worker', () => {
  const queue = (t: Json) => resourcesOf(t)[idOf(t, 'AWS::SQS::Queue', 'GraphConnectorSyncJobs')]?.Properties as Json;

  it('is FIFO, KMS-encrypted with its own rotating key, without content-based deduplication, with a FIFO dead-letter queue after 8 receives', () => {
    const deadLetters = idOf(base, 'AWS::SQS::Queue', 'GraphConnectorSyncDeadLetters');
    const key = idOf(base, 'AWS::KMS::Key', 'GraphConnectorQueueKey');
    expect(queue(base)).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      KmsMasterKeyId: arn(key),
      RedrivePolicy: { deadLetterTargetArn: arn(deadLetters), maxReceiveCount: 8 },
    });
    expect(resourcesOf(base)[deadLetters]?.Properties).toMatchObject({ FifoQueue: true, KmsMasterKeyId: arn(key) });
    expect(resourcesOf(base)[key]?.Properties.EnableKeyRotation).toBe(true);
  });

  it('dead-letters after graphSyncMaxReceiveCount receives, and tells the worker the same count', () => {
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
      { EventSourceArn: arn(idOf(base, 'AWS::SQS::Queue', 'GraphConnectorSyncJobs')), FunctionName: { Ref: worker.id }, BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] },
    ]);
    expect(worker.props.Timeout).toBe(600);
    expect(queue(base).VisibilityTimeout).toBe(6 * 600);
  });

  it('gives the worker and the scheduled jobs the same settings, which the settings loader accepts as meant', () => {
    const ingest = fn(base, 'mail2ticket-ingest').env;
    const worker = fn(base, WORKER).env;
    // Settings alike; the V8 options differ on purpose: only the worker streams mail (infra/runtime-options.ts).
    const { POWERTOOLS_SERVICE_NAME: _worker, NODE_OPTIONS: workerOptions, ...workerSettings } = worker;
    const { POWERTOOLS_SERVICE_NAME: _schedule, NODE_OPTIONS: scheduleOptions, ...scheduleSettings } = fn(base, SCHEDULE).env;
    expect(scheduleSettings).toEqual(workerSettings);
    expect([workerOptions, scheduleOptions]).toEqual(['--enable-source-maps --max-semi-space-size=1', '--enable-source-maps']);
    for (const name of ['TABLE_NAME', 'BUCKET_NAME', 'TENANT_KEY_ALIAS_PREFIX', 'NODE_OPTIONS']) expect(worker[name], name).toEqual(ingest[name]);
    expect(worker).toMatchObject({
      SYNC_QUEUE_URL: { Ref: idOf(base, 'AWS::SQS::Queue', 'GraphConnectorSyncJobs') },
      GRAPH_APP_SECRET_ARN: { Ref: idOf(base, 'AWS::SecretsManager::Secret', 'GraphConnectorAppCredential') },
    });
    // The real loader, on the values the stack sets.
    expect(loadGraphSettings(standIns(worker))).toEqual({
      notificationUrl: flatten(outputs(base).GraphNotificationUrl?.Value),
      lifecycleNotificationUrl: flatten(outputs(base).GraphLifecycleUrl?.Value),
      fullSyncDays: 7,
      subscriptionMinutes: 10_020,
      renewBeforeMinutes: 2 * 24 * 60,
      stalledAfterMinutes: 60,
      safetySyncMinutes: 15,
      maxReceiveCount: 8,
      timeReserveSeconds: 300,
    });
    expect(loadGraphSettings(standIns(fn(custom, SCHEDULE).env))).toMatchObject({ fullSyncDays: 3, safetySyncMinutes: 5, maxReceiveCount: 4 });
  });
});

describe('least privilege', () => {
  const table = () => idOf(base, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable');
  const tableKey = () => idOf(base, 'AWS::KMS::Key', 'TicketStoreKey');
  const syncQueue = () => idOf(base, 'AWS::SQS::Queue', 'GraphConnectorSyncJobs');
  const queueKey = () => idOf(base, 'AWS::KMS::Key', 'GraphConnectorQueueKey');
  const secret = () => idOf(base, 'AWS::SecretsManager::Secret', 'GraphConnectorAppCredential');
  const secretKey = () => idOf(base, 'AWS::KMS::Key', 'GraphConnectorSecretKey');
  const logs = (service: string) => ({ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn(idOf(base, 'AWS::Logs::LogGroup', `GraphConnector${service}Logs`)) });
  const tenantKeys = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':key/*']] };
  const viaTenantAlias = { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' } };
  const secretRead = () => [
    { Sid: 'GraphAppSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secret() } },
    {
      Sid: 'GraphAppSecretKey',
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

  it('lets the notify function read subscription entries and mailbox items, and enqueue: nothing else', () => {
    const statements = statementsOf(base, NOTIFY);
    expect(statements).toEqual([
      logs('Notify'),
      // Graph subscription entries, and a tenant's own partition (its mailbox items) but none below it.
      {
        Sid: 'DirectoryRead',
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: arn(table()),
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DIR#graph#subscription.*', 'T#*'] } },
      },
      { Sid: 'NoTenantData', Effect: 'Deny', Action: 'dynamodb:GetItem', Resource: arn(table()), Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['T#*#*'] } } },
      { Sid: 'TableKeyRead', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: arn(tableKey()) },
      { Sid: 'SyncQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(syncQueue()) },
      { Sid: 'SyncQueueKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn(queueKey()) },
    ]);
    // Spelled out: no object of the bucket, no tenant key of any kind (so no mail, no credentials; the
    // clientState is compared as a SHA-256 digest), no index key, no secret.
    expect(JSON.stringify(statements)).not.toMatch(/"s3:|AttachmentStore|:key\/\*|kms:GenerateMac|secretsmanager:|ServiceIndexKey/);
  });

  it('allows every GetItem the notify function sends through the real adapters (an entry with the digest, an older one and its mailbox), and no other partition', async () => {
    const dynalite = await startDynalite();
    const client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const partitions: string[] = [];
    try {
      await ensureTable(client, 'notify');
      const repo = new DynamoDbTicketRepository(client, 'notify');
      const owner = { tenantId: 'tenant01', mailboxId: 'mbx01' };
      const [current, older] = ['current-state', 'older-state'];
      await repo.claimAddress('graph', subscriptionKey('sub-current'), owner, { clientStateIndex: clientStateDigest(current) });
      await repo.claimAddress('graph', subscriptionKey('sub-older'), owner);
      const connection = { addressIndex: 'idx', subscriptionId: 'sub-older', clientStateIndex: clientStateDigest(older) };
      await repo.putMailbox({ ...owner, provider: 'graph', status: 'connected', createdAt: '2026-01-01T00:00:00Z', connection });
      client.middlewareStack.add(
        (next) => async (args) => {
          const input = args.input as Partial<GetItemCommandInput>;
          if (input.Key?.PK?.S) partitions.push(input.Key.PK.S);
          return next(args);
        },
        { step: 'initialize', name: 'recordGetItems' },
      );
      // As functions/graph-notify/compose.ts wires it: the repository is both directory and mailbox store.
      const jobs: QueuedJob[] = [];
      const deps = { directory: repo, repo, queue: { enqueue: async (job: QueuedJob) => void jobs.push(job) }, metrics: new CountingMetrics() };
      const item = (subscriptionId: string, clientState: string) => ({ subscriptionId, clientState, changeType: 'created', resourceData: { id: 'AAMk1' } });
      const answer = await acceptGraphNotification(deps, { route: 'notifications', body: JSON.stringify({ value: [item('sub-current', current), item('sub-older', older)] }) });
      expect(answer).toMatchObject({ status: 202, accepted: 2 });
      expect(jobs).toHaveLength(1);
    } finally {
      client.destroy();
      await dynalite.stop();
    }
    expect(partitions.sort()).toEqual(['DIR#graph#subscription.sub-current', 'DIR#graph#subscription.sub-older', 'T#tenant01']);

    // IAM's evaluation of these GetItems: an explicit Deny wins, else an Allow whose every leading key matches.
    const getItems = statementsOf(base, NOTIFY).filter((s) => [s.Action].flat().includes('dynamodb:GetItem'));
    expect(getItems.every((s) => JSON.stringify(s.Resource) === JSON.stringify(arn(table())))).toBe(true);
    const like = (pattern: string, value: string) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);
    const leadingKeys = (s: Statement, operator: string) => ((s.Condition?.[operator] as Record<string, string[]> | undefined)?.['dynamodb:LeadingKeys'] ?? []);
    const allows = (partition: string) =>
      !getItems.some((s) => s.Effect === 'Deny' && leadingKeys(s, 'ForAnyValue:StringLike').some((p) => like(p, partition))) &&
      getItems.some((s) => s.Effect === 'Allow' && leadingKeys(s, 'ForAllValues:StringLike').some((p) => like(p, partition)));
    for (const partition of partitions) expect(allows(partition), partition).toBe(true);
    for (const partition of [
      'T#tenant01#K#ticket01', // tickets, messages, attachments, reply intents
      'T#tenant01#MB#mbx01#FP#abc', // claims and lookups of a mailbox
      'T#tenant01#RQ#abc', // requester links
      'T#tenant01#AUDIT',
      'T#tenant01#CONSENT',
      'DIR#graph#abc', // a Microsoft 365 address's entry
      'DIR#gmail#abc',
      'DIR#graph#subscription', // not a subscription's entry: the prefix alone
      'SESSION#abc',
      'STATE#abc',
      'TENANTS',
    ]) {
      expect(allows(partition), partition).toBe(false);
    }
  });

  it('gives the sync worker the ingest worker’s grants (the directory’s PutItem and DeleteItem among them), its queue, and the one secret', () => {
    const statements = statementsOf(base, WORKER);
    const ingest = statementsOf(base, 'mail2ticket-ingest');
    for (const sid of ['TicketTable', 'Objects', 'ObjectsList', 'StoreKeys', 'TenantDataKeys', 'TenantKeyLookup']) {
      expect(bySid(statements, sid), sid).toEqual(bySid(ingest, sid));
      expect(bySid(statements, sid), sid).toHaveLength(1);
    }
    // A new subscription claims its directory item and releases the old one (conditional writes).
    const [tableGrant] = bySid(statements, 'TicketTable');
    expect(tableGrant?.Action).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem']));
    expect([tableGrant?.Resource].flat()).toContainEqual(arn(table()));
    expect(bySid(statements, 'SyncQueue')).toEqual([{ Sid: 'SyncQueue', Effect: 'Allow', Action: ['sqs:ChangeMessageVisibility', 'sqs:SendMessage'], Resource: arn(syncQueue()) }]);
    expect(bySid(statements, 'SyncQueueKey')).toEqual([{ Sid: 'SyncQueueKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arn(queueKey()) }]);
    expect(statements.filter((s) => s.Sid?.startsWith('GraphApp'))).toEqual(secretRead());
    // What the event source mapping needs to consume, on this queue and its key only.
    expect(statements.filter((s) => s.Sid === undefined)).toEqual([
      logs('Worker'),
      { Effect: 'Allow', Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], Resource: arn(syncQueue()) },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: arn(queueKey()) },
    ]);
    expect(new Set(statements.map((s) => s.Sid))).toEqual(
      new Set([undefined, 'TicketTable', 'Objects', 'ObjectsList', 'StoreKeys', 'TenantDataKeys', 'TenantKeyLookup', 'SyncQueue', 'SyncQueueKey', 'GraphAppSecret', 'GraphAppSecretKey']),
    );
  });

  it('lets the scheduled jobs list connected mailboxes on GSI1, update them, open their credentials, enqueue and read the secret', () => {
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

  it('lets only the worker, the scheduled jobs and the consent site read the app secret, and neither Graph role read Gmail’s', () => {
    const readersOf = (secretId: string) =>
      ofType(base, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(JSON.stringify({ Ref: secretId })))
        .flatMap(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref))
        .sort();
    // The consent site connects mailboxes (consent-site.test.ts).
    expect(readersOf(secret())).toEqual([roleOf(base, WORKER), roleOf(base, SCHEDULE), roleOf(base, 'mail2ticket-consent')].sort());
    const gmailReaders = readersOf(idOf(base, 'AWS::SecretsManager::Secret', 'GmailConnectorOAuthClient'));
    for (const service of [NOTIFY, WORKER, SCHEDULE]) expect(gmailReaders, service).not.toContain(roleOf(base, service));
  });
});

describe('the app secret', () => {
  it('is KMS-encrypted with its own key, never rotated by AWS, created with the certificate placeholder, and output', () => {
    const secretId = idOf(base, 'AWS::SecretsManager::Secret', 'GraphConnectorAppCredential');
    const secret = resourcesOf(base)[secretId] as Resource;
    expect(secret.Properties).toMatchObject({ KmsKeyId: arn(idOf(base, 'AWS::KMS::Key', 'GraphConnectorSecretKey')), SecretString: JSON.stringify(GRAPH_APP_SECRET_PLACEHOLDER) });
    expect(JSON.parse(String(secret.Properties.SecretString))).toEqual({ clientId: '', thumbprintSha256: '', privateKey: '', x5c: '', notAfter: '' });
    expect(secret.Properties).not.toHaveProperty('GenerateSecretString');
    expect(ofType(base, 'AWS::SecretsManager::RotationSchedule')).toEqual([]);
    expect(outputs(base).GraphAppSecretArn?.Value).toEqual({ Ref: secretId });
    expect(stack.graph.appSecret.node.metadata.some((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && 'AwsSolutions::AwsSolutions-SMG4' in (m.data as Json))).toBe(true);
  });

  it('is refused by the reader until the operator stores a credential, and read with its certificate expiry once stored', async () => {
    const placeholder = String((resourcesOf(base)[idOf(base, 'AWS::SecretsManager::Secret', 'GraphConnectorAppCredential')] as Resource).Properties.SecretString);
    const client = new SecretsManagerClient({ endpoint: secrets.url, region: ENV.region, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    secrets.put('graph-placeholder', placeholder);
    await expect(readGraphAppSecret(client, 'graph-placeholder')).rejects.toThrow('the Graph app secret needs "clientId"');
    secrets.put('graph-certificate', JSON.stringify(OPERATOR_CERTIFICATE));
    await expect(readGraphAppSecret(client, 'graph-certificate')).resolves.toEqual({
      clientId: OPERATOR_CERTIFICATE.clientId,
      credential: { clientCertificate: { thumbprintSha256: OPERATOR_CERTIFICATE.thumbprintSha256, privateKey: OPERATOR_CERTIFICATE.privateKey, x5c: OPERATOR_CERTIFICATE.x5c } },
      certificateNotAfter: OPERATOR_CERTIFICATE.notAfter,
    });
  });
});

/** A connected mailbox whose subscription lapses within the renewal window of `now` below. */
const renewable: MailboxRecord = {
  tenantId: 'acme',
  mailboxId: 'support',
  provider: 'graph',
  status: 'connected',
  createdAt: '2026-01-01T00:00:00.000Z',
  connection: { addressIndex: 'idx', sealedCredentials: new Uint8Array([1]), subscriptionId: 'sub-1', watchExpiresAt: '2026-01-02T00:00:00.000Z' },
};
const now = new Date('2026-01-01T12:00:00Z');
/** Only what the two tasks touch; the handler and the renewal are the real ones. */
interface ScheduleOverrides {
  list?: () => Promise<MailboxRecord[]>;
  renew?: () => Promise<Date>;
  certificateNotAfter?: string;
  metrics?: CountingMetrics;
  queued?: unknown[];
}
function scheduleDeps(overrides: ScheduleOverrides = {}): GraphScheduleDeps {
  return {
    directory: { listConnected: overrides.list ?? (async () => [renewable]) },
    keys: { decrypt: async () => Buffer.from(JSON.stringify({ address: 'support@example.org', azureTenantId: 'contoso-tenant', userId: 'support@example.org' })) },
    graph: { open: () => ({ renewSubscription: overrides.renew ?? (async () => new Date('2026-01-08T00:00:00Z')) }) },
    repo: { updateConnection: async () => true },
    queue: { enqueue: async (job: unknown) => void overrides.queued?.push(job) },
    clock: { now: () => now },
    metrics: overrides.metrics ?? new CountingMetrics(),
    settings: { subscriptionMinutes: 10_020, renewBeforeMinutes: 2880 },
    safetySyncMinutes: 15,
    ...(overrides.certificateNotAfter ? { certificateNotAfter: overrides.certificateNotAfter } : {}),
  } as unknown as GraphScheduleDeps;
}

describe('the schedules', () => {
  const schedules = (t: Json) => ofType(t, 'AWS::Scheduler::Schedule').map(([, s]) => s.Properties as { ScheduleExpression: string; FlexibleTimeWindow: Json; State: string; Target: Json });
  const graphSchedules = (t: Json) => {
    const scheduled = JSON.stringify(arn(fn(t, SCHEDULE).id));
    return schedules(t).filter((s) => JSON.stringify(s.Target.Arn) === scheduled);
  };

  it('renew subscriptions every 6 hours and enqueue safety syncs every 15 minutes, through a role that may invoke only that function', () => {
    const scheduled = fn(base, SCHEDULE);
    const roleId = idOf(base, 'AWS::IAM::Role', 'GraphConnectorSchedulerRole');
    const common = { window: { Mode: 'OFF' }, state: 'ENABLED', arn: arn(scheduled.id), role: arn(roleId) };
    expect(
      graphSchedules(base).map((s) => ({ expression: s.ScheduleExpression, input: s.Target.Input, retry: s.Target.RetryPolicy, window: s.FlexibleTimeWindow, state: s.State, arn: s.Target.Arn, role: s.Target.RoleArn })),
    ).toEqual([
      { ...common, expression: 'rate(6 hours)', input: '{"task":"renew-subscriptions"}', retry: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 5 } },
      { ...common, expression: 'rate(15 minutes)', input: '{"task":"safety-sync"}', retry: { MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 2 } },
    ]);
    const role = resourcesOf(base)[roleId]?.Properties as { AssumeRolePolicyDocument: { Statement: Statement[] } };
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/default/*']] } },
        },
      },
    ]);
    expect(statementsOfRole(base, roleId)).toEqual([{ Sid: 'InvokeScheduled', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arn(scheduled.id) }]);
  });

  it('follow graphSafetySyncMinutes, a late safety sync expiring with its interval', () => {
    const safety = graphSchedules(custom).find((s) => s.Target.Input === '{"task":"safety-sync"}');
    expect(safety?.ScheduleExpression).toBe('rate(5 minutes)');
    expect(safety?.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 2 });
  });

  it('send payloads the scheduled handler understands, and nothing else is accepted', async () => {
    const queued: unknown[] = [];
    const handler = makeScheduleHandler(scheduleDeps({ queued, certificateNotAfter: OPERATOR_CERTIFICATE.notAfter }));
    const inputs = graphSchedules(base).map((s) => JSON.parse(String(s.Target.Input)) as { task: string });
    expect(await Promise.all(inputs.map((input) => handler(input)))).toEqual([{ renewed: 1, resubscribed: 0, reauthorizationRequired: 0, failed: 0 }, { enqueued: 1 }]);
    expect(queued).toHaveLength(1);
    await expect(handler({ task: 'renew-watches' })).rejects.toThrow(/must name a task/);
  });
});

describe('the alarms', () => {
  const alarms = () => ofType(base, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const onMetric = (name: string) => alarms().filter((a) => a.MetricName === name);


  it('fire when the provider refuses our own app (invalid_client), counted by the worker and the schedule', () => {
    const misconfigured = alarms().find((a) => JSON.stringify(a.Metrics ?? []).includes('graph.client_misconfigured')) as { Metrics: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: Json } }>; Threshold: number };
    expect(misconfigured.Threshold).toBe(1);
    expect(misconfigured.Metrics.find((m) => m.Expression)?.Expression).toBe('FILL(sync, 0) + FILL(schedule, 0)');
    expect(misconfigured.Metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat?.Metric)).toEqual([
      { Namespace: METRIC_NAMESPACE, MetricName: 'graph.client_misconfigured', Dimensions: [{ Name: 'service', Value: GRAPH_METRIC_SERVICES.sync }] },
      { Namespace: METRIC_NAMESPACE, MetricName: 'graph.client_misconfigured', Dimensions: [{ Name: 'service', Value: GRAPH_METRIC_SERVICES.schedule }] },
    ]);
  });
  it('fire on a sync job in the dead-letter queue', () => {
    const deadLetters = idOf(base, 'AWS::SQS::Queue', 'GraphConnectorSyncDeadLetters');
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetters, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  });

  it('fire on mail a safety sync found that no change notification announced, counted by the sync worker within the hour', () => {
    expect(onMetric('graph.notification_stalled')).toEqual([
      {
        AlarmDescription: expect.stringMatching(/no change notification announced/),
        Namespace: METRIC_NAMESPACE,
        MetricName: 'graph.notification_stalled',
        Dimensions: [{ Name: 'service', Value: GRAPH_METRIC_SERVICES.sync }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // An hour without one is a quiet hour, not a stalled subscription.
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: expect.stringMatching(/^ObservabilityAlarmTopic/) }],
        OKActions: [{ Ref: expect.stringMatching(/^ObservabilityAlarmTopic/) }],
      },
    ]);
    // Counted by the sync use-case (tests/integration/graph-connector.test.ts drives it), after the
    // time the worker is configured with.
    expect(readFileSync(join(ROOT, 'shared/domain/graph/sync.ts'), 'utf8')).toContain("count('graph.notification_stalled')");
    expect(fn(base, WORKER).env.GRAPH_STALLED_AFTER_MINUTES).toBe('60');
  });

  it('fire when the app certificate has less than 30 days left, or when no renewal run reported it for a day', () => {
    expect(CERTIFICATE_DAYS_LEFT.metricName).toBe(CERTIFICATE_DAYS_LEFT_METRIC);
    expect(onMetric(CERTIFICATE_DAYS_LEFT_METRIC)).toEqual([
      {
        AlarmDescription: expect.stringMatching(/less than 30 days.*expiry is unknown/s),
        Namespace: METRIC_NAMESPACE,
        MetricName: 'graph.app_certificate_days_left',
        Dimensions: [{ Name: 'service', Value: GRAPH_METRIC_SERVICES.schedule }],
        Statistic: 'Minimum',
        Period: 86_400,
        EvaluationPeriods: 1,
        Threshold: 30,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        // Every alarm of the stack notifies the alarm topic (observability.test.ts).
        AlarmActions: [{ Ref: expect.stringMatching(/^ObservabilityAlarmTopic/) }],
        OKActions: [{ Ref: expect.stringMatching(/^ObservabilityAlarmTopic/) }],
      },
    ]);
  });

  it('see what the renewal run reports: whole days to notAfter, nothing without one, even when the renewal fails', async () => {
    const daysLeft = async (certificateNotAfter: string | undefined, failure?: Pick<ScheduleOverrides, 'list' | 'renew'>) => {
      const metrics = new CountingMetrics();
      await makeScheduleHandler(scheduleDeps({ metrics, ...(certificateNotAfter ? { certificateNotAfter } : {}), ...failure }))({ task: 'renew-subscriptions' }).catch(() => undefined);
      return metrics.counts.has(CERTIFICATE_DAYS_LEFT_METRIC) ? metrics.get(CERTIFICATE_DAYS_LEFT_METRIC) : undefined;
    };
    // `now` is 2026-01-01T12:00Z: 29.5 days to the 31st is 29 whole days, which the alarm (< 30) catches.
    expect(await daysLeft('2026-01-31T00:00:00Z')).toBe(29);
    expect(await daysLeft('2026-01-31T12:00:00Z')).toBe(30);
    expect(await daysLeft('2025-12-31T00:00:00Z')).toBe(-2);
    // A renewal failing for a mailbox, or the run failing as a whole, still reports the countdown.
    expect(await daysLeft('2026-03-01T12:00:00Z', { renew: async () => Promise.reject(new Error('backend error')) })).toBe(59);
    expect(await daysLeft('2026-03-01T12:00:00Z', { list: async () => Promise.reject(new Error('table unavailable')) })).toBe(59);
    // No expiry to report: no value, which the alarm treats as breaching.
    expect(await daysLeft(undefined)).toBeUndefined();
    expect(await daysLeft('not a date')).toBeUndefined();
    const threshold = onMetric(CERTIFICATE_DAYS_LEFT_METRIC)[0]?.Threshold as number;
    expect([29 < threshold, 30 < threshold]).toEqual([true, false]);
  });

  it('fire on a refused token (sync and renewal alike) and on renewals failing two runs in a row', () => {
    const reauthorization = alarms().find((a) => JSON.stringify(a.Metrics ?? []).includes('graph.reauthorization_required')) as { Metrics: Array<{ Id: string; Expression?: string; MetricStat?: { Metric: Json; Period: number; Stat: string } }>; Threshold: number };
    expect(reauthorization.Metrics.find((m) => m.Expression)?.Expression).toBe('FILL(sync, 0) + FILL(schedule, 0)');
    expect(reauthorization.Metrics.filter((m) => m.MetricStat).map((m) => [m.MetricStat?.Metric, m.MetricStat?.Stat, m.MetricStat?.Period])).toEqual([
      [{ Namespace: METRIC_NAMESPACE, MetricName: 'graph.reauthorization_required', Dimensions: [{ Name: 'service', Value: GRAPH_METRIC_SERVICES.sync }] }, 'Sum', 3600],
      [{ Namespace: METRIC_NAMESPACE, MetricName: 'graph.reauthorization_required', Dimensions: [{ Name: 'service', Value: GRAPH_METRIC_SERVICES.schedule }] }, 'Sum', 3600],
    ]);
    expect(reauthorization.Threshold).toBe(1);
    expect(onMetric('graph.subscription_renewal_failed')).toEqual([
      expect.objectContaining({
        Namespace: METRIC_NAMESPACE,
        Dimensions: [{ Name: 'service', Value: GRAPH_METRIC_SERVICES.schedule }],
        Statistic: 'Sum',
        Period: 21_600,
        Threshold: 1,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
      }),
    ]);
  });

  it('fire on errors of each Graph function', () => {
    const errors = onMetric('Errors').map((a) => a.Dimensions);
    for (const service of [NOTIFY, WORKER, SCHEDULE]) expect(errors, service).toContainEqual([{ Name: 'FunctionName', Value: { Ref: fn(base, service).id } }]);
  });

  it('watch the metric names the renewal counts', async () => {
    const counted = async (failure: Error) => {
      const metrics = new CountingMetrics();
      await makeScheduleHandler(scheduleDeps({ metrics, renew: async () => Promise.reject(failure) }))({ task: 'renew-subscriptions' });
      return [...metrics.counts.keys()];
    };
    expect(await counted(new ReauthorizationRequired('AADSTS7000215'))).toEqual(['graph.reauthorization_required']);
    expect(await counted(new Error('backend error'))).toEqual(['graph.subscription_renewal_failed']);
    // The scheduled function's Metrics are named by its entry point (the sync worker's by its default).
    expect(readFileSync(join(ROOT, 'functions/graph-schedule/handler.ts'), 'utf8')).toContain(`composeGraphSync(process.env, '${GRAPH_METRIC_SERVICES.schedule}')`);
  });

  it("publish the functions' metrics under the namespace and service dimensions the alarms use, the certificate's days among the schedule's", async () => {
    const emf = (serialized: unknown) => serialized as { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> }; service: string } & Json;
    const notify = composeGraphNotify({ ...standIns(fn(base, NOTIFY).env), AWS_REGION: ENV.region });
    notify.metrics.addMetric('probe', MetricUnit.Count, 1);
    expect(emf(notify.metrics.serializeMetrics())).toMatchObject({ service: GRAPH_METRIC_SERVICES.notify, _aws: { CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [['service']] }] } });
    notify.metrics.clearMetrics();

    // The real composition roots with the environment the stack gives them; the secret comes from the
    // fake, through the SDK's endpoint variable (the SDK reads the process environment).
    const env: Record<string, string> = { ...standIns(fn(base, SCHEDULE).env), AWS_REGION: ENV.region };
    secrets.put(String(env.GRAPH_APP_SECRET_ARN), JSON.stringify(OPERATOR_CERTIFICATE));
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secrets.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY);
    try {
      const sync = await composeGraphSync({ ...standIns(fn(base, WORKER).env), AWS_REGION: ENV.region });
      sync.metrics.addMetric('probe', MetricUnit.Count, 1);
      expect(emf(sync.metrics.serializeMetrics())).toMatchObject({ service: GRAPH_METRIC_SERVICES.sync, _aws: { CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [['service']] }] } });
      sync.metrics.clearMetrics();

      // The schedule, wired as its entry point wires it, minus the flush (which would print).
      const { deps, metrics, settings, certificateNotAfter } = await composeGraphSync(env, GRAPH_METRIC_SERVICES.schedule);
      expect(certificateNotAfter).toBe(OPERATOR_CERTIFICATE.notAfter);
      // No mailbox to renew (there is no table here): the countdown is reported all the same.
      const directory = { listConnected: async () => [] } as unknown as GraphScheduleDeps['directory'];
      const handler = makeScheduleHandler({ ...deps, directory, clock: { now: () => now }, safetySyncMinutes: settings.safetySyncMinutes, certificateNotAfter });
      await handler({ task: 'renew-subscriptions' });
      const published = emf(metrics.serializeMetrics());
      expect(published).toMatchObject({ service: GRAPH_METRIC_SERVICES.schedule, [CERTIFICATE_DAYS_LEFT_METRIC]: 29 });
      expect(published._aws.CloudWatchMetrics).toEqual([expect.objectContaining({ Namespace: METRIC_NAMESPACE, Dimensions: [['service']], Metrics: [expect.objectContaining({ Name: CERTIFICATE_DAYS_LEFT_METRIC })] })]);
      metrics.clearMetrics();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('the Graph context keys', () => {
  const read = (context: Record<string, unknown>) => readInfraConfig(new App({ context }).node);

  it('default to 7 days, 15 minutes and 8 receives, and read valid values from -c strings', () => {
    expect(read({})).toMatchObject({ graphFullSyncDays: 7, graphSafetySyncMinutes: 15, graphSyncMaxReceiveCount: 8 });
    expect(read({ graphFullSyncDays: '3', graphSafetySyncMinutes: ' 5 ', graphSyncMaxReceiveCount: 4 })).toMatchObject(CUSTOM);
    expect(read({ graphFullSyncDays: 30, graphSafetySyncMinutes: 60, graphSyncMaxReceiveCount: 100 })).toMatchObject({ graphFullSyncDays: 30, graphSafetySyncMinutes: 60, graphSyncMaxReceiveCount: 100 });
  });

  it.each([
    ['graphFullSyncDays', '0', /"graphFullSyncDays" must be an integer from 1 to 30 \(got "0"\)/],
    ['graphFullSyncDays', '31', /"graphFullSyncDays" must be an integer from 1 to 30/],
    ['graphSafetySyncMinutes', '4', /"graphSafetySyncMinutes" must be an integer from 5 to 60/],
    ['graphSafetySyncMinutes', '61', /"graphSafetySyncMinutes" must be an integer from 5 to 60/],
    ['graphSyncMaxReceiveCount', '2', /"graphSyncMaxReceiveCount" must be an integer from 3 to 100/],
    ['graphSyncMaxReceiveCount', '101', /"graphSyncMaxReceiveCount" must be an integer from 3 to 100/],
    ['graphSyncMaxReceiveCount', '1e1', /"graphSyncMaxReceiveCount" must be an integer/],
  ])('refuse %s=%s, naming the key', (key, value, message) => {
    expect(() => read({ [key]: value })).toThrow(ContextError);
    expect(() => read({ [key]: value })).toThrow(message);
  });

  it('report every bad Graph key at once, before anything is built', () => {
    expect(() => newApp({ graphFullSyncDays: 0, graphSafetySyncMinutes: 1, graphSyncMaxReceiveCount: 2 })).toThrow(/"graphFullSyncDays".*"graphSafetySyncMinutes".*"graphSyncMaxReceiveCount"/);
  });
});
