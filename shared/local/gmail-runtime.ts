// The Gmail connector as AWS runs it, on this machine, with the Lambdas' own handlers:
//   push webhook  — API Gateway + Lambda there; `handlePush` behind npm start's server here;
//   sync queue    — an SQS FIFO queue there; the same queue on fauxqs (loopback) here;
//   sync worker   — Lambda's SQS event source there; SqsPoller running the same `makeHandler` here;
//   schedules     — EventBridge Scheduler there; timers here: a safety sync per mailbox every period
//                   (one at start too: queued jobs live in memory, so whatever a restart lost is
//                   caught up at once) and the daily watch renewal.
// The caller brings the Gmail side (the sandbox's fake Google, its OAuth client) and the keys push
// tokens are verified with.
import type { APIGatewayProxyStructuredResultV2, Context, SQSEvent } from 'aws-lambda';
import { handlePush } from '../../functions/gmail-push/make-handler.js';
import { makeHandler as makeSyncHandler, type GmailSyncHandlerDeps } from '../../functions/gmail-sync/make-handler.js';
import { GoogleGmailConnector, type GoogleGmailOptions } from '../adapters/gmail/google-gmail-connector.js';
import { SqsJobDeferral, SqsJobQueue } from '../adapters/sqs/sqs-job-queue.js';
import { CountingMetrics } from '../adapters/system/metrics.js';
import type { GmailWorkerSettings } from '../config.js';
import { enqueueSafetySyncs, renewGmailWatches, type GmailLifecycleDeps } from '../domain/gmail/lifecycle.js';
import type { PushVerifier } from '../domain/gmail/ports.js';
import type { GmailPushDeps } from '../domain/gmail/push.js';
import type { MailboxDirectory, MailboxOwner } from '../domain/ports.js';
import type { HttpApiRequest } from './http.js';
import { startLocalQueues } from './queues.js';
import type { Reporter } from './reporter.js';
import { SqsPoller, type SqsPollerStats } from './sqs-poller.js';
import type { LocalStack } from './stack.js';

/** The local sync queue: `gmail-sync.fifo` with its dead-letter queue, like the deployed one. */
export const GMAIL_SYNC_QUEUE = { name: 'gmail-sync', visibilityTimeoutSeconds: 30, maxReceiveCount: 8 } as const;
const RENEWAL_PERIOD_MS = 24 * 3600 * 1000;

export interface LocalGmailRuntimeOptions {
  stack: LocalStack;
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
  const { stack, report } = options;
  const queues = await startLocalQueues({ queues: [GMAIL_SYNC_QUEUE] });
  const { queueUrl } = queues.urls[GMAIL_SYNC_QUEUE.name] as { queueUrl: string };
  const metrics = new CountingMetrics();
  const queue = new SqsJobQueue(queues.client, queueUrl);
  const gmail = new GoogleGmailConnector(options.google);
  const directory = scopedDirectory(stack.directory, options.owns);

  const pushDeps: GmailPushDeps = { verifier: options.verifier, directory: stack.directory, repo: stack.deps.repo, keys: stack.deps.keys, queue, metrics };
  const syncDeps: GmailSyncHandlerDeps = {
    ...stack.deps,
    gmail,
    metrics,
    settings: options.settings,
    queue,
    deferral: new SqsJobDeferral(queues.client, queueUrl),
    // The handler hands a throttled job to a fresh one before the queue would dead-letter it: it must
    // know the queue's real maxReceiveCount, which is the one created above.
    maxReceiveCount: GMAIL_SYNC_QUEUE.maxReceiveCount,
  };
  const lifecycle: GmailLifecycleDeps = { ...stack.deps, directory, gmail, metrics, settings: { topicName: options.settings.topicName } };

  const handler = makeSyncHandler(syncDeps, quietPowertoolsMetrics());
  const poller = new SqsPoller({
    client: queues.client,
    queueUrl,
    functionName: 'gmail-sync',
    handler: async (event: SQSEvent, context: Context) => {
      const started = new Date().toISOString();
      const response = await handler(event, context);
      const failed = response?.batchItemFailures.length ?? 0;
      if (failed > 0) report.warn(`gmail sync: ${failed} of ${event.Records.length} job(s) failed; the queue hands them back after ${GMAIL_SYNC_QUEUE.visibilityTimeoutSeconds} s`);
      await reportNewMail(event, started);
      return response;
    },
  });

  /** One line per mailbox a batch brought new mail into, naming what caused the sync (push or safety). */
  async function reportNewMail(event: SQSEvent, since: string): Promise<void> {
    const jobs = new Map<string, { owner: MailboxOwner; reasons: Set<string> }>();
    for (const record of event.Records) {
      const job = parseJobOwner(record.body);
      if (!job) continue;
      const key = `${job.tenantId}/${job.mailboxId}`;
      const entry = jobs.get(key) ?? { owner: job, reasons: new Set<string>() };
      entry.reasons.add(job.reason);
      jobs.set(key, entry);
    }
    for (const [key, { owner, reasons }] of jobs) {
      const mailbox = await stack.deps.repo.getMailbox(owner.tenantId, owner.mailboxId).catch(() => undefined);
      const changed = mailbox?.connection?.lastChangeAt;
      if (changed && changed >= since) report.info(`gmail sync (${[...reasons].join(', ')}): new mail in ${key} → npm run --silent cli -- tickets list`);
    }
  }

  const webhookCounts: Record<string, number> = {};
  const push = handlePush(pushDeps);
  let safetySyncRuns = 0;
  const timers: Repeater[] = [];

  try {
    await poller.start();
  } catch (error) {
    await queues.stop();
    throw error;
  }
  return {
    queue: { endpoint: queues.endpoint, queueUrl },
    lifecycle,
    async webhook(request) {
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = await push(request);
      } catch (error) {
        // What API Gateway answers for a Lambda that threw; Pub/Sub retries it.
        report.warn(`gmail webhook: ${(error as Error).name ?? 'error'} (answered 500; Pub/Sub would retry)`);
        result = { statusCode: 500 };
      }
      const status = String(result.statusCode ?? 200);
      webhookCounts[status] = (webhookCounts[status] ?? 0) + 1;
      return result;
    },
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
    stats: () => ({ webhook: { ...webhookCounts }, sync: { ...poller.stats }, safetySyncRuns, metrics: Object.fromEntries(metrics.counts) }),
    async stop() {
      await Promise.all(timers.map((timer) => timer.stop()));
      await poller.stop();
      await queues.stop();
    },
  };
}

/** A directory whose listing (what the schedules walk) holds only the mailboxes `owns` accepts. */
function scopedDirectory(directory: MailboxDirectory, owns: ((owner: MailboxOwner) => boolean) | undefined): MailboxDirectory {
  if (!owns) return directory;
  return {
    claimAddress: (provider, addressIndex, owner) => directory.claimAddress(provider, addressIndex, owner),
    findAddress: (provider, addressIndex) => directory.findAddress(provider, addressIndex),
    releaseAddress: (provider, addressIndex, owner) => directory.releaseAddress(provider, addressIndex, owner),
    listConnected: async (provider) => (await directory.listConnected(provider)).filter(owns),
  };
}

/** The owner and reason of a queued sync job, for the terminal; undefined for anything else. */
function parseJobOwner(body: string): (MailboxOwner & { reason: string }) | undefined {
  try {
    const job = JSON.parse(body) as { tenantId?: unknown; mailboxId?: unknown; reason?: unknown };
    if (typeof job.tenantId !== 'string' || typeof job.mailboxId !== 'string' || typeof job.reason !== 'string') return undefined;
    return { tenantId: job.tenantId, mailboxId: job.mailboxId, reason: job.reason };
  } catch {
    return undefined;
  }
}

/**
 * Powertools Metrics prints EMF JSON to stdout outside Lambda, and stdout is the terminal here. The
 * middleware only flushes (no cold-start metric or default dimensions are configured); the handler's
 * own counts go through the Metrics port to CountingMetrics.
 */
function quietPowertoolsMetrics(): Parameters<typeof makeSyncHandler>[1] {
  // A structural stand-in for the Powertools class: the cast is limited to the one method the middleware calls.
  return { publishStoredMetrics: () => undefined } as unknown as Parameters<typeof makeSyncHandler>[1];
}

interface Repeater {
  /** Clears the timer and waits for a run under way. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `periodMs`, never two at once (the next wait starts when a run ends), at once
 * first when `immediately`. A failed run is reported and the schedule goes on.
 */
function repeat(periodMs: number, immediately: boolean, task: () => Promise<void>, onError: (error: unknown) => void): Repeater {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    timer = undefined;
    running = task()
      .catch(onError)
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(run, periodMs);
      });
  };
  if (immediately) run();
  else timer = setTimeout(run, periodMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}
