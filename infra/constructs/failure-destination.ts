// Where a stream consumer's batches go once every retry failed.
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * A failure destination for a stream consumer. CDK's SqsDlq grants the queue key with wildcard
 * actions (kms:GenerateDataKey*, kms:ReEncrypt*); this grants exactly what SQS needs to accept an
 * encrypted message: SendMessage, and GenerateDataKey and Decrypt on that queue's key.
 */
export function exactFailureDestination(queue: sqs.Queue, key: kms.IKey, role: iam.Role): lambda.IEventSourceDlq {
  return {
    bind: () => {
      role.addToPolicy(new iam.PolicyStatement({ sid: 'FailureQueue', actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      role.addToPolicy(new iam.PolicyStatement({ sid: 'FailureQueueKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }));
      return { destination: queue.queueArn };
    },
  };
}
