// What both connectors' constructs (Gmail, Microsoft 365) grant and wire the same way: producing to
// their sync queue, reading their app secret, the scheduled function's access to connected mailboxes,
// the scheduler role and targets that invoke it, and the time their sync workers keep in hand.
// Statement ids stay per call site's meaning.
import { Aws, type Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../shared/adapters/dynamodb/table-schema.js';
import { SYNC_TIME_RESERVE_MS } from '../../shared/adapters/system/deadlines.js';
import { grantTenantKeys } from './mail-ingest.js';

/**
 * SYNC_TIME_RESERVE_SECONDS for a sync worker: it hands the rest of a long backlog to a fresh job while
 * this much of its time is left — half its timeout, and never more than SYNC_TIME_RESERVE_MS.
 */
export function syncTimeReserveSeconds(workerTimeout: Duration): number {
  return Math.min(SYNC_TIME_RESERVE_MS / 1000, Math.floor(workerTimeout.toSeconds() / 2));
}

/** The table index that lists connected mailboxes (GSI1PK = CONNECTED#<provider>). */
const CONNECTED_INDEX = 'GSI1';

/** Producing to a KMS-encrypted queue: the message calls, and the queue key to seal them. */
export function grantEnqueue(role: iam.Role, queue: sqs.IQueue, queueKey: kms.IKey, actions: readonly string[] = ['sqs:SendMessage']): void {
  role.addToPolicy(new iam.PolicyStatement({ sid: 'SyncQueue', actions: [...actions], resources: [queue.queueArn] }));
  role.addToPolicy(new iam.PolicyStatement({ sid: 'SyncQueueKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [queueKey.keyArn] }));
}

/** One secret, and its key only as Secrets Manager uses it for that secret. `sid` names both statements. */
export function grantSecretRead(role: iam.Role, secret: secretsmanager.ISecret, secretKey: kms.IKey, sid: string): void {
  role.addToPolicy(new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: `${sid}Key`,
      actions: ['kms:Decrypt'],
      resources: [secretKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': secret.secretArn } },
    }),
  );
}

/**
 * The scheduled function lists connected mailboxes (one index), updates each one's expiry or
 * reauthorization state, and opens sealed credentials only: no data key, no blind index.
 */
export function grantConnectedMailboxes(role: iam.Role, table: dynamodb.ITable, tableKey: kms.IKey): void {
  if (!TABLE_SCHEMA.GlobalSecondaryIndexes.some((index) => index.IndexName === CONNECTED_INDEX)) throw new Error(`TABLE_SCHEMA has no ${CONNECTED_INDEX}`);
  role.addToPolicy(new iam.PolicyStatement({ sid: 'ConnectedMailboxes', actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${CONNECTED_INDEX}`] }));
  role.addToPolicy(new iam.PolicyStatement({ sid: 'MailboxUpdate', actions: ['dynamodb:UpdateItem'], resources: [table.tableArn] }));
  role.addToPolicy(
    new iam.PolicyStatement({ sid: 'TableKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [tableKey.keyArn] }),
  );
  grantTenantKeys(role, { dataKeyActions: ['kms:Decrypt'], lookupActions: ['kms:DescribeKey'] });
}

/** The role EventBridge Scheduler assumes (this account's default group only) to invoke exactly `fn`. */
export function schedulerRoleFor(scope: Construct, fn: lambda.IFunction): iam.Role {
  const role = new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/default/*` },
      },
    }),
  });
  // Exactly the function, not its versions and aliases (which CDK's grantInvoke adds as `:*`).
  role.addToPolicy(new iam.PolicyStatement({ sid: 'InvokeScheduled', actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }));
  return role;
}

/** A schedule target invoking `fn` with `task` through `role` (scheduler-targets' LambdaInvoke would grant `function:*`). */
export function invokeScheduled(fn: lambda.IFunction, role: iam.Role, task: { readonly task: string }, retryPolicy: scheduler.CfnSchedule.RetryPolicyProperty): scheduler.IScheduleTarget {
  return { bind: () => ({ arn: fn.functionArn, role, input: scheduler.ScheduleTargetInput.fromObject(task), retryPolicy }) };
}
