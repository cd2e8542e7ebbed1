// The whole pipeline in one stack, one construct per capability.
import { CfnOutput, CfnParameter, Stack, Token, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  ACM_CERTIFICATE_ARN,
  ContextError,
  GOOGLE_SERVICE_ACCOUNT,
  GOOGLE_SERVICE_ACCOUNT_EXPECTED,
  PUBSUB_TOPIC,
  PUBSUB_TOPIC_EXPECTED,
  type InfraConfig,
} from './config.js';
import { AttachmentStore } from './constructs/attachment-store.js';
import { ConsentSite, type ConsentDomain } from './constructs/consent-site.js';
import { GmailConnector } from './constructs/gmail-connector.js';
import { GraphConnector } from './constructs/graph-connector.js';
import { MailIngest } from './constructs/mail-ingest.js';
import { Observability } from './constructs/observability.js';
import { ServiceIndexKey } from './constructs/service-index-key.js';
import { TicketStore } from './constructs/ticket-store.js';
import { Retention } from './constructs/retention.js';
import { Scanner } from './constructs/scanner.js';
import { TenantLifecycle } from './constructs/tenant-lifecycle.js';
import { WebhookApi } from './constructs/webhook-api.js';
import { acknowledgeFindings } from './nag.js';

export interface Mail2TicketStackProps extends StackProps {
  readonly config: InfraConfig;
}

export class Mail2TicketStack extends Stack {
  public readonly tickets: TicketStore;
  public readonly objects: AttachmentStore;
  public readonly ingest: MailIngest;
  public readonly retention: Retention;
  public readonly scanner: Scanner;
  public readonly webhooks: WebhookApi;
  public readonly serviceIndex: ServiceIndexKey;
  public readonly gmail: GmailConnector;
  public readonly graph: GraphConnector;
  public readonly consent: ConsentSite;
  public readonly tenantLifecycle: TenantLifecycle;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: Mail2TicketStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.tickets = new TicketStore(this, 'TicketStore');
    this.objects = new AttachmentStore(this, 'AttachmentStore', {
      noncurrentVersionDays: config.retentionDays,
      // Point-in-time recovery reaches back 35 days; recovery points backupRetentionDays.
      erasureJournalDays: Math.max(config.backupRetentionDays, 35) + 1,
    });
    const stores = { table: this.tickets.table, tableKey: this.tickets.key, bucket: this.objects.bucket, bucketKey: this.objects.key };
    this.ingest = new MailIngest(this, 'MailIngest', { ...stores, maxReceiveCount: config.maxReceiveCount });
    this.retention = new Retention(this, 'Retention', {
      table: this.tickets.table,
      tableKey: this.tickets.key,
      bucket: this.objects.bucket,
      bucketKey: this.objects.key,
      backupRetentionDays: config.backupRetentionDays,
    });
    this.scanner = new Scanner(this, 'Scanner', { ...stores, accessLogBucket: this.objects.accessLogBucket });
    this.webhooks = new WebhookApi(this, 'Webhooks', { rateLimit: config.webhookRateLimit, burstLimit: config.webhookBurstLimit });
    this.serviceIndex = new ServiceIndexKey(this, 'ServiceIndexKey');
    // The Gmail connector's watches and the consent site's new ones publish to the same topic.
    const gmailTopic =
      config.gmailTopic ??
      new CfnParameter(this, 'GmailTopic', {
        description: 'The Pub/Sub topic Gmail watches publish to (or synth with -c gmailTopic=…)',
        allowedPattern: PUBSUB_TOPIC.source,
        constraintDescription: PUBSUB_TOPIC_EXPECTED,
      }).valueAsString;
    this.gmail = new GmailConnector(this, 'GmailConnector', {
      ...stores,
      webhooks: this.webhooks,
      serviceIndexKey: this.serviceIndex,
      // Facts of the operator's Google Cloud project: given as context at synth, or else required as
      // parameters at deploy, so no deploy goes out with a push function that refuses every push.
      pushServiceAccount:
        config.googlePushServiceAccount ??
        new CfnParameter(this, 'GmailPushServiceAccount', {
          description: 'The service account the Gmail Pub/Sub push subscription authenticates as (or synth with -c googlePushServiceAccount=…)',
          allowedPattern: GOOGLE_SERVICE_ACCOUNT.source,
          constraintDescription: GOOGLE_SERVICE_ACCOUNT_EXPECTED,
        }).valueAsString,
      topicName: gmailTopic,
      ...(config.googlePushAudience ? { pushAudience: config.googlePushAudience } : {}),
      fullSyncDays: config.gmailFullSyncDays,
      safetySyncMinutes: config.gmailSafetySyncMinutes,
      maxReceiveCount: config.gmailSyncMaxReceiveCount,
    });
    this.graph = new GraphConnector(this, 'GraphConnector', {
      ...stores,
      webhooks: this.webhooks,
      fullSyncDays: config.graphFullSyncDays,
      safetySyncMinutes: config.graphSafetySyncMinutes,
      maxReceiveCount: config.graphSyncMaxReceiveCount,
    });
    const consentDomain = this.consentDomainOf(config);
    this.consent = new ConsentSite(this, 'ConsentSite', {
      ...stores,
      webhooks: this.webhooks,
      serviceIndexKey: this.serviceIndex,
      gmail: this.gmail,
      gmailTopic,
      graph: this.graph,
      retentionDays: config.retentionDays,
      ...(consentDomain ? { domain: consentDomain } : {}),
    });
    // The only role that creates tenant keys or schedules their deletion (before Observability: its alarm joins the topic).
    this.tenantLifecycle = new TenantLifecycle(this, 'TenantLifecycle', {
      table: this.tickets.table,
      tableKey: this.tickets.key,
      bucket: this.objects.bucket,
      signingSecret: this.consent.signingSecret,
      signingSecretKey: this.consent.secretKey,
      consentBaseUrl: this.consent.baseUrl,
    });
    new CfnOutput(this, 'TenantLifecycleFunctionName', {
      value: this.tenantLifecycle.function.fn.functionName,
      description: 'Create tenants, invite their admins, close accounts: aws lambda invoke --function-name <this> --payload \'{"task":"create-tenant","name":"…"}\' (README)',
    });
    new CfnOutput(this, 'IngestQueueUrl', { value: this.ingest.queue.queueUrl });
    new CfnOutput(this, 'TableName', { value: this.tickets.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.objects.bucket.bucketName });
    new CfnOutput(this, 'DefinitionsBucketName', { value: this.scanner.definitionsBucket.bucketName, description: 'ClamAV definitions (clamav/), refreshed every 3 hours' });
    new CfnOutput(this, 'GmailPushEndpoint', { value: this.gmail.pushEndpoint, description: 'Push endpoint of the Gmail Pub/Sub subscription (authenticated push)' });
    new CfnOutput(this, 'GoogleOAuthSecretArn', {
      value: this.gmail.oauthClientSecret.secretArn,
      description: 'Secret to fill with the Google OAuth client: {"clientId": "…", "clientSecret": "…"}',
    });
    new CfnOutput(this, 'GraphNotificationUrl', { value: this.graph.notificationUrl, description: "notificationUrl of every Microsoft 365 subscription (Graph's change notifications)" });
    new CfnOutput(this, 'GraphLifecycleUrl', { value: this.graph.lifecycleUrl, description: 'lifecycleNotificationUrl of every Microsoft 365 subscription' });
    new CfnOutput(this, 'GraphAppSecretArn', {
      value: this.graph.appSecret.secretArn,
      description: 'Secret to fill with the Entra app certificate: {"clientId": "…", "thumbprintSha256": "…", "privateKey": "…", "x5c": "…", "notAfter": "…"}',
    });
    new CfnOutput(this, 'ConsentBaseUrl', { value: this.consent.baseUrl, description: 'Public origin of the consent site: invite links and OAuth callbacks are built on it' });
    new CfnOutput(this, 'GoogleOAuthCallbackUrl', {
      value: this.consent.googleCallbackUrl,
      description: 'Add to the Google OAuth client\'s "Authorized redirect URIs" (Google Cloud console › APIs & Services › Credentials)',
    });
    new CfnOutput(this, 'MicrosoftOAuthCallbackUrl', {
      value: this.consent.microsoftCallbackUrl,
      description: 'Add to the Entra app registration\'s "Web" redirect URIs (Microsoft Entra admin center › App registrations › Authentication)',
    });
    new CfnOutput(this, 'ConsentSigningSecretArn', {
      value: this.consent.signingSecret.secretArn,
      description: 'Generated HMAC key of invite links, admin sessions and CSRF tokens (rotate by hand: infra/constructs/consent-site.ts)',
    });
    if (this.consent.domainName) {
      new CfnOutput(this, 'ConsentDomainTarget', {
        value: this.consent.domainName.regionalDomainName,
        description: 'Point consentDomainName here: a CNAME record (or a Route 53 alias in the zone ConsentDomainHostedZoneId)',
      });
      new CfnOutput(this, 'ConsentDomainHostedZoneId', { value: this.consent.domainName.regionalHostedZoneId, description: 'Hosted zone of ConsentDomainTarget, for a Route 53 alias record' });
    }
    // Every function that reads the Graph app secret refuses one stored for another Entra app.
    if (config.msAppId) for (const fn of [this.graph.worker.fn, this.graph.scheduled.fn, this.consent.site.fn]) fn.addEnvironment('GRAPH_APP_ID', config.msAppId);
    // Last: its aspect gives every alarm of the stack the alarm topic and puts it on the dashboard.
    this.observability = new Observability(this, 'Observability', { webhooks: this.webhooks, ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}) });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.topic.topicArn, description: 'Every alarm notifies this SNS topic (ALARM and OK): subscribe with -c alarmEmail=… or aws sns subscribe' });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName, description: 'The CloudWatch dashboard of the stack' });
    acknowledgeFindings(this, { objects: this.objects, ingest: this.ingest, retention: this.retention, gmail: this.gmail, graph: this.graph });
  }

  /** The consent site's domain from context: both keys or neither (readInfraConfig), the certificate in this region. */
  private consentDomainOf(config: InfraConfig): ConsentDomain | undefined {
    const { consentDomainName: name, consentCertificateArn: certificateArn } = config;
    if (name === undefined || certificateArn === undefined) return undefined;
    const region = ACM_CERTIFICATE_ARN.exec(certificateArn)?.[1];
    if (!Token.isUnresolved(this.region) && region !== this.region) {
      throw new ContextError([`CDK context "consentCertificateArn" must be a certificate in the stack's region ${this.region}, as API Gateway's regional domains need (got one in ${region})`]);
    }
    return { name, certificateArn };
  }
}
