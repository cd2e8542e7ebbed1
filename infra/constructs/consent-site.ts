// The consent site: the pages a customer's admin opens from an invite link to connect (or reconnect,
// or disconnect) their Gmail or Microsoft 365 mailboxes. One function serves the /connect routes of the
// stack's HTTP API, each route named (anything else is API Gateway's 404, never an invocation); no
// authorizer, as no caller has an identity API Gateway could check: the function authenticates every
// request itself (signed invites, session cookies, CSRF tokens, one-time OAuth states). It connects
// mailboxes as the connectors' scheduled functions do and disconnects them as the retention CLI does
// (TTL stamps; the stream consumer and the sweeper delete the objects later). Its invites, sessions and
// CSRF tokens are signed with an HMAC key CloudFormation generates into a Secrets Manager secret under
// its own rotating KMS key. Optionally served under a custom domain (an API Gateway domain name and API
// mapping); the public origin is what the OAuth callbacks and the invite links are built from.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../shared/adapters/dynamodb/table-schema.js';
import { grantSecretRead } from './connector-grants.js';
import type { GmailConnector } from './gmail-connector.js';
import type { GraphConnector } from './graph-connector.js';
import { grantTenantKeys, TENANT_KEY_ALIAS_PREFIX } from './mail-ingest.js';
import type { ServiceIndexKey } from './service-index-key.js';
import type { WebhookApi } from './webhook-api.js';
import { WorkerFunction } from './worker-function.js';

export const CONSENT_ENTRY = 'functions/consent/handler.ts';
/**
 * The table indexes the site queries: GSI1 for tenants and invites by id (DynamoDbConsentStore),
 * GSI4 for the items of a mailbox a disconnect stamps (DynamoDbTicketRepository.listMailboxItems).
 */
export const CONSENT_INDEXES = ['GSI1', 'GSI4'] as const;
export const CONSENT_SERVICE_NAME = 'mail2ticket-consent';
export const GOOGLE_CALLBACK_PATH = '/connect/google/callback';
export const MICROSOFT_CALLBACK_PATH = '/connect/microsoft/callback';

/** What every route's acknowledgement of AwsSolutions-APIG4 starts with. */
const NO_AUTHORIZER =
  "A browser page for a customer's admin, who holds no token API Gateway could check (the admin is invited by link, not signed in to anything of ours), so no authorizer fits; the function authenticates the request itself:";

/**
 * Every route of the site, with how the function authenticates it (the reason cdk-nag's APIG4 is
 * acknowledged on that route). The pages' own list is CONSENT_ROUTES in shared/web/consent-views.ts;
 * tests/infra/consent-site.test.ts checks that each of its paths has a route here.
 */
export const CONSENT_SITE_ROUTES = [
  { method: apigwv2.HttpMethod.GET, path: '/connect', check: 'it shows the landing page only for an invite link whose HMAC signature (the stack-generated signing key) and expiry hold; opening it consumes nothing, as mail scanners prefetch links.' },
  { method: apigwv2.HttpMethod.POST, path: '/connect/start', check: 'it needs a signed, open invite (consumed once, by a conditional write) or a live admin session cookie, and a CSRF token bound to it; only then does it redirect to Google or Microsoft.' },
  { method: apigwv2.HttpMethod.GET, path: GOOGLE_CALLBACK_PATH, check: 'it acts only on a one-time OAuth state (stored as a SHA-256 digest, taken once by a conditional write) bound to the admin session, redeeming the code with its PKCE verifier and our exact redirect URI.' },
  { method: apigwv2.HttpMethod.GET, path: MICROSOFT_CALLBACK_PATH, check: 'it acts only on a one-time OAuth state (stored as a SHA-256 digest, taken once by a conditional write) bound to the admin session, redeeming the code with its PKCE verifier and nonce, and checks the directory and the admin role.' },
  { method: apigwv2.HttpMethod.POST, path: '/connect/microsoft/mailboxes', check: "it needs the admin session cookie, a CSRF token bound to it and the one-time step token of the consent just given, and accepts only addresses under the consenting directory's verified domains." },
  { method: apigwv2.HttpMethod.GET, path: '/connect/status', check: "it shows the tenant's mailboxes only to a live admin session cookie (256 random bits, kept only as a SHA-256 digest, at most 8 hours)." },
  { method: apigwv2.HttpMethod.POST, path: '/connect/disconnect', check: 'it needs the admin session cookie and a CSRF token bound to it, and only sends the admin to the provider for a fresh sign-in as the mailbox account.' },
  { method: apigwv2.HttpMethod.POST, path: '/connect/disconnect/confirm', check: 'it needs the admin session cookie, a CSRF token bound to it and the one-time confirmation token that fresh sign-in as the mailbox account produced.' },
  { method: apigwv2.HttpMethod.POST, path: '/connect/sign-out', check: 'it needs the admin session cookie and a CSRF token bound to it, and only deletes that session and clears its cookie.' },
  { method: apigwv2.HttpMethod.GET, path: '/connect/sign-out', check: 'it shows the same signed-out page to everyone and reads nothing of any tenant.' },
  { method: apigwv2.HttpMethod.GET, path: '/connect/assets/{file}', check: 'it serves the static stylesheet bundled with the function, the same to everyone, and nothing else.' },
] as const;

export interface ConsentDomain {
  /** e.g. `connect.example.com`. */
  readonly name: string;
  /** An ACM certificate for `name` in the stack's region (a regional API Gateway domain). */
  readonly certificateArn: string;
}

export interface ConsentSiteProps {
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  /** Named for the shared configuration loaders only: the site reads, writes and deletes no object. */
  readonly bucket: s3.IBucket;
  /** The API the /connect routes join; its throttled, access-logged $default stage serves them. */
  readonly webhooks: WebhookApi;
  /** Connecting a mailbox indexes its provider address under this key. */
  readonly serviceIndexKey: ServiceIndexKey;
  /** The Google OAuth client secret and its key (read only). */
  readonly gmail: Pick<GmailConnector, 'oauthClientSecret' | 'secretKey'>;
  /** `projects/<project>/topics/<topic>`, the Gmail connector's (may be a deploy-time parameter). */
  readonly gmailTopic: string;
  /** The Entra app credential and its key (read only), and the two URLs every subscription names. */
  readonly graph: Pick<GraphConnector, 'appSecret' | 'secretKey' | 'notificationUrl' | 'lifecycleUrl'>;
  /** Days from a disconnect to the mailbox's purge deadline (≤ 30). */
  readonly retentionDays: number;
  /** Serve the site under this domain. Default: the API's own endpoint. */
  readonly domain?: ConsentDomain;
  /** Default 15 seconds, at most 25 (API Gateway gives up after 30; a connect calls the provider two or three times). */
  readonly timeout?: Duration;
  /** Default 512 MB. */
  readonly memorySize?: number;
}

export class ConsentSite extends Construct {
  public readonly site: WorkerFunction;
  /** The HMAC key of invite links, sessions and CSRF tokens: 64 characters CloudFormation generated. */
  public readonly signingSecret: secretsmanager.Secret;
  public readonly secretKey: kms.Key;
  /** One per entry of CONSENT_SITE_ROUTES, in that order. */
  public readonly routes: readonly apigwv2.HttpRoute[];
  /** The public origin, without a trailing slash: `https://<domain>` or the API's endpoint. */
  public readonly baseUrl: string;
  /** What the Google OAuth client must list as an authorized redirect URI. */
  public readonly googleCallbackUrl: string;
  /** What the Entra app registration must list as a Web redirect URI. */
  public readonly microsoftCallbackUrl: string;
  /** With `domain` only. */
  public readonly domainName?: apigwv2.DomainName;
  public readonly apiMapping?: apigwv2.ApiMapping;
  public readonly alarms: { readonly errors: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: ConsentSiteProps) {
    super(scope, id);
    const { table, webhooks } = props;
    const missing = CONSENT_INDEXES.filter((name) => !TABLE_SCHEMA.GlobalSecondaryIndexes.some((index) => index.IndexName === name));
    if (missing.length > 0) throw new Error(`TABLE_SCHEMA has no ${missing.join(', ')}`);
    const timeout = props.timeout ?? Duration.seconds(15);
    if (timeout.toSeconds() > 25) throw new Error('the consent function must finish well within the 30 s API Gateway waits for it (timeout ≤ 25 s)');

    // ── where the site is served ─────────────────────────────────────────────
    if (props.domain) {
      // The whole API is mapped (no mapping key: the routes keep their /connect paths); the webhook
      // URLs the providers were given stay on the API's own endpoint.
      this.domainName = new apigwv2.DomainName(this, 'Domain', {
        domainName: props.domain.name,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
        endpointType: apigwv2.EndpointType.REGIONAL,
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
      this.apiMapping = new apigwv2.ApiMapping(this, 'ApiMapping', { api: webhooks.api, domainName: this.domainName, stage: webhooks.stage });
      this.baseUrl = `https://${props.domain.name}`;
    } else {
      // `https://<api id>.execute-api.<region>.amazonaws.com`: the $default stage has no path segment.
      this.baseUrl = webhooks.api.apiEndpoint;
    }
    this.googleCallbackUrl = `${this.baseUrl}${GOOGLE_CALLBACK_PATH}`;
    this.microsoftCallbackUrl = `${this.baseUrl}${MICROSOFT_CALLBACK_PATH}`;

    // ── the signing key ──────────────────────────────────────────────────────
    this.secretKey = new kms.Key(this, 'SecretKey', { description: 'mail2ticket consent site signing secret', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    // Generated once, at the secret's creation; later deploys leave it alone. It is not rotated by
    // Secrets Manager (acknowledged below): rotating it only invalidates every open invite link, admin
    // session and CSRF token. To rotate it by hand (e.g. after a suspected leak):
    //   aws secretsmanager put-secret-value --secret-id <ConsentSigningSecretArn> --secret-string \
    //     "$(aws secretsmanager get-random-password --password-length 64 --exclude-punctuation --query RandomPassword --output text)"
    // then make the function start afresh (it reads the key at cold start), e.g.
    //   aws lambda update-function-configuration --function-name <consent function> --description "signing key rotated <date>"
    // and send the admins who had an open invite a new one.
    this.signingSecret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'HMAC key of the consent site: invite links, admin sessions, CSRF tokens (generated; see infra/constructs/consent-site.ts to rotate by hand)',
      encryptionKey: this.secretKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.signingSecret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'An HMAC key for invite links, sessions and CSRF tokens that live at most 30 days, not a credential to another system: rotating it only invalidates every open invite and session. It is rotated by hand when there is a reason (put-secret-value with a new random value, then a cold start; see the comment in infra/constructs/consent-site.ts).',
    });

    // ── the function ─────────────────────────────────────────────────────────
    this.site = new WorkerFunction(this, 'Site', {
      entry: CONSENT_ENTRY,
      serviceName: CONSENT_SERVICE_NAME,
      memorySize: props.memorySize ?? 512,
      timeout,
      environment: {
        TABLE_NAME: table.tableName,
        BUCKET_NAME: props.bucket.bucketName,
        TENANT_KEY_ALIAS_PREFIX,
        CONSENT_BASE_URL: this.baseUrl,
        CONSENT_SIGNING_SECRET_ARN: this.signingSecret.secretArn,
        RETENTION_DAYS: String(props.retentionDays),
        // What connecting a mailbox reads, as the connectors' scheduled functions have it (the other
        // settings of loadGmailSettings / loadGraphSettings concern syncs and renewals, which the site
        // never runs; there is no sync queue here either).
        GOOGLE_OAUTH_SECRET_ARN: props.gmail.oauthClientSecret.secretArn,
        GMAIL_TOPIC: props.gmailTopic,
        GRAPH_APP_SECRET_ARN: props.graph.appSecret.secretArn,
        GRAPH_NOTIFICATION_URL: props.graph.notificationUrl,
        GRAPH_LIFECYCLE_URL: props.graph.lifecycleUrl,
      },
    });
    const role = this.site.role;
    // Tenants, invites, sessions and OAuth states, the mailbox and its directory entries (connect,
    // reconnect), and a disconnect's TTL stamps (UpdateItem, item by item): no batch, no scan.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TableItems',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
        resources: [table.tableArn],
      }),
    );
    // The two indexes it reads, each named: tenants and invites by id (GSI1), a mailbox's items (GSI4).
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TableIndexes', actions: ['dynamodb:Query'], resources: CONSENT_INDEXES.map((index) => `${table.tableArn}/index/${index}`) }));
    role.addToPolicy(new iam.PolicyStatement({ sid: 'TableKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [props.tableKey.keyArn] }));
    // Sealing a new mailbox's credentials (GenerateDataKey) and opening them to release a mailbox
    // (Decrypt), under exactly our encryption context; no tenant index key, no key administration.
    grantTenantKeys(role, { lookupActions: ['kms:DescribeKey'] });
    props.serviceIndexKey.grantIndex(role);
    grantSecretRead(role, this.signingSecret, this.secretKey, 'SigningSecret');
    grantSecretRead(role, props.gmail.oauthClientSecret, props.gmail.secretKey, 'OAuthClientSecret');
    grantSecretRead(role, props.graph.appSecret, props.graph.secretKey, 'GraphAppSecret');
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      reason:
        "The consent site seals a newly connected mailbox's credentials and opens them to release a mailbox at the provider, with its tenant's key, created at run time: only kms:GenerateDataKey and kms:Decrypt under exactly our encryption context keys, and kms:DescribeKey, all only through alias/mail2ticket/tenant/*.",
    });

    // ── the routes ───────────────────────────────────────────────────────────
    // The integration waits longer than the function runs, so the function's own answer (or Lambda's
    // timeout) is what the admin gets, never API Gateway giving up on a connect that went through.
    const integration = new HttpLambdaIntegration('Consent', this.site.fn, { timeout: Duration.seconds(timeout.toSeconds() + 5) });
    this.routes = CONSENT_SITE_ROUTES.map(({ method, path, check }) => {
      const [route] = webhooks.api.addRoutes({ path, methods: [method], integration });
      if (!route) throw new Error(`addRoutes returned no route for ${method} ${path}`);
      Validations.of(route).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: `${NO_AUTHORIZER} ${check}` });
      return route;
    });

    this.alarms = {
      errors: new cloudwatch.Alarm(this, 'ErrorsAlarm', {
        alarmDescription: 'The consent site function failed (cold start, e.g. a secret, or a timeout): admins see an error instead of their page',
        metric: this.site.fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
  }
}
