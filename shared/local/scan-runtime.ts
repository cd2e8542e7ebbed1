// npm start's attachment scanner as AWS runs it. There, the sync workers store every attachment
// encrypted and `pending` (DeferredScanner: never served until decided), DynamoDB's stream hands each
// pending attachment item to the scanner function, which decrypts it, streams it to clamd and writes
// the verdict; a failed record is retried, and an hourly backstop takes over what the stream lost.
// dynalite has no streams, so this stands in for the stream (as ttl-emulator.ts does for the purge
// stream): the local sync workers' repository is `watch`ed — after each writeIngested, every pending
// attachment item is read back as stored and handed, as a record of the production shape, to the
// PRODUCTION handler (functions/scanner/make-handler.ts) with the stack's clamd. The backstop is the
// production handler's own `rescan-pending` task, at start and hourly.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { makeHandler, RESCAN_PENDING_TASK, type StreamBatchResponse } from '../../functions/scanner/make-handler.js';
import { RecordedScannerMetrics } from '../adapters/clamav/scanner-metrics.js';
import { attachmentSk, ticketPk } from '../adapters/dynamodb/keys.js';
import type { IngestedWrite, TicketRepository } from '../domain/ports.js';
import { ping } from './clamd.js';
import { describe, repeat, type Repeater } from './connector-runtime.js';
import type { Reporter } from './reporter.js';
import type { LocalStack } from './stack.js';

/** As the deployed event source mapping (infra/constructs/scanner.ts): up to ten records a batch. */
export const SCAN_STREAM_BATCH_SIZE = 10;
/** The backstop runs hourly in AWS, and here; here also at start (see below). */
export const LOCAL_RESCAN_SECONDS = 3600;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

export type StreamDelivery = (event: DynamoDBStreamEvent) => Promise<StreamBatchResponse>;

export interface LocalScanStreamOptions {
  stack: LocalStack;
  report: Reporter;
  /** The longest wait before a failed record is tried again (doubling from one second up to it). */
  retryMaxMs?: number;
  /**
   * Stands between the emulated stream and the production handler; a test holds a batch back with it
   * to see the attachments `pending` before their verdict.
   */
  intercept?: (event: DynamoDBStreamEvent, deliver: StreamDelivery) => Promise<StreamBatchResponse>;
}

export interface LocalScanStreamStats {
  /** Records handed to the handler (a retried record counts each time). */
  delivered: number;
  /** Records the handler reported failed (and that were queued again). */
  failed: number;
  /** Records waiting: new, or failed and waiting for their retry. */
  queued: number;
  backstopRuns: number;
  /** What the handler counted: attachments_scanned_clean, attachments_infected, scan_errors… */
  metrics: Record<string, number>;
}

export interface LocalScanStream {
  /**
   * The repository the local sync workers ingest through: the same one, whose writeIngested also
   * puts the pending attachment items it wrote on the stream.
   */
  watch<R extends Pick<TicketRepository, 'writeIngested'>>(repo: R): R;
  stats(): LocalScanStreamStats;
  /** Stops the backstop and the stream, waiting for a batch under way; what is still queued stays pending for the next start's backstop. */
  stop(): Promise<void>;
}

interface Queued {
  record: DynamoDBRecord;
  attempts: number;
  dueAt: number;
}

export function startLocalScanStream(options: LocalScanStreamOptions): LocalScanStream {
  const { stack, report } = options;
  const metrics = new RecordedScannerMetrics();
  const clamdSocket = stack.endpoints.clamdSocket;
  const handler = makeHandler({
    scan: { repo: stack.deps.repo, blobs: stack.deps.blobs, keys: stack.deps.keys, scanner: stack.deps.scanner, tenants: stack.consent.store, clock: stack.deps.clock },
    ready: async () => {
      // clamd started with the stack (local test signatures; their age is not tracked here).
      if (clamdSocket) {
        if (await ping(clamdSocket)) return { ageHours: null };
        throw new Error('clamd does not answer');
      }
      // A scanner the caller brought (tests) tells its own trouble by its verdicts.
      if (stack.scannerAvailable) return { ageHours: null };
      throw new Error('ClamAV is not installed');
    },
    metrics,
    // The stream here lives in memory: a restart loses what it held, which the backstop at start
    // finds. No grace, then: a backstop scan beside the stream's is harmless (scanStoredAttachment
    // decides each attachment once), and nothing is left waiting for an hour.
    rescan: { graceMs: 0 },
  });
  const deliver: StreamDelivery = (event) => handler(event);
  const retryMaxMs = options.retryMaxMs ?? RETRY_MAX_MS;

  const queue: Queued[] = [];
  let sequence = 0;
  let delivered = 0;
  let failed = 0;
  let backstopRuns = 0;
  let failing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;

  const wake = () => {
    if (stopped || pumping) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    pumping = pump()
      .catch((error: unknown) => report.warn(`scanner: the local stream failed (${describe(error)})`))
      .finally(() => {
        pumping = undefined;
        schedule();
      });
  };
  const schedule = () => {
    if (stopped || pumping || queue.length === 0) return;
    const next = Math.min(...queue.map((q) => q.dueAt));
    if (timer) clearTimeout(timer);
    timer = setTimeout(wake, Math.max(0, next - Date.now()));
  };

  async function pump(): Promise<void> {
    for (;;) {
      if (stopped) return;
      const now = Date.now();
      const batch = queue.filter((q) => q.dueAt <= now).slice(0, SCAN_STREAM_BATCH_SIZE);
      if (batch.length === 0) return;
      const event: DynamoDBStreamEvent = { Records: batch.map((q) => q.record) };
      let response: StreamBatchResponse;
      try {
        response = options.intercept ? await options.intercept(event, deliver) : await deliver(event);
      } catch {
        // A handler that throws fails the whole batch, as Lambda retries it.
        response = { batchItemFailures: batch.map((q) => ({ itemIdentifier: q.record.dynamodb?.SequenceNumber ?? '' })) };
      }
      delivered += batch.length;
      const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const entry of batch) {
        if (failedIds.has(entry.record.dynamodb?.SequenceNumber ?? '')) {
          // Unlike a shard, a failed record holds back no newer one: each scan stands alone, and one
          // that keeps failing (its tenant's key deleted meanwhile, say) must not stop the others.
          entry.attempts++;
          entry.dueAt = Date.now() + Math.min(RETRY_FIRST_MS * 2 ** (entry.attempts - 1), retryMaxMs);
          failed++;
        } else {
          queue.splice(queue.indexOf(entry), 1);
        }
      }
      if (failedIds.size > 0 && !failing) {
        failing = true;
        report.warn(`scanner: attachments wait for a verdict (clamd unavailable or a store failed); they stay pending, never served, and are tried again (at least every ${Math.round(retryMaxMs / 1000)} s)`);
      } else if (failedIds.size === 0 && failing && queue.every((q) => q.attempts === 0)) {
        failing = false;
        report.info('scanner: scanning again; the attachments that waited have their verdicts');
      }
    }
  }

  /** The stream's records for the pending attachment items of a write, built from the items as stored. */
  async function announce(write: IngestedWrite): Promise<void> {
    for (const attachment of write.attachments) {
      if (attachment.scan !== 'pending') continue;
      const Key = { PK: { S: ticketPk(attachment.tenantId, attachment.ticketId) }, SK: { S: attachmentSk(attachment.messageId, attachment.attachmentId) } };
      const { Item } = await stack.dynamo.client.send(new GetItemCommand({ TableName: stack.dynamo.tableName, Key, ConsistentRead: true }));
      // The event source mapping's filter: pending attachment items only.
      if (Item?.entity?.S !== 'attachment' || Item.scan?.S !== 'pending') continue;
      sequence++;
      queue.push({
        attempts: 0,
        dueAt: 0,
        record: {
          eventID: `local-scan-${sequence}`,
          // An ingestion retry re-putting the item would be a MODIFY; the handler treats both alike.
          eventName: 'INSERT',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: 'local',
          dynamodb: {
            ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
            // The production types model AttributeValue loosely; the shapes are the same.
            Keys: Key as never,
            NewImage: Item as never,
            SequenceNumber: String(sequence).padStart(21, '0'),
            SizeBytes: JSON.stringify(Item).length,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
        },
      });
    }
    wake();
  }

  const backstop: Repeater = repeat(
    LOCAL_RESCAN_SECONDS * 1000,
    true,
    async () => {
      const summary = await handler(RESCAN_PENDING_TASK);
      backstopRuns++;
      if (summary.rescanned > 0 || summary.stillPending > 0) report.info(`scanner: backstop scanned ${summary.rescanned} pending attachment(s); ${summary.stillPending} still pending`);
    },
    (error) => report.warn(`scanner: the backstop failed (${describe(error)}); it runs again in ${LOCAL_RESCAN_SECONDS / 60} min`),
  );

  return {
    watch(repo) {
      // The repository itself, but for writeIngested: every other call reaches the same instance.
      const watched = Object.create(repo) as typeof repo;
      watched.writeIngested = async (write: IngestedWrite) => {
        await repo.writeIngested(write);
        // The write stands whatever happens here; an attachment whose record is lost stays pending
        // (never served) until the backstop finds it.
        await announce(write).catch((error: unknown) => report.warn(`scanner: a pending attachment did not reach the local stream (${describe(error)}); the backstop scans it`));
      };
      return watched;
    },
    stats: () => ({ delivered, failed, queued: queue.length, backstopRuns, metrics: Object.fromEntries(metrics.counts) }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await backstop.stop();
      await pumping;
    },
  };
}
