// cdk-nag findings we acknowledge: each on the narrowest construct, each finding by its exact id
// where the rule reports several, each with the reason it is acceptable.
import { Validations, type CfnResource, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AttachmentStore } from './constructs/attachment-store.js';
import type { MailIngest } from './constructs/mail-ingest.js';
import type { Retention } from './constructs/retention.js';

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}

export function acknowledgeFindings(stack: Stack, parts: { objects: AttachmentStore; ingest: MailIngest; retention: Retention }): void {
  const { objects, ingest, retention } = parts;
  const policy = ingest.worker.role?.node.tryFindChild('DefaultPolicy') ?? ingest.worker;
  const bucketId = stack.getLogicalId(objects.bucket.node.defaultChild as CfnResource);

  acknowledge(
    policy,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
    'Object keys are per-tenant ids minted at run time (t/<tenant>/m/<mailbox>/…, intake/…); the grant is limited to object-level calls on this one bucket.',
  );
  acknowledge(
    policy,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
    'Per-tenant KMS keys are created at run time, so no ARN exists at synth. Every statement requires kms:ResourceAliases to match alias/mail2ticket/tenant/*, and data-key calls require exactly our encryption context keys.',
  );

  for (const worker of [retention.purgeStream, retention.sweeper]) {
    acknowledge(
      worker.role.node.tryFindChild('DefaultPolicy') ?? worker.role,
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      'The purge deletes objects under run-time tenant/mailbox prefixes; this role may only delete (every version) and list, on this one bucket.',
    );
  }
  acknowledge(
    retention.streamFailures,
    'AwsSolutions-SQS3',
    'This queue is itself the failure destination of the purge stream consumer: it receives the batches that failed every retry, for an operator to replay.',
  );
  acknowledge(
    retention.backupPlan,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    "AWS Backup's documented service role policy for taking backups; it is maintained by AWS as services evolve and is attached only to the role the Backup service assumes.",
  );
}
