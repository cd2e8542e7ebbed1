// The daily backstop: purges every mailbox due before the next run plus a day, rechecks recent
// disconnects and purges, and deletes closed accounts' own records at their deadline. Finding
// anything at a deadline is a signal (a lost stream record, a late TTL): it is counted in a metric
// that raises an alarm.
// The same run then removes, from live mailboxes, the objects of ingestions that never completed and
// that nothing names (shared/domain/orphans.ts); that count is a metric too (orphan_objects_deleted).
// Invoked by hand with {"task":"reapply"} after a table restore (README runbook), it first turns the
// table's TTL and stream back on, then re-applies every tombstone.
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from '../../shared/adapters/system/observability.js';
import type { KeyService, TableSafeguards } from '../../shared/domain/ports.js';
import { sweepOrphanObjects, type OrphanSweepReport } from '../../shared/domain/orphans.js';
import { reapplyTombstones, sweepDueMailboxes, type ReapplyReport, type RetentionDeps, type SweepReport } from '../../shared/domain/retention.js';

export type SweeperResult = SweepReport & { orphans: OrphanSweepReport };

/** Time kept back from the function's timeout to finish the mailbox under way and publish the counts. */
const ORPHAN_SWEEP_MARGIN_MS = 60_000;

export function makeHandler(deps: RetentionDeps & { table?: TableSafeguards; keys: KeyService }, metrics = new Metrics({ namespace: 'mail2ticket', serviceName: 'sweeper' })) {
  return async (event?: { task?: unknown }, context?: { getRemainingTimeInMillis(): number }): Promise<SweeperResult | ReapplyReport> => {
    if (event?.task === 'reapply') {
      const report = await reapplyTombstones(deps);
      logger.info('tombstones re-applied after a restore', { tombstones: report.tombstones, items: report.items, objects: report.objects, ttl: report.table?.ttl, stream: report.table?.stream });
      logger.info('requester erasures replayed after a restore', { ...report.requesterErasures });
      return report;
    }
    const report = await sweepDueMailboxes(deps);
    // No tenant or mailbox ids as dimensions: counts only.
    metrics.addMetric('BackstopMailboxesPurged', MetricUnit.Count, report.mailboxes);
    metrics.addMetric('BackstopLeftoversFound', MetricUnit.Count, report.items + report.objects);
    // Items an ingestion under way wrote after a disconnect or a purge, found by its recheck: expected
    // now and then (no alarm), a trend worth seeing.
    metrics.addMetric('RecheckLateWritesFound', MetricUnit.Count, report.lateWrites);
    metrics.addMetric('ClosedTenantsPurged', MetricUnit.Count, report.tenants);
    logger.info('backstop sweep', { ...report });
    let orphans: OrphanSweepReport;
    try {
      // Stopping short of the timeout keeps the counts published and the run from failing. The listing
      // starts over each day, so `complete: false` in the log means the bucket outgrew one run.
      const stopAt = context ? deps.clock.now().getTime() + context.getRemainingTimeInMillis() - ORPHAN_SWEEP_MARGIN_MS : undefined;
      orphans = await sweepOrphanObjects(deps, stopAt === undefined ? {} : { stopAt });
      metrics.addMetric('orphan_objects_deleted', MetricUnit.Count, orphans.objects);
    } finally {
      // The backstop's counts are published even when the orphan sweep fails (the run is retried).
      metrics.publishStoredMetrics();
    }
    logger.info('orphan sweep', { mailboxes: orphans.mailboxes, skipped: orphans.skipped, ingestions: orphans.ingestions, objects: orphans.objects, complete: orphans.complete, ...orphans.byKind });
    return { ...report, orphans };
  };
}
