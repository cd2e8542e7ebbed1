// The whole pipeline in one stack, one construct per capability.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { InfraConfig } from './config.js';
import { AttachmentStore } from './constructs/attachment-store.js';
import { MailIngest } from './constructs/mail-ingest.js';
import { TicketStore } from './constructs/ticket-store.js';
import { Retention } from './constructs/retention.js';
import { acknowledgeFindings } from './nag.js';

export interface Mail2TicketStackProps extends StackProps {
  readonly config: InfraConfig;
}

export class Mail2TicketStack extends Stack {
  public readonly tickets: TicketStore;
  public readonly objects: AttachmentStore;
  public readonly ingest: MailIngest;
  public readonly retention: Retention;

  constructor(scope: Construct, id: string, props: Mail2TicketStackProps) {
    super(scope, id, props);
    this.tickets = new TicketStore(this, 'TicketStore');
    this.objects = new AttachmentStore(this, 'AttachmentStore', { noncurrentVersionDays: props.config.retentionDays });
    this.ingest = new MailIngest(this, 'MailIngest', {
      table: this.tickets.table,
      tableKey: this.tickets.key,
      bucket: this.objects.bucket,
      bucketKey: this.objects.key,
      maxReceiveCount: props.config.maxReceiveCount,
    });
    this.retention = new Retention(this, 'Retention', {
      table: this.tickets.table,
      tableKey: this.tickets.key,
      bucket: this.objects.bucket,
      backupRetentionDays: props.config.backupRetentionDays,
    });
    new CfnOutput(this, 'IngestQueueUrl', { value: this.ingest.queue.queueUrl });
    new CfnOutput(this, 'TableName', { value: this.tickets.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.objects.bucket.bucketName });
    acknowledgeFindings(this, { objects: this.objects, ingest: this.ingest, retention: this.retention });
  }
}
