// JobQueue and JobDeferral on SQS FIFO queues. Ids are checked here, before any request: SQS would
// reject a bad one as a generic InvalidParameterValue, and a connector needs to know that retrying
// cannot help.
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DependencyUnavailable, InvalidInput } from '../../domain/errors.js';
import type { JobDeferral, JobQueue, QueuedJob } from '../../domain/ports.js';
import { isTransientAwsError } from '../s3/aws-errors.js';

/** SQS's rule for MessageGroupId and MessageDeduplicationId: 1–128 of a-z, A-Z, 0-9 and ASCII punctuation. */
const SQS_FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;
/** ChangeMessageVisibility accepts 0 to 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

export function assertSqsFifoId(kind: 'groupId' | 'deduplicationId', value: string): void {
  if (typeof value !== 'string' || !SQS_FIFO_ID.test(value)) {
    // The value itself stays out of the message: ids may be derived from mailbox identifiers.
    const length = typeof value === 'string' ? value.length : 0;
    throw new InvalidInput(`SQS ${kind} must be 1 to 128 characters of letters, digits and ASCII punctuation (got ${length} characters)`);
  }
}

export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(job: QueuedJob): Promise<void> {
    assertSqsFifoId('groupId', job.groupId);
    assertSqsFifoId('deduplicationId', job.deduplicationId);
    // A duplicate within the deduplication window is answered with the first message's id: success.
    await call('SendMessage', () =>
      this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: job.body, MessageGroupId: job.groupId, MessageDeduplicationId: job.deduplicationId })),
    );
  }
}

export class SqsJobDeferral implements JobDeferral {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Makes a received message visible again after `seconds`, clamped to 0–43,200 and rounded up.
   * SQS counts the 12-hour limit from the first receive, and every receive still counts towards the
   * queue's maxReceiveCount: a job deferred that many times is dead-lettered like a failing one.
   */
  async defer(receiptHandle: string, seconds: number): Promise<void> {
    if (!Number.isFinite(seconds)) throw new InvalidInput(`defer: seconds must be a finite number (got ${seconds})`);
    const visibility = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(seconds)));
    await call('ChangeMessageVisibility', () =>
      this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibility })),
    );
  }
}

async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (isTransientAwsError(error)) throw new DependencyUnavailable(`SQS ${operation} is unavailable`, { cause: error });
    throw error;
  }
}
