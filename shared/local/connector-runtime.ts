// What the local runtimes of the Gmail and Microsoft 365 connectors share: a webhook wrapper that
// answers as API Gateway does for a Lambda that threw, the sync worker's handler on a Lambda-style
// poller with one terminal line per mailbox that got new mail, the schedules' timers, and the
// scoping that keeps the schedules on the sandbox's own mailboxes.
import type { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { MailboxDirectory, MailboxOwner, TicketRepository } from '../domain/ports.js';
import type { LocalQueues } from './queues.js';
import type { Reporter } from './reporter.js';
import type { SqsBatchHandler } from './sqs-poller.js';

/**
 * The webhook as API Gateway runs it: a handler that throws is answered 500, which the sender
 * (`retriedBy`) retries. Counts the answers by HTTP status.
 */
export function countingWebhook<E>(
  name: string,
  retriedBy: string,
  handle: (event: E) => Promise<APIGatewayProxyStructuredResultV2>,
  report: Reporter,
): { webhook: (event: E) => Promise<APIGatewayProxyStructuredResultV2>; counts: () => Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    async webhook(event) {
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = await handle(event);
      } catch (error) {
        report.warn(`${name} webhook: ${describe(error)} (answered 500; ${retriedBy} would retry)`);
        result = { statusCode: 500 };
      }
      const status = String(result.statusCode ?? 200);
      counts[status] = (counts[status] ?? 0) + 1;
      return result;
    },
    counts: () => ({ ...counts }),
  };
}

/**
 * The sync worker's handler as the poller calls it, telling the terminal about failed jobs (the queue
 * hands them back) and, per mailbox, about new mail and what caused the sync (push or safety).
 */
export function reportingSyncHandler(options: {
  name: string;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;
  repo: Pick<TicketRepository, 'getMailbox'>;
  visibilityTimeoutSeconds: number;
  report: Reporter;
}): SqsBatchHandler {
  const { name, report } = options;
  return async (event, context) => {
    const started = new Date().toISOString();
    const response = await options.handler(event, context);
    const failed = response?.batchItemFailures.length ?? 0;
    if (failed > 0) report.warn(`${name}: ${failed} of ${event.Records.length} job(s) failed; the queue hands them back after ${options.visibilityTimeoutSeconds} s`);
    await reportNewMail(event, started);
    return response;
  };

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
      const mailbox = await options.repo.getMailbox(owner.tenantId, owner.mailboxId).catch(() => undefined);
      const changed = mailbox?.connection?.lastChangeAt;
      if (changed && changed >= since) report.info(`${name} (${[...reasons].join(', ')}): new mail in ${key} → npm run --silent cli -- tickets list`);
    }
  }
}

/** The URL of a queue the local SQS was started with. */
export function queueUrlOf(queues: LocalQueues, name: string): string {
  const urls = queues.urls[name];
  if (!urls) throw new Error(`the local SQS has no ${name} queue`);
  return urls.queueUrl;
}

/** A directory whose listing (what the schedules walk) holds only the mailboxes `owns` accepts. */
export function scopedDirectory(directory: MailboxDirectory, owns: ((owner: MailboxOwner) => boolean) | undefined): MailboxDirectory {
  if (!owns) return directory;
  return {
    claimAddress: (provider, addressIndex, owner, details) => directory.claimAddress(provider, addressIndex, owner, details),
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
 * middleware only flushes (no cold-start metric or default dimensions are configured); the handlers'
 * own counts go through the Metrics port to CountingMetrics.
 */
export function quietPowertoolsMetrics(): PowertoolsMetricsClient {
  // A structural stand-in for the Powertools class: the cast is limited to the one method the middleware calls.
  return { publishStoredMetrics: () => undefined } as unknown as PowertoolsMetricsClient;
}

export interface Repeater {
  /** Clears the timer and waits for a run under way. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `periodMs`, never two at once (the next wait starts when a run ends), at once
 * first when `immediately`. A failed run is reported and the schedule goes on.
 */
export function repeat(periodMs: number, immediately: boolean, task: () => Promise<void>, onError: (error: unknown) => void): Repeater {
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

export function describe(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}

/** Concurrent sync invocations npm start runs per connector (FIFO keeps each mailbox's jobs in order). */
export const SYNC_POLLERS = 4;
