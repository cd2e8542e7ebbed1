// The floor for the push webhook's cold start: a Lambda that does nothing but send one message to an
// SQS FIFO queue with @aws-sdk/client-sqs, its client built at module scope like every handler's.
// Bundled exactly as the push webhook is (see lambda-bundle.ts); it is a benchmark baseline, never
// deployed.
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const queueUrl = process.env.SYNC_QUEUE_URL;
if (!queueUrl) throw new Error('SYNC_QUEUE_URL is required');
const sqs = new SQSClient({ region: process.env.AWS_REGION });

export async function handler(): Promise<{ statusCode: number }> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"baseline":true}', MessageGroupId: 'baseline', MessageDeduplicationId: randomUUID() }));
  return { statusCode: 204 };
}
