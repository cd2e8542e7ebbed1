// The Microsoft 365 connector as AWS runs it, on this machine, with the Lambdas' own handlers:
//   webhooks      — API Gateway + Lambda there; `handleGraphWebhook` behind npm start's server here
//                   (POST /webhooks/graph and /webhooks/graph/lifecycle: the validation handshake,
//                   change and lifecycle notifications);
//   sync queue    — an SQS FIFO queue there; the same queue on fauxqs (loopback) here;
//   sync worker   — Lambda's SQS event source there; SqsPoller running the same `makeHandler` here;
//   scanner       — the table's stream to the scanner function there; scan-runtime.ts here, handing the
//                   attachments the worker stored `pending` to the same scanner handler;
//   schedules     — EventBridge Scheduler there; timers here: a safety sync per mailbox every period
//                   (one at start too: queued jobs live in memory, so whatever a restart lost is
//                   caught up at once) and the subscription renewal every few hours.
// The caller brings the Microsoft side (the sandbox's fake Graph and identity platform, its Entra
// app), the webhook URLs the subscriptions name, and the local SQS its queue is on.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleGraphWebhook, type GraphWebhookEvent } from '../../functions/graph-notify/make-handler.js';
import { makeHandler as makeSyncHandler, type GraphSyncHandlerDeps } from '../../functions/graph-sync/make-handler.js';
import { MicrosoftGraphConnector, type MicrosoftGraphOptions } from '../adapters/graph/microsoft-graph-connector.js';
import { SqsJobDeferral, SqsJobQueue } from '../adapters/sqs/sqs-job-queue.js';
import { CountingMetrics } from '../adapters/system/metrics.js';
import { DeferredScanner } from '../adapters/system/draining-scanners.js';
import type { GraphWorkerSettings } from '../config.js';
import { enqueueSafetySyncs } from '../domain/gmail/lifecycle.js';
import { renewGraphSubscriptions, type GraphLifecycleDeps } from '../domain/graph/lifecycle.js';
import type { GraphNotifyDeps } from '../domain/graph/notify.js';
import type { MailboxOwner } from '../domain/ports.js';
import { countingWebhook, describe, queueUrlOf, quietPowertoolsMetrics, repeat, reportingSyncHandler, scopedDirectory, SYNC_POLLERS, type Repeater } from './connector-runtime.js';
import type { LocalQueues } from './queues.js';
import type { Reporter } from './reporter.js';
import type { LocalScanStream } from './scan-runtime.js';
import { SqsPoller, type SqsPollerStats } from './sqs-poller.js';
import type { LocalStack } from './stack.js';

/** The local sync queue: `graph-sync.fifo` with its dead-letter queue, like the deployed one. */
export const GRAPH_SYNC_QUEUE = { name: 'graph-sync', visibilityTimeoutSeconds: 30, maxReceiveCount: 8 } as const;
/** Subscriptions last almost 7 days and are renewed when less than two are left: a few runs a day, as deployed. */
export const GRAPH_RENEWAL_PERIOD_MS = 6 * 3600 * 1000;

export interface LocalGraphRuntimeOptions {
  stack: LocalStack;
  /** The local SQS, with GRAPH_SYNC_QUEUE created on it; the caller stops it after this runtime. */
  queues: LocalQueues;
  /** Where Graph and the identity platform are, the Entra app, and how TLS to them is trusted. */
  graph: MicrosoftGraphOptions;
  /** The webhook URLs subscriptions name, delta and subscription lifetimes. */
  settings: GraphWorkerSettings;
  safetySyncSeconds: number;
  /**
   * The mailboxes the scheduled jobs may touch; all connected Microsoft 365 mailboxes when absent. The
   * sandbox passes its own: a real mailbox connected in the same data dir must never be synced (and
   * marked `reauthorization_required`) against the fake Microsoft.
   */
  owns?: (owner: MailboxOwner) => boolean;
  /**
   * The local stand-in for the table's stream to the scanner: the sync worker stores attachments
   * `pending`, as in AWS, and this scans them after the write.
   */
  scans: LocalScanStream;
  report: Reporter;
}

export interface LocalGraphRuntimeStats {
  /** Webhook answers by HTTP status (validation handshakes included: 200). */
  webhook: Record<string, number>;
  sync: SqsPollerStats;
  safetySyncRuns: number;
  renewalRuns: number;
  /** What the handlers counted (the Metrics port): graph.notification_accepted, graph.notification_rejected… */
  metrics: Record<string, number>;
}

export interface LocalGraphRuntime {
  queue: { endpoint: string; queueUrl: string };
  /** For connecting mailboxes (the sandbox's demo mailbox) with the runtime's own Graph client. */
  lifecycle: GraphLifecycleDeps;
  /** POST /webhooks/graph and /webhooks/graph/lifecycle, answered exactly as the Lambda answers them. */
  webhook(event: GraphWebhookEvent): Promise<APIGatewayProxyStructuredResultV2>;
  /** Starts the timers; the first safety sync is enqueued at once. */
  startSchedules(): void;
  stats(): LocalGraphRuntimeStats;
  stop(): Promise<void>;
}

export async function startLocalGraphRuntime(options: LocalGraphRuntimeOptions): Promise<LocalGraphRuntime> {
  const { stack, queues, report } = options;
  const queueUrl = queueUrlOf(queues, GRAPH_SYNC_QUEUE.name);
  const metrics = new CountingMetrics();
  const queue = new SqsJobQueue(queues.client, queueUrl);
  const graph = new MicrosoftGraphConnector(options.graph);
  const directory = scopedDirectory(stack.directory, options.owns);

  const notifyDeps: GraphNotifyDeps = { ...stack.deps, directory: stack.directory, queue, metrics };
  const syncDeps: GraphSyncHandlerDeps = {
    ...stack.deps,
    // As the Lambda: attachments are stored encrypted and `pending`, and the scanner (here the local
    // stream to the production scanner handler) decides them after the write.
    repo: options.scans.watch(stack.deps.repo),
    scanner: new DeferredScanner(),
    graph,
    directory: stack.directory,
    metrics,
    settings: options.settings,
    queue,
    deferral: new SqsJobDeferral(queues.client, queueUrl),
    // The handler hands a throttled job to a fresh one before the queue would dead-letter it: it must
    // know the queue's real maxReceiveCount, which is the one created above.
    maxReceiveCount: GRAPH_SYNC_QUEUE.maxReceiveCount,
    transientRetrySeconds: GRAPH_SYNC_QUEUE.visibilityTimeoutSeconds,
  };
  const lifecycle: GraphLifecycleDeps = { ...stack.deps, directory, graph, metrics, settings: options.settings };

  const poller = new SqsPoller({
    client: queues.client,
    queueUrl,
    functionName: 'graph-sync',
    // Lambda scales a FIFO event source by message group (one mailbox's jobs never run at once, other
    // mailboxes' do); a few pollers stand in for those concurrent invocations.
    concurrency: SYNC_POLLERS,
    handler: reportingSyncHandler({
      name: 'graph sync',
      handler: makeSyncHandler(syncDeps, quietPowertoolsMetrics()),
      repo: stack.deps.repo,
      visibilityTimeoutSeconds: GRAPH_SYNC_QUEUE.visibilityTimeoutSeconds,
      report,
    }),
  });

  const notify = countingWebhook('graph', 'Graph', handleGraphWebhook(notifyDeps), report);
  let safetySyncRuns = 0;
  let renewalRuns = 0;
  const timers: Repeater[] = [];

  await poller.start();
  return {
    queue: { endpoint: queues.endpoint, queueUrl },
    lifecycle,
    webhook: notify.webhook,
    startSchedules() {
      if (timers.length > 0) return;
      const safetyMs = options.safetySyncSeconds * 1000;
      timers.push(
        repeat(safetyMs, true, async () => {
          // The slot (and so the deduplication id) changes every period: each run is one job per mailbox.
          await enqueueSafetySyncs({ directory, queue, clock: stack.deps.clock }, 'graph', options.safetySyncSeconds / 60);
          safetySyncRuns++;
        }, (error) => report.warn(`graph safety sync: could not enqueue (${describe(error)}); trying again in ${options.safetySyncSeconds} s`)),
        repeat(GRAPH_RENEWAL_PERIOD_MS, false, async () => {
          const renewal = await renewGraphSubscriptions(lifecycle);
          renewalRuns++;
          if (renewal.failed > 0 || renewal.reauthorizationRequired > 0) report.warn(`graph subscription renewal: ${renewal.renewed} renewed, ${renewal.failed} failed, ${renewal.reauthorizationRequired} need reauthorization`);
        }, (error) => report.warn(`graph subscription renewal failed (${describe(error)}); trying again in ${GRAPH_RENEWAL_PERIOD_MS / 3_600_000} h`)),
      );
    },
    stats: () => ({ webhook: notify.counts(), sync: { ...poller.stats }, safetySyncRuns, renewalRuns, metrics: Object.fromEntries(metrics.counts) }),
    async stop() {
      await Promise.all(timers.map((timer) => timer.stop()));
      await poller.stop();
    },
  };
}
