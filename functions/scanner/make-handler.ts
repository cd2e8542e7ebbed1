// DynamoDB stream consumer: every attachment written `pending` (ingest in AWS stores the bytes
// encrypted and defers the verdict) is decrypted from S3 and streamed to the function's own clamd.
// The event source mapping filters to pending attachment items; the handler checks again and ignores
// anything else. Records are taken in order; at the first one that cannot get a verdict the rest of
// the batch is reported as failed, so the stream retries from that record (and what went before is
// not scanned twice).
//
// The same function runs the hourly backstop, `{"task":"rescan-pending"}` from EventBridge Scheduler:
// attachments still pending well after ingestion (their stream batch failed every retry, or they
// predate the scanner) are scanned the same way (shared/domain/scan.ts rescanPendingAttachments).
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { ScannerMetrics } from '../../shared/adapters/clamav/scanner-metrics.js';
import { logger } from '../../shared/adapters/system/observability.js';
import { rescanPendingAttachments, scanStoredAttachment, type AttachmentRef, type PendingRescanDeps, type PendingRescanReport, type ScanOutcome } from '../../shared/domain/scan.js';

/** The scheduled task's payload (infra/constructs/scanner.ts sends exactly this). */
export const RESCAN_PENDING_TASK = { task: 'rescan-pending' } as const;
export type ScannerTask = typeof RESCAN_PENDING_TASK;

/** The stream normally decides within seconds; after this the backstop takes an attachment over. */
export const RESCAN_GRACE_MS = 30 * 60_000;
/**
 * No scan starts with less than this left before the Lambda timeout: a scan may take up to clamd's
 * per-scan timeout (120 s, ClamdDaemon) plus the reads and writes around it.
 */
export const RESCAN_RESERVE_MS = 150_000;

export const RESCAN_METRICS = { rescanned: 'attachments_rescanned', stillPending: 'attachments_still_pending' } as const;

export interface ScannerHandlerDeps {
  /** Everything a scan needs, and what the backstop needs to find pending attachments (tenants, clock). */
  scan: PendingRescanDeps;
  /** Resolves once clamd answers (started at cold start, again if it died), with the definitions' age. */
  ready(): Promise<{ ageHours: number | null }>;
  metrics: ScannerMetrics;
  /** Defaults RESCAN_GRACE_MS and RESCAN_RESERVE_MS. */
  rescan?: { graceMs?: number; reserveMs?: number };
}

/** What the scheduled run returns (and logs): counts only. */
export type RescanSummary = PendingRescanReport;

/** Lambda's context, of which only the time left matters (absent outside Lambda: no deadline). */
export type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'>;

export interface StreamBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** The attachment a record asks to scan: an INSERT or MODIFY leaving a `pending` attachment item. */
export function pendingAttachment(record: DynamoDBRecord): AttachmentRef | null {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return null;
  const image = record.dynamodb?.NewImage;
  if (image?.entity?.S !== 'attachment' || image.scan?.S !== 'pending') return null;
  const tenantId = image.tenantId?.S;
  const ticketId = image.ticketId?.S;
  const messageId = image.messageId?.S;
  const attachmentId = image.attachmentId?.S;
  if (!tenantId || !ticketId || !messageId || !attachmentId) return null;
  return { tenantId, ticketId, messageId, attachmentId };
}

export function isScannerTask(event: unknown): event is ScannerTask {
  return typeof event === 'object' && event !== null && (event as { task?: unknown }).task === RESCAN_PENDING_TASK.task;
}

export function makeHandler(deps: ScannerHandlerDeps) {
  let coldStart = true;
  const isColdStart = () => {
    const first = coldStart;
    coldStart = false;
    return first;
  };
  async function handler(event: DynamoDBStreamEvent, context?: InvocationContext): Promise<StreamBatchResponse>;
  async function handler(event: ScannerTask, context?: InvocationContext): Promise<RescanSummary>;
  async function handler(event: DynamoDBStreamEvent | ScannerTask, context?: InvocationContext): Promise<StreamBatchResponse | RescanSummary> {
    try {
      if (isScannerTask(event)) return await rescanPending(deps, isColdStart, context);
      if (!Array.isArray((event as Partial<DynamoDBStreamEvent>).Records)) throw new Error(`the scanner takes DynamoDB stream batches or {"task":"${RESCAN_PENDING_TASK.task}"}`);
      return await scanBatch(deps, event.Records, isColdStart);
    } finally {
      deps.metrics.flush();
    }
  }
  return handler;
}

/** The hourly backstop: every tenant's pending attachments past the grace, within the time budget. */
async function rescanPending(deps: ScannerHandlerDeps, isColdStart: () => boolean, context: InvocationContext | undefined): Promise<RescanSummary> {
  const reserveMs = deps.rescan?.reserveMs ?? RESCAN_RESERVE_MS;
  let scanning = true;
  try {
    const { ageHours } = await deps.ready();
    if (isColdStart() && ageHours !== null) deps.metrics.gauge('definitions_age_hours', ageHours);
  } catch (error) {
    // No clamd: nothing can be scanned, but what is due is still counted, so the alarm on
    // attachments_still_pending sees it (the next hour tries a new start).
    logger.error('clamd unavailable', { error: errorName(error), detail: error instanceof Error ? error.message : undefined });
    deps.metrics.count('scan_errors');
    scanning = false;
  }
  const report = await rescanPendingAttachments(deps.scan, {
    graceMs: deps.rescan?.graceMs ?? RESCAN_GRACE_MS,
    mayStart: () => !context || context.getRemainingTimeInMillis() > reserveMs,
    scanning,
    onScanned: (attachment, result) => {
      if (result.outcome !== 'error') return recordOutcome(deps, attachment, result);
      logger.error('scan failed', { attachmentId: attachment.attachmentId, error: errorName(result.error) });
      deps.metrics.count('scan_errors');
    },
  });
  const summary: RescanSummary = report;
  // Both always, zeros included: the alarm tells "nothing left pending" from "no run".
  deps.metrics.count(RESCAN_METRICS.rescanned, summary.rescanned);
  deps.metrics.count(RESCAN_METRICS.stillPending, summary.stillPending);
  logger.info('pending attachments rescanned', { ...summary });
  return summary;
}

async function scanBatch(deps: ScannerHandlerDeps, records: DynamoDBRecord[], isColdStart: () => boolean): Promise<StreamBatchResponse> {
  const work = records.map((record) => ({ record, attachment: pendingAttachment(record) }));
  const firstRelevant = work.findIndex((w) => w.attachment !== null);
  if (firstRelevant === -1) return { batchItemFailures: [] };

  try {
    const { ageHours } = await deps.ready();
    if (isColdStart() && ageHours !== null) deps.metrics.gauge('definitions_age_hours', ageHours);
  } catch (error) {
    // No clamd: nothing in this batch can get a verdict. The stream retries it (a new start is tried then).
    logger.error('clamd unavailable', { error: errorName(error), detail: error instanceof Error ? error.message : undefined });
    deps.metrics.count('scan_errors', work.filter((w) => w.attachment).length);
    return failuresFrom(work.map((w) => w.record), firstRelevant);
  }

  for (const [index, { record, attachment }] of work.entries()) {
    if (!attachment) continue;
    let outcome: ScanOutcome;
    try {
      outcome = await scanStoredAttachment(deps.scan, attachment);
    } catch (error) {
      // DynamoDB, S3 or KMS trouble: the stream retries.
      logger.error('scan failed', { attachmentId: attachment.attachmentId, error: errorName(error) });
      deps.metrics.count('scan_errors');
      return failuresFrom(work.map((w) => w.record), index);
    }
    recordOutcome(deps, attachment, outcome);
    if (outcome.outcome === 'held' && outcome.retry) return failuresFrom(work.map((w) => w.record), index);
  }
  return { batchItemFailures: [] };
}

/** One log line (ids only) and the verdict's counter; the same for the stream and the backstop. */
function recordOutcome(deps: ScannerHandlerDeps, attachment: AttachmentRef, outcome: ScanOutcome): void {
  logger.info('attachment scan', {
    attachmentId: attachment.attachmentId,
    outcome: outcome.outcome,
    ...('reason' in outcome ? { reason: outcome.reason } : {}),
    ...(outcome.outcome === 'infected' ? { signature: outcome.signature } : {}),
  });
  if (outcome.outcome === 'clean') deps.metrics.count('attachments_scanned_clean');
  else if (outcome.outcome === 'infected') deps.metrics.count('attachments_infected');
  else if (outcome.outcome === 'held') deps.metrics.count('scan_errors');
}

/** This record and every later one: Lambda retries from the lowest reported sequence number. */
function failuresFrom(records: DynamoDBRecord[], index: number): StreamBatchResponse {
  return {
    batchItemFailures: records
      .slice(index)
      .map((r) => r.dynamodb?.SequenceNumber)
      .filter((s): s is string => typeof s === 'string')
      .map((itemIdentifier) => ({ itemIdentifier })),
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
