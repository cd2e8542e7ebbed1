// The whole pipeline in one stack, one construct per capability.
import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { GOOGLE_SERVICE_ACCOUNT, GOOGLE_SERVICE_ACCOUNT_EXPECTED, PUBSUB_TOPIC, PUBSUB_TOPIC_EXPECTED, type InfraConfig } from './config.js';
import { AttachmentStore } from './constructs/attachment-store.js';
import { GmailConnector } from './constructs/gmail-connector.js';
import { GraphConnector } from './constructs/graph-connector.js';
import { MailIngest } from './constructs/mail-ingest.js';
import { ServiceIndexKey } from './constructs/service-index-key.js';
import { TicketStore } from './constructs/ticket-store.js';
import { Retention } from './constructs/retention.js';
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
  public readonly webhooks: WebhookApi;
  public readonly serviceIndex: ServiceIndexKey;
  public readonly gmail: GmailConnector;
  public readonly graph: GraphConnector;

  constructor(scope: Construct, id: string, props: Mail2TicketStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.tickets = new TicketStore(this, 'TicketStore');
    this.objects = new AttachmentStore(this, 'AttachmentStore', { noncurrentVersionDays: config.retentionDays });
    const stores = { table: this.tickets.table, tableKey: this.tickets.key, bucket: this.objects.bucket, bucketKey: this.objects.key };
    this.ingest = new MailIngest(this, 'MailIngest', { ...stores, maxReceiveCount: config.maxReceiveCount });
    this.retention = new Retention(this, 'Retention', {
      table: this.tickets.table,
      tableKey: this.tickets.key,
      bucket: this.objects.bucket,
      backupRetentionDays: config.backupRetentionDays,
    });
    this.webhooks = new WebhookApi(this, 'Webhooks', { rateLimit: config.webhookRateLimit, burstLimit: config.webhookBurstLimit });
    this.serviceIndex = new ServiceIndexKey(this, 'ServiceIndexKey');
    this.gmail = new GmailConnector(this, 'GmailConnector', {
      ...stores,
      webhooks: this.webhooks,
      serviceIndexKey: this.serviceIndex,
      // Facts of the operator's Google Cloud project: given as context at synth, or else required as
      // parameters at deploy, so no deploy goes out with a push function that refuses every push.
      pushServiceAccount:
        config.gmailPushServiceAccount ??
        new CfnParameter(this, 'GmailPushServiceAccount', {
          description: 'The service account the Gmail Pub/Sub push subscription authenticates as (or synth with -c gmailPushServiceAccount=…)',
          allowedPattern: GOOGLE_SERVICE_ACCOUNT.source,
          constraintDescription: GOOGLE_SERVICE_ACCOUNT_EXPECTED,
        }).valueAsString,
      topicName:
        config.gmailTopic ??
        new CfnParameter(this, 'GmailTopic', {
          description: 'The Pub/Sub topic Gmail watches publish to (or synth with -c gmailTopic=…)',
          allowedPattern: PUBSUB_TOPIC.source,
          constraintDescription: PUBSUB_TOPIC_EXPECTED,
        }).valueAsString,
      ...(config.gmailPushAudience ? { pushAudience: config.gmailPushAudience } : {}),
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
    new CfnOutput(this, 'IngestQueueUrl', { value: this.ingest.queue.queueUrl });
    new CfnOutput(this, 'TableName', { value: this.tickets.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.objects.bucket.bucketName });
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
    acknowledgeFindings(this, { objects: this.objects, ingest: this.ingest, retention: this.retention, gmail: this.gmail, graph: this.graph });
  }
}
