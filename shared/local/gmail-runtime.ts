// The Gmail connector as AWS runs it, on this machine, with the Lambdas' own handlers:
//   push webhook  — API Gateway + Lambda there; `handlePush` behind npm start's server here;
//   sync queue    — an SQS FIFO queue there; the same queue on fauxqs (loopback) here;
//   sync worker   — Lambda's SQS event source there; SqsPoller running the same `makeHandler` here;
//   scanner       — the table's stream to the scanner function there; scan-runtime.ts here, handing the
//                   attachments the worker stored `pending` to the same scanner handler;
//   schedules     — EventBridge Scheduler there; timers here: a safety sync per mailbox every period
//                   (one at start too: queued jobs live in memory, so whatever a restart lost is
//                   caught up at once) and the daily watch renewal.
// The caller brings the Gmail side (the sandbox's fake Google, its OAuth client), the keys push
// tokens are verified with, and the local SQS its queue is on.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handlePush } from '../../functions/gmail-push/make-handler.js';
import { makeHandler as makeSyncHandler, type GmailSyncHandlerDeps } from '../../functions/gmail-sync/make-handler.js';
import { GoogleGmailConnector, type GoogleGmailOptions } from '../adapters/gmail/google-gmail-connector.js';
import { SqsJobDeferral, SqsJobQueue } from '../adapters/sqs/sqs-job-queue.js';
import { CountingMetrics } from '../adapters/system/metrics.js';
import { DeferredScanner } from '../adapters/system/draining-scanners.js';
import type { GmailWorkerSettings } from '../config.js';
import { enqueueSafetySyncs, renewGmailWatches, type GmailLifecycleDeps } from '../domain/gmail/lifecycle.js';
import type { PushVerifier } from '../domain/gmail/ports.js';
import type { GmailPushDeps } from '../domain/gmail/push.js';
import type { MailboxOwner } from '../domain/ports.js';
import { countingWebhook, describe, queueUrlOf, quietPowertoolsMetrics, repeat, reportingSyncHandler, scopedDirectory, SYNC_POLLERS, type Repeater } from './connector-runtime.js';
import type { HttpApiRequest } from './http.js';
import type { LocalQueues } from './queues.js';
import type { Reporter } from './reporter.js';
import type { LocalScanStream } from './scan-runtime.js';
import { SqsPoller, type SqsPollerStats } from './sqs-poller.js';
import type { LocalStack } from './stack.js';

/** The local sync queue: `gmail-sync.fifo` with its dead-letter queue, like the deployed one. */
export const GMAIL_SYNC_QUEUE = { name: 'gmail-sync', visibilityTimeoutSeconds: 30, maxReceiveCount: 8 } as const;
const RENEWAL_PERIOD_MS = 24 * 3600 * 1000;

export interface LocalGmailRuntimeOptions {
  stack: LocalStack;
  /** The local SQS, with GMAIL_SYNC_QUEUE created on it; the caller stops it after this runtime. */
  queues: LocalQueues;
  /** Where the Gmail API and Google's OAuth endpoints are, and the OAuth client. */
  google: GoogleGmailOptions;
  verifier: PushVerifier;
  settings: GmailWorkerSettings;
  safetySyncSeconds: number;
  /**
   * The mailboxes the scheduled jobs may touch; all connected Gmail mailboxes when absent. The sandbox
   * passes its own: a real mailbox connected in the same data dir must never be synced (and marked
   * `reauthorization_required`) against the fake Google.
   */
  owns?: (owner: MailboxOwner) => boolean;
  /**
   * The local stand-in for the table's stream to the scanner: the sync worker stores attachments
   * `pending`, as in AWS, and this scans them after the write.
   */
  scans: LocalScanStream;
  report: Reporter;
}

export interface LocalGmailRuntimeStats {
  /** Webhook answers by HTTP status. */
  webhook: Record<string, number>;
  sync: SqsPollerStats;
  safetySyncRuns: number;
  /** What the handlers counted (the Metrics port): gmail.push_accepted, gmail.push_unauthenticated… */
  metrics: Record<string, number>;
}

export interface LocalGmailRuntime {
  queue: { endpoint: string; queueUrl: string };
  /** For connecting mailboxes (the sandbox's demo mailbox) with the runtime's own Gmail client. */
  lifecycle: GmailLifecycleDeps;
  /** POST /webhooks/gmail, answered exactly as the Lambda answers it. */
  webhook(request: HttpApiRequest): Promise<APIGatewayProxyStructuredResultV2>;
  /** Starts the timers; the first safety sync is enqueued at once. */
  startSchedules(): void;
  stats(): LocalGmailRuntimeStats;
  stop(): Promise<void>;
}

export async function startLocalGmailRuntime(options: LocalGmailRuntimeOptions): Promise<LocalGmailRuntime> {
  const { stack, queues, report } = options;
  const queueUrl = queueUrlOf(queues, GMAIL_SYNC_QUEUE.name);
  const metrics = new CountingMetrics();
  const queue = new SqsJobQueue(queues.client, queueUrl);
  const gmail = new GoogleGmailConnector(options.google);
  const directory = scopedDirectory(stack.directory, options.owns);

  const pushDeps: GmailPushDeps = { verifier: options.verifier, directory: stack.directory, keys: stack.deps.keys, queue, metrics };
  const syncDeps: GmailSyncHandlerDeps = {
    ...stack.deps,
    // As the Lambda: attachments are stored encrypted and `pending`, and the scanner (here the local
    // stream to the production scanner handler) decides them after the write.
    repo: options.scans.watch(stack.deps.repo),
    scanner: new DeferredScanner(),
    gmail,
    metrics,
    settings: options.settings,
    queue,
    deferral: new SqsJobDeferral(queues.client, queueUrl),
    // The handler hands a throttled job to a fresh one before the queue would dead-letter it: it must
    // know the queue's real maxReceiveCount, which is the one created above.
    maxReceiveCount: GMAIL_SYNC_QUEUE.maxReceiveCount,
    transientRetrySeconds: GMAIL_SYNC_QUEUE.visibilityTimeoutSeconds,
  };
  const lifecycle: GmailLifecycleDeps = { ...stack.deps, directory, gmail, metrics, settings: { topicName: options.settings.topicName } };

  const poller = new SqsPoller({
    client: queues.client,
    queueUrl,
    functionName: 'gmail-sync',
    // Lambda scales a FIFO event source by message group (one mailbox's jobs never run at once, other
    // mailboxes' do); a few pollers stand in for those concurrent invocations.
    concurrency: SYNC_POLLERS,
    handler: reportingSyncHandler({
      name: 'gmail sync',
      handler: makeSyncHandler(syncDeps, quietPowertoolsMetrics()),
      repo: stack.deps.repo,
      visibilityTimeoutSeconds: GMAIL_SYNC_QUEUE.visibilityTimeoutSeconds,
      report,
    }),
  });

  const push = countingWebhook('gmail', 'Pub/Sub', handlePush(pushDeps), report);
  let safetySyncRuns = 0;
  const timers: Repeater[] = [];

  await poller.start();
  return {
    queue: { endpoint: queues.endpoint, queueUrl },
    lifecycle,
    webhook: push.webhook,
    startSchedules() {
      if (timers.length > 0) return;
      const safetyMs = options.safetySyncSeconds * 1000;
      timers.push(
        repeat(safetyMs, true, async () => {
          // The slot (and so the deduplication id) changes every period: each run is one job per mailbox.
          await enqueueSafetySyncs({ directory, queue, clock: stack.deps.clock }, 'gmail', options.safetySyncSeconds / 60);
          safetySyncRuns++;
        }, (error) => report.warn(`gmail safety sync: could not enqueue (${describe(error)}); trying again in ${options.safetySyncSeconds} s`)),
        repeat(RENEWAL_PERIOD_MS, false, async () => {
          const renewal = await renewGmailWatches(lifecycle);
          if (renewal.failed > 0 || renewal.reauthorizationRequired > 0) report.warn(`gmail watch renewal: ${renewal.renewed} renewed, ${renewal.failed} failed, ${renewal.reauthorizationRequired} need reauthorization`);
        }, (error) => report.warn(`gmail watch renewal failed (${describe(error)}); trying again tomorrow`)),
      );
    },
    stats: () => ({ webhook: push.counts(), sync: { ...poller.stats }, safetySyncRuns, metrics: Object.fromEntries(metrics.counts) }),
    async stop() {
      await Promise.all(timers.map((timer) => timer.stop()));
      await poller.stop();
    },
  };
}
