// cdk-nag findings we acknowledge: each on the narrowest construct (the policy or resource the finding
// is reported on), each finding by its exact id where the rule reports several, each with the reason
// it is acceptable. tests/infra/cdk-nag.test.ts fails on an acknowledgement no finding uses.
import { Validations, type CfnResource, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AttachmentStore } from './constructs/attachment-store.js';
import type { GmailConnector } from './constructs/gmail-connector.js';
import type { GraphConnector } from './constructs/graph-connector.js';
import type { MailIngest } from './constructs/mail-ingest.js';
import type { Retention } from './constructs/retention.js';
import { ERASURE_JOURNAL_PREFIX } from '../shared/domain/requester-journal.js';
import { TOMBSTONE_PREFIX } from '../shared/domain/tombstones.js';

/**
 * Namespaced with the plugin's name, so CDK itself matches the acknowledgement to the plugin's
 * finding and records it (path, reason, stack trace) in the cloud assembly's validation-report.json.
 */
function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}

/** A child that must exist: acknowledging on its parent instead would cover more than the finding. */
function child(scope: IConstruct, id: string): IConstruct {
  const found = scope.node.tryFindChild(id);
  if (!found) throw new Error(`${scope.node.path} has no child ${id} to acknowledge a finding on`);
  return found;
}

export function acknowledgeFindings(
  stack: Stack,
  parts: { objects: AttachmentStore; ingest: MailIngest; retention: Retention; gmail: GmailConnector; graph: GraphConnector },
): void {
  const { objects, ingest, retention, gmail, graph } = parts;
  const bucketObjects = `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(objects.bucket.node.defaultChild as CfnResource)}.Arn>/*]`;
  const tenantKeys = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]';

  // The ingest worker and the connectors' sync workers all run ingestMessage, with the same grants.
  for (const role of [ingest.worker.role, gmail.worker.role, graph.worker.role]) {
    if (!role) throw new Error('an ingesting worker has no role to acknowledge findings on');
    const workerPolicy = child(role, 'DefaultPolicy');
    acknowledge(
      workerPolicy,
      bucketObjects,
      'Object keys are per-tenant ids minted at run time (t/<tenant>/m/<mailbox>/…, intake/…); the grant is limited to object-level calls on this one bucket.',
    );
    acknowledge(
      workerPolicy,
      tenantKeys,
      'Per-tenant KMS keys are created at run time, so no ARN exists at synth. Every statement requires kms:ResourceAliases to match alias/mail2ticket/tenant/*, and data-key calls require exactly our encryption context keys (tenant, mailbox, purpose).',
    );
  }
  acknowledge(
    child(gmail.scheduled.role, 'DefaultPolicy'),
    tenantKeys,
    "The scheduled Gmail jobs open each mailbox's sealed credentials with its tenant's key, created at run time: only kms:Decrypt under exactly our encryption context keys and kms:DescribeKey, both only through alias/mail2ticket/tenant/*.",
  );
  acknowledge(
    child(graph.scheduled.role, 'DefaultPolicy'),
    tenantKeys,
    "The scheduled Microsoft 365 jobs open each mailbox's sealed credentials (its Microsoft tenant and user) with its tenant's key, created at run time: only kms:Decrypt under exactly our encryption context keys and kms:DescribeKey, both only through alias/mail2ticket/tenant/*.",
  );
  for (const route of [graph.routes.notifications, graph.routes.lifecycle]) {
    acknowledge(
      route,
      'AwsSolutions-APIG4',
      "Microsoft Graph sends change and lifecycle notifications without any token, so no authorizer can check one: the subscription's validation handshake proves the URL at creation, and the function accepts an item only if it names a subscription we hold and carries that subscription's clientState (320 random bits we keep only as a SHA-256 digest, compared in constant time). Anything else enqueues nothing and is counted.",
    );
  }
  acknowledge(
    graph.appSecret,
    'AwsSolutions-SMG4',
    'The Entra app credential is rotated in Microsoft Entra (a new certificate uploaded to the app registration), then stored here by the operator; Secrets Manager cannot mint one. Its expiry is alarmed 30 days ahead.',
  );
  acknowledge(
    gmail.oauthClientSecret,
    'AwsSolutions-SMG4',
    'An OAuth client secret is rotated where it is issued, in the Google Cloud console, then stored here by the operator; Secrets Manager has no way to mint a new one.',
  );

  for (const worker of [retention.purgeStream, retention.sweeper]) {
    acknowledge(
      child(worker.role, 'DefaultPolicy'),
      bucketObjects,
      'The purge deletes objects under run-time tenant/mailbox prefixes; this role may only delete (every version) and list, on this one bucket.',
    );
  }
  const sweeperPolicy = child(retention.sweeper.role, 'DefaultPolicy');
  const bucketArn = `<${stack.getLogicalId(objects.bucket.node.defaultChild as CfnResource)}.Arn>`;
  for (const prefix of [TOMBSTONE_PREFIX, ERASURE_JOURNAL_PREFIX]) {
    acknowledge(
      sweeperPolicy,
      `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}*]`,
      `The retention records (one object per purged mailbox or requester erasure, named by run-time ids) live under ${prefix}: the sweeper writes tombstones and, after a table restore, reads these records back; no other object is readable by it.`,
    );
  }
  acknowledge(
    sweeperPolicy,
    tenantKeys,
    "Replaying requester erasures after a table restore re-seals the restored records with their tenant's key, created at run time: data-key calls only under exactly our encryption context keys, and every statement only through alias/mail2ticket/tenant/*.",
  );
  acknowledge(
    retention.streamFailures,
    'AwsSolutions-SQS3',
    'This queue is itself the failure destination of the purge stream consumer: it receives the batches that failed every retry, for an operator to replay.',
  );
  acknowledge(
    child(retention.backupSelection, 'Role'),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    "AWS Backup's documented service role policy for taking backups; it is maintained by AWS as services evolve and is attached only to the role the Backup service assumes.",
  );
}
