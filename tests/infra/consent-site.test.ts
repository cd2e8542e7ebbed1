// The consent site's infrastructure, asserted by value on the synthesized template: its routes on the
// webhook API (each to the one consent function, none with an authorizer, each acknowledgement saying
// how the function authenticates that route instead), the function's exact grants, the generated
// signing secret under its own rotating key, the outputs an operator pastes into Google's and
// Microsoft's consoles, and the custom domain; once on the API's own endpoint, once on a domain from
// context. Where the template names something the code must agree with (the pages' paths, the
// redirect URIs, the settings), the real code is run against it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextError, readInfraConfig } from '../../infra/config.js';
import { CONSENT_INDEXES, CONSENT_SERVICE_NAME, CONSENT_SITE_ROUTES } from '../../infra/constructs/consent-site.js';
import { TENANT_LIFECYCLE_SERVICE_NAME } from '../../infra/constructs/tenant-lifecycle.js';
import type { Mail2TicketStack } from '../../infra/stack.js';
import { loadGmailSettings, loadGraphSettings, loadLambdaConfig } from '../../shared/config.js';
import { googleRedirectUri, microsoftRedirectUri } from '../../shared/domain/consent/deps.js';
import { CONSENT_ROUTES } from '../../shared/web/consent-views.js';
import { ENV, newApp, removeTempDirs, ROOT, SKIP_BUNDLING } from './synth.js';
import { arn, fn, idOf, ofType, resourcesOf, roleOf, statementsOf, type Json, type Resource } from './template.js';


const DOMAIN = 'connect.example.com';
const CERTIFICATE = `arn:aws:acm:${ENV.region}:${ENV.account}:certificate/0f6a3c2e-5b7d-4e1f-9a8b-1c2d3e4f5a6b`;
const ON_DOMAIN = { consentDomainName: DOMAIN, consentCertificateArn: CERTIFICATE } as const;

let stack: Mail2TicketStack;
let base: Json;
let onDomain: Json;

beforeAll(() => {
  // Template only: bundles.test.ts starts the real bundles. The domain synth also proves cdk-nag stays
  // clean with a custom domain (a finding fails the synth).
  stack = newApp(SKIP_BUNDLING).stack;
  base = Template.fromStack(stack).toJSON() as Json;
  onDomain = Template.fromStack(newApp({ ...SKIP_BUNDLING, ...ON_DOMAIN }).stack).toJSON() as Json;
});

afterAll(removeTempDirs);

// ── template helpers ────────────────────────────────────────────────────────
/** Fn::Join of literals and references, each reference written as <Ref> or <Id.Attribute>. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(flatten).join(join[0]);
  const ref = (value as { Ref?: string }).Ref;
  if (ref) return `<${ref}>`;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt) return `<${getAtt.join('.')}>`;
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}
/** A function's environment with each deploy-time reference written out. */
const standIns = (env: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(env).map(([name, value]) => [name, flatten(value)]));
const outputs = (t: Json) => t.Outputs as Record<string, { Value: unknown; Description?: string }>;
/** The acknowledgements recorded on one construct (id → reason). */
const acknowledgedOn = (construct: IConstruct): Record<string, string> =>
  Object.assign({}, ...construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data as Record<string, string>));

const consent = (t: Json) => fn(t, CONSENT_SERVICE_NAME);
const consentRoutes = (t: Json) => ofType(t, 'AWS::ApiGatewayV2::Route').filter(([, r]) => / \/connect(\/|$)/.test(String(r.Properties.RouteKey)));
const apiEndpoint = (t: Json) => `<${idOf(t, 'AWS::ApiGatewayV2::Api', '')}.ApiEndpoint>`;

describe('the consent routes', () => {
  it('are exactly the site’s routes on the one webhook API, all to the consent function through one integration, without an authorizer', () => {
    const apiId = idOf(base, 'AWS::ApiGatewayV2::Api', '');
    const integrationId = idOf(base, 'AWS::ApiGatewayV2::Integration', 'WebhooksApiGETconnectConsent');
    const target = { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] };
    expect(consentRoutes(base).map(([, r]) => r.Properties)).toEqual(
      [
        'GET /connect',
        'POST /connect/start',
        'GET /connect/google/callback',
        'GET /connect/microsoft/callback',
        'POST /connect/microsoft/mailboxes',
        'GET /connect/status',
        'POST /connect/disconnect',
        'POST /connect/disconnect/confirm',
        'POST /connect/sign-out',
        'GET /connect/sign-out',
        'GET /connect/assets/{file}',
      ].map((RouteKey) => ({ ApiId: { Ref: apiId }, RouteKey, AuthorizationType: 'NONE', Target: target })),
    );
    // The integration waits 5 s longer than the function may run.
    const site = consent(base);
    expect(site.props.Timeout).toBe(15);
    expect(resourcesOf(base)[integrationId]?.Properties).toEqual({ ApiId: { Ref: apiId }, IntegrationType: 'AWS_PROXY', IntegrationUri: arn(site.id), PayloadFormatVersion: '2.0', TimeoutInMillis: 20_000 });
    // API Gateway may invoke the consent function for these routes only (the ARN names a route's path as declared).
    const permissions = ofType(base, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify(arn(site.id)));
    expect(permissions.map(([, p]) => [p.Properties.Principal, flatten(p.Properties.SourceArn)])).toEqual(
      CONSENT_SITE_ROUTES.map(({ path }) => ['apigateway.amazonaws.com', `arn:aws:execute-api:${ENV.region}:${ENV.account}:<${apiId}>/*/*${path}`]),
    );
    // No other route reaches it, and the webhook routes keep their own functions.
    const reachingSite = ofType(base, 'AWS::ApiGatewayV2::Integration').filter(([, i]) => JSON.stringify(i.Properties.IntegrationUri) === JSON.stringify(arn(site.id)));
    expect(reachingSite.map(([id]) => id)).toEqual([integrationId]);
    expect(ofType(base, 'AWS::ApiGatewayV2::Authorizer').map(([, a]) => a.Properties.Name)).toEqual(['GooglePushToken']);
  });

  it('serve every page the site links to, its callbacks among them', () => {
    const served = CONSENT_SITE_ROUTES.map(({ path }) => new RegExp(`^${path.replace('{file}', '[^/]+')}$`));
    for (const [page, path] of Object.entries(CONSENT_ROUTES)) expect(served.some((route) => route.test(path)), `${page} ${path}`).toBe(true);
    // The redirect URIs the code builds use the paths the routes serve.
    const routeOf = (uri: string) => `GET ${uri.slice('https://x'.length)}`;
    const keys = consentRoutes(base).map(([, r]) => r.Properties.RouteKey);
    expect(keys).toContain(routeOf(googleRedirectUri({ baseUrl: 'https://x' })));
    expect(keys).toContain(routeOf(microsoftRedirectUri({ baseUrl: 'https://x' })));
  });

  it('acknowledge AwsSolutions-APIG4 on each consent route, each saying how the function authenticates that route', () => {
    expect(stack.consent.routes).toHaveLength(CONSENT_SITE_ROUTES.length);
    const reasons = stack.consent.routes.map((route) => {
      const acks = acknowledgedOn(route);
      expect(Object.keys(acks), route.node.path).toEqual(['AwsSolutions::AwsSolutions-APIG4']);
      return acks['AwsSolutions::AwsSolutions-APIG4'] as string;
    });
    for (const reason of reasons) expect(reason).toMatch(/no authorizer fits; the function authenticates the request itself: .{40,}/);
    expect(new Set(reasons).size).toBe(reasons.length);
    expect(reasons[0]).toMatch(/invite link whose HMAC signature/);
    expect(reasons[2]).toMatch(/one-time OAuth state.*PKCE verifier/);
    expect(reasons[5]).toMatch(/admin session cookie/);
  });

  it('share the webhook API’s throttled, access-logged $default stage', () => {
    expect(ofType(base, 'AWS::ApiGatewayV2::Stage')).toHaveLength(1);
    expect(resourcesOf(base)[idOf(base, 'AWS::ApiGatewayV2::Stage', '')]?.Properties).toMatchObject({
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: arn(idOf(base, 'AWS::Logs::LogGroup', 'WebhooksAccessLogs')) },
    });
  });
});

describe('the consent function', () => {
  it('runs Node 22 on arm64 with 512 MB and 15 s, logging to its own log group kept 30 days', () => {
    const site = consent(base);
    expect(site.props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 512, Timeout: 15, Handler: 'index.handler' });
    const logGroup = (site.props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(resourcesOf(base)[logGroup]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
    expect(site.props).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('gets the names and URLs it reads, the connectors’ secrets and the base URL, from the stack', () => {
    const site = consent(base);
    const gmailSchedule = fn(base, 'mail2ticket-gmail-schedule').env;
    const graphSchedule = fn(base, 'mail2ticket-graph-schedule').env;
    expect(site.env).toEqual({
      TABLE_NAME: { Ref: idOf(base, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable') },
      BUCKET_NAME: { Ref: idOf(base, 'AWS::S3::Bucket', 'AttachmentStoreBucket') },
      TENANT_KEY_ALIAS_PREFIX: 'alias/mail2ticket/tenant/',
      CONSENT_BASE_URL: { 'Fn::GetAtt': [idOf(base, 'AWS::ApiGatewayV2::Api', ''), 'ApiEndpoint'] },
      CONSENT_SIGNING_SECRET_ARN: { Ref: idOf(base, 'AWS::SecretsManager::Secret', 'ConsentSiteSigningSecret') },
      RETENTION_DAYS: '30',
      GOOGLE_OAUTH_SECRET_ARN: gmailSchedule.GOOGLE_OAUTH_SECRET_ARN,
      GMAIL_TOPIC: { Ref: 'GmailTopic' },
      GRAPH_APP_SECRET_ARN: graphSchedule.GRAPH_APP_SECRET_ARN,
      GRAPH_NOTIFICATION_URL: graphSchedule.GRAPH_NOTIFICATION_URL,
      GRAPH_LIFECYCLE_URL: graphSchedule.GRAPH_LIFECYCLE_URL,
      POWERTOOLS_SERVICE_NAME: CONSENT_SERVICE_NAME,
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(fn(base, 'mail2ticket-gmail-schedule').env.GMAIL_TOPIC).toEqual({ Ref: 'GmailTopic' });
    expect(consent(Template.fromStack(newApp({ ...SKIP_BUNDLING, retentionDays: 7, gmailTopic: 'projects/my-project/topics/gmail' }).stack).toJSON() as Json).env).toMatchObject({
      RETENTION_DAYS: '7',
      GMAIL_TOPIC: 'projects/my-project/topics/gmail',
    });
  });

  it('connects mailboxes with the settings the scheduled functions renew them with, as the real loaders read them', () => {
    const env = standIns(consent(base).env);
    const gmail = loadGmailSettings(env);
    const graph = loadGraphSettings(env);
    const gmailSchedule = loadGmailSettings(standIns(fn(base, 'mail2ticket-gmail-schedule').env));
    const graphSchedule = loadGraphSettings(standIns(fn(base, 'mail2ticket-graph-schedule').env));
    // A watch's topic; a subscription's two URLs and its lifetime (renewal starts two days before it ends).
    expect(gmail.topicName).toBe(gmailSchedule.topicName);
    expect([graph.notificationUrl, graph.lifecycleNotificationUrl, graph.subscriptionMinutes, graph.renewBeforeMinutes]).toEqual([
      graphSchedule.notificationUrl,
      graphSchedule.lifecycleNotificationUrl,
      graphSchedule.subscriptionMinutes,
      graphSchedule.renewBeforeMinutes,
    ]);
    expect(loadLambdaConfig({ ...env, AWS_REGION: ENV.region })).toMatchObject({ tableName: env.TABLE_NAME, tenantKeyAliasPrefix: 'alias/mail2ticket/tenant/' });
  });

  it('is given every variable its composition root requires', () => {
    const compose = readFileSync(join(ROOT, 'functions/consent/compose.ts'), 'utf8');
    const required = [...compose.matchAll(/requireEnv\(env, '([A-Z_]+)'\)/g)].map((match) => match[1] as string);
    expect(required).toEqual(expect.arrayContaining(['CONSENT_BASE_URL', 'CONSENT_SIGNING_SECRET_ARN', 'GOOGLE_OAUTH_SECRET_ARN', 'GRAPH_APP_SECRET_ARN']));
    // Lambda sets AWS_REGION itself.
    for (const name of required.filter((n) => n !== 'AWS_REGION')) expect(consent(base).env, name).toHaveProperty(name);
  });

  it('alarms on its errors', () => {
    const alarms = ofType(base, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties).filter((a) => a.MetricName === 'Errors' && JSON.stringify(a.Dimensions).includes(consent(base).id));
    expect(alarms).toEqual([
      expect.objectContaining({ Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: consent(base).id } }], Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }),
    ]);
  });
});

describe('least privilege', () => {
  const table = () => idOf(base, 'AWS::DynamoDB::GlobalTable', 'TicketStoreTable');
  const tableKey = () => idOf(base, 'AWS::KMS::Key', 'TicketStoreKey');
  const tenantKeys = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':key/*']] };
  const viaTenantAlias = { 'ForAnyValue:StringLike': { 'kms:ResourceAliases': 'alias/mail2ticket/tenant/*' } };
  const secretRead = (sid: string, secretId: string, keyId: string) => [
    { Sid: sid, Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } },
    {
      Sid: `${sid}Key`,
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: arn(keyId),
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }, 'kms:EncryptionContext:SecretARN': { Ref: secretId } } },
    },
  ];

  it('lets the consent function use the table, seal and open credentials, index addresses and read its three secrets: call by call', () => {
    const logGroup = (consent(base).props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(statementsOf(base, CONSENT_SERVICE_NAME)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn(logGroup) },
      { Sid: 'TableItems', Effect: 'Allow', Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], Resource: arn(table()) },
      { Sid: 'TableIndexes', Effect: 'Allow', Action: 'dynamodb:Query', Resource: CONSENT_INDEXES.map((index) => ({ 'Fn::Join': ['', [arn(table()), `/index/${index}`]] })) },
      { Sid: 'TableKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: arn(tableKey()) },
      {
        Sid: 'TenantDataKeys',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: tenantKeys,
        Condition: {
          ...viaTenantAlias,
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'mailbox', 'purpose'] },
          Null: { 'kms:EncryptionContext:tenant': 'false', 'kms:EncryptionContext:mailbox': 'false', 'kms:EncryptionContext:purpose': 'false' },
        },
      },
      { Sid: 'TenantKeyLookup', Effect: 'Allow', Action: 'kms:DescribeKey', Resource: tenantKeys, Condition: viaTenantAlias },
      { Sid: 'ServiceIndexKey', Effect: 'Allow', Action: 'kms:GenerateMac', Resource: arn(idOf(base, 'AWS::KMS::Key', 'ServiceIndexKey')) },
      ...secretRead('SigningSecret', idOf(base, 'AWS::SecretsManager::Secret', 'ConsentSiteSigningSecret'), idOf(base, 'AWS::KMS::Key', 'ConsentSiteSecretKey')),
      ...secretRead('OAuthClientSecret', idOf(base, 'AWS::SecretsManager::Secret', 'GmailConnectorOAuthClient'), idOf(base, 'AWS::KMS::Key', 'GmailConnectorSecretKey')),
      ...secretRead('GraphAppSecret', idOf(base, 'AWS::SecretsManager::Secret', 'GraphConnectorAppCredential'), idOf(base, 'AWS::KMS::Key', 'GraphConnectorSecretKey')),
    ]);
  });

  it('gives it no object, no queue, no batch or scan, no key administration', () => {
    const text = JSON.stringify(statementsOf(base, CONSENT_SERVICE_NAME));
    expect(text).not.toMatch(/"s3:|AttachmentStore|"sqs:|SyncJobs|dynamodb:(BatchWriteItem|Scan|DeleteTable|UpdateTable|UpdateTimeToLive)|kms:(ScheduleKeyDeletion|CreateKey|CreateAlias|PutKeyPolicy|DisableKey)|secretsmanager:(PutSecretValue|DeleteSecret|UpdateSecret)/);
    expect(text).not.toContain('s3:DeleteObject');
    expect(text).not.toContain('kms:ScheduleKeyDeletion');
  });

  it('acknowledges the tenant-key wildcard on its policy alone, with the reason', () => {
    const acks = acknowledgedOn(stack.consent.site.role.node.findChild('DefaultPolicy'));
    expect(Object.keys(acks)).toEqual(['AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]']);
    expect(Object.values(acks)[0]).toMatch(/GenerateDataKey and kms:Decrypt under exactly our encryption context keys.*alias\/mail2ticket\/tenant\/\*/);
  });
});

describe('the signing secret', () => {
  it('is 64 characters CloudFormation generates, without punctuation, under its own rotating customer-managed key', () => {
    const secretId = idOf(base, 'AWS::SecretsManager::Secret', 'ConsentSiteSigningSecret');
    const secret = resourcesOf(base)[secretId] as Resource;
    const keyId = idOf(base, 'AWS::KMS::Key', 'ConsentSiteSecretKey');
    expect(secret.Properties).toMatchObject({ GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false }, KmsKeyId: arn(keyId) });
    expect(secret.Properties).not.toHaveProperty('SecretString');
    expect(resourcesOf(base)[keyId]?.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(resourcesOf(base)[keyId]?.Properties).not.toHaveProperty('KeySpec');
    expect(consent(base).env.CONSENT_SIGNING_SECRET_ARN).toEqual({ Ref: secretId });
    expect(outputs(base).ConsentSigningSecretArn?.Value).toEqual({ Ref: secretId });
  });

  it('is not rotated by Secrets Manager, which its acknowledgement explains, with rotation by hand documented beside it', () => {
    const secretId = idOf(base, 'AWS::SecretsManager::Secret', 'ConsentSiteSigningSecret');
    const schedules = ofType(base, 'AWS::SecretsManager::RotationSchedule').filter(([, r]) => JSON.stringify(r.Properties).includes(secretId));
    expect(schedules).toEqual([]);
    const acks = acknowledgedOn(stack.consent.signingSecret);
    expect(Object.keys(acks)).toEqual(['AwsSolutions::AwsSolutions-SMG4']);
    expect(acks['AwsSolutions::AwsSolutions-SMG4']).toMatch(/only invalidates every open invite and session.*by hand/s);
    expect(readFileSync(join(ROOT, 'infra/constructs/consent-site.ts'), 'utf8')).toMatch(/aws secretsmanager put-secret-value --secret-id <ConsentSigningSecretArn>/);
  });

  it('is readable by the consent function and the operator\'s tenant-lifecycle function alone (invites are signed with it)', () => {
    const secretId = idOf(base, 'AWS::SecretsManager::Secret', 'ConsentSiteSigningSecret');
    const readers = ofType(base, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(JSON.stringify({ Ref: secretId })))
      .flatMap(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref));
    expect(readers.sort()).toEqual([roleOf(base, CONSENT_SERVICE_NAME), roleOf(base, TENANT_LIFECYCLE_SERVICE_NAME)].sort());
  });
});

describe('the outputs', () => {
  it('on the API’s own endpoint: the base URL the function builds on, and the two callbacks the code redirects to', () => {
    const out = outputs(base);
    const endpoint = apiEndpoint(base);
    expect(flatten(out.ConsentBaseUrl?.Value)).toBe(endpoint);
    expect(flatten(out.GoogleOAuthCallbackUrl?.Value)).toBe(`${endpoint}/connect/google/callback`);
    expect(flatten(out.MicrosoftOAuthCallbackUrl?.Value)).toBe(`${endpoint}/connect/microsoft/callback`);
    // The function's base URL is the output, and the code's redirect URIs on it are the outputs.
    const baseUrl = flatten(consent(base).env.CONSENT_BASE_URL);
    expect(baseUrl).toBe(flatten(out.ConsentBaseUrl?.Value));
    expect(googleRedirectUri({ baseUrl })).toBe(flatten(out.GoogleOAuthCallbackUrl?.Value));
    expect(microsoftRedirectUri({ baseUrl })).toBe(flatten(out.MicrosoftOAuthCallbackUrl?.Value));
    expect(out.GoogleOAuthCallbackUrl?.Description).toMatch(/Authorized redirect URIs/);
    expect(out.MicrosoftOAuthCallbackUrl?.Description).toMatch(/redirect URIs/);
    // The API's endpoint is `https://<id>.execute-api.<region>.amazonaws.com`, the webhooks' URLs its children.
    expect(flatten(outputs(base).GraphNotificationUrl?.Value)).toBe(`https://<${idOf(base, 'AWS::ApiGatewayV2::Api', '')}>.execute-api.${ENV.region}.<AWS::URLSuffix>/webhooks/graph`);
    expect(out).not.toHaveProperty('ConsentDomainTarget');
    expect(ofType(base, 'AWS::ApiGatewayV2::DomainName')).toEqual([]);
    expect(ofType(base, 'AWS::ApiGatewayV2::ApiMapping')).toEqual([]);
  });
});

describe('the custom domain (consentDomainName, consentCertificateArn)', () => {
  it('is a regional API Gateway domain with the certificate and TLS 1.2, mapping the whole API’s $default stage', () => {
    const domainId = idOf(onDomain, 'AWS::ApiGatewayV2::DomainName', 'ConsentSiteDomain');
    expect(resourcesOf(onDomain)[domainId]?.Properties).toEqual({
      DomainName: DOMAIN,
      DomainNameConfigurations: [{ CertificateArn: CERTIFICATE, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
    });
    const mappings = ofType(onDomain, 'AWS::ApiGatewayV2::ApiMapping');
    // No mapping key: the routes keep their /connect paths under the domain.
    expect(mappings.map(([, m]) => m.Properties)).toEqual([{ ApiId: { Ref: idOf(onDomain, 'AWS::ApiGatewayV2::Api', '') }, DomainName: { Ref: domainId }, Stage: '$default' }]);
    // Named by its name, the stage must exist first.
    const mapping = (onDomain.Resources as Record<string, { DependsOn?: string[] }>)[mappings[0]?.[0] as string];
    expect(mapping?.DependsOn).toContain(idOf(onDomain, 'AWS::ApiGatewayV2::Stage', ''));
  });

  it('carries the base URL, the callbacks and the function’s base URL; the webhooks stay on the API’s endpoint', () => {
    const out = outputs(onDomain);
    expect(out.ConsentBaseUrl?.Value).toBe(`https://${DOMAIN}`);
    expect(out.GoogleOAuthCallbackUrl?.Value).toBe(`https://${DOMAIN}/connect/google/callback`);
    expect(out.MicrosoftOAuthCallbackUrl?.Value).toBe(`https://${DOMAIN}/connect/microsoft/callback`);
    const baseUrl = consent(onDomain).env.CONSENT_BASE_URL as string;
    expect(baseUrl).toBe(`https://${DOMAIN}`);
    expect(googleRedirectUri({ baseUrl })).toBe(out.GoogleOAuthCallbackUrl?.Value);
    expect(microsoftRedirectUri({ baseUrl })).toBe(out.MicrosoftOAuthCallbackUrl?.Value);
    const domainId = idOf(onDomain, 'AWS::ApiGatewayV2::DomainName', 'ConsentSiteDomain');
    expect(out.ConsentDomainTarget?.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
    expect(out.ConsentDomainHostedZoneId?.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] });
    expect(flatten(out.GmailPushEndpoint?.Value)).toMatch(/^https:\/\/<WebhooksApi\w+>\.execute-api\..+\/webhooks\/gmail$/);
    expect(flatten(out.GraphNotificationUrl?.Value)).toMatch(/^https:\/\/<WebhooksApi\w+>\.execute-api\..+\/webhooks\/graph$/);
  });
});

describe('the consent context keys', () => {
  const read = (context: Record<string, unknown>) => readInfraConfig(new App({ context }).node);

  it('are unset by default, and read a domain with its certificate', () => {
    expect(read({})).toMatchObject({ consentDomainName: undefined, consentCertificateArn: undefined });
    expect(read(ON_DOMAIN)).toMatchObject(ON_DOMAIN);
  });

  it.each([
    ['consentDomainName', 'https://connect.example.com', /"consentDomainName" must be a lower-case domain name/],
    ['consentDomainName', 'Connect.Example.com', /"consentDomainName" must be a lower-case domain name/],
    ['consentDomainName', 'connect', /"consentDomainName" must be a lower-case domain name/],
    ['consentDomainName', 'connect.example.com/consent', /"consentDomainName" must be a lower-case domain name/],
    ['consentCertificateArn', 'arn:aws:iam::123456789012:server-certificate/x', /"consentCertificateArn" must be an ACM certificate ARN/],
    ['consentCertificateArn', `${CERTIFICATE} `, /"consentCertificateArn" must be an ACM certificate ARN/],
  ])('refuse %s=%s, naming the key', (key, value, message) => {
    const context = { ...ON_DOMAIN, [key]: value };
    expect(() => read(context)).toThrow(ContextError);
    expect(() => read(context)).toThrow(message);
  });

  it('go together: one without the other fails the synth, naming both', () => {
    for (const context of [{ consentDomainName: DOMAIN }, { consentCertificateArn: CERTIFICATE }]) {
      expect(() => newApp({ ...SKIP_BUNDLING, ...context })).toThrow(ContextError);
      expect(() => newApp({ ...SKIP_BUNDLING, ...context })).toThrow(/"consentDomainName" and "consentCertificateArn" go together/);
    }
  });

  it('refuse a certificate of another region than the stack’s', () => {
    const elsewhere = CERTIFICATE.replace(`:acm:${ENV.region}:`, ':acm:us-east-1:');
    expect(() => newApp({ ...SKIP_BUNDLING, ...ON_DOMAIN, consentCertificateArn: elsewhere })).toThrow(ContextError);
    expect(() => newApp({ ...SKIP_BUNDLING, ...ON_DOMAIN, consentCertificateArn: elsewhere })).toThrow(`"consentCertificateArn" must be a certificate in the stack's region ${ENV.region}`);
  });
});
