// fauxqs: an SQS-wire-compatible server in this process, for the connectors' FIFO sync queues. Each
// queue is created through the real SDK (as CDK's would be: FIFO, explicit deduplication ids, a FIFO
// dead-letter queue behind a redrive policy), so the calls the stack makes are the calls tested.
//
// fauxqs's own startFauxqs() listens on 0.0.0.0 whatever its `host` option says (that option only
// names the host in queue URLs), so this builds its app and listens on loopback itself.
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';

export interface LocalQueueSpec {
  /** Queue name without `.fifo`; the dead-letter queue is `<name>-dlq.fifo`. */
  name: string;
  /** 30 by default, like SQS. */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to the dead-letter queue; 5 by default. */
  maxReceiveCount?: number;
}

export interface LocalQueues {
  endpoint: string;
  client: SQSClient;
  urls: Record<string, { queueUrl: string; dlqUrl: string }>;
  /** Creates one more queue pair on the running server and lists it in `urls`. */
  addQueue(spec: LocalQueueSpec): Promise<{ queueUrl: string; dlqUrl: string }>;
  stop(): Promise<void>;
}

// fauxqs accepts any credentials; these never leave the machine.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const LOCAL_REGION = 'us-east-1';
/** SQS queue names are at most 80 characters; `-dlq.fifo` takes 9 of them. */
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,71}$/;

export async function startLocalQueues(options: { queues: LocalQueueSpec[] }): Promise<LocalQueues> {
  const names = new Set<string>();
  for (const spec of options.queues) {
    checkQueueName(spec.name);
    if (names.has(spec.name)) throw new Error(`queue ${spec.name} is listed twice`);
    names.add(spec.name);
  }

  const app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const stop = async () => {
    client.destroy();
    // Closing also releases any long poll still waiting (fauxqs cancels its waiters on close).
    await app.close();
  };

  try {
    const urls: LocalQueues['urls'] = {};
    for (const spec of options.queues) urls[spec.name] = await createQueuePair(client, spec);
    const addQueue = async (spec: LocalQueueSpec) => {
      checkQueueName(spec.name);
      if (urls[spec.name]) throw new Error(`queue ${spec.name} exists already`);
      return (urls[spec.name] = await createQueuePair(client, spec));
    };
    return { endpoint, client, urls, addQueue, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function checkQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) throw new Error(`invalid queue name ${JSON.stringify(name)}: 1 to 71 letters, digits, hyphens or underscores, without .fifo`);
}

async function createQueuePair(client: SQSClient, spec: LocalQueueSpec): Promise<{ queueUrl: string; dlqUrl: string }> {
  const base = {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    VisibilityTimeout: String(spec.visibilityTimeoutSeconds ?? 30),
  };
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${spec.name}-dlq.fifo`, Attributes: base }));
  const dlqUrl = required(dlq.QueueUrl, `CreateQueue ${spec.name}-dlq.fifo returned no QueueUrl`);
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const deadLetterTargetArn = required(Attributes?.QueueArn, `GetQueueAttributes gave no QueueArn for ${spec.name}-dlq.fifo`);
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: `${spec.name}.fifo`,
      Attributes: { ...base, RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: spec.maxReceiveCount ?? 5 }) },
    }),
  );
  return { queueUrl: required(main.QueueUrl, `CreateQueue ${spec.name}.fifo returned no QueueUrl`), dlqUrl };
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}
