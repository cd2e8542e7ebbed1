// cdk-nag findings we acknowledge: each on the narrowest construct, each finding by its exact id
// where the rule reports several, each with the reason it is acceptable.
import { Validations, type CfnResource, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AttachmentStore } from './constructs/attachment-store.js';
import type { MailIngest } from './constructs/mail-ingest.js';

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}

export function acknowledgeFindings(stack: Stack, parts: { objects: AttachmentStore; ingest: MailIngest }): void {
  const { objects, ingest } = parts;
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
  acknowledge(
    ingest.worker,
    'AwsSolutions-L1',
    'Pinned to nodejs22.x on purpose: the project, its tests and its benchmarks run on Node 22; moving runtimes is a deliberate upgrade, not a side effect of a CDK bump.',
  );
}
