// The daily backstop: purges every mailbox due before the next run plus a day. Finding anything is
// a signal (a lost stream record, a late TTL): it is counted in a metric that raises an alarm.
// Invoked by hand with {"task":"reapply"} after a table restore (README runbook), it first turns the
// table's TTL and stream back on, then re-applies every tombstone.
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from '../../shared/adapters/system/observability.js';
import type { TableSafeguards } from '../../shared/domain/ports.js';
import { reapplyTombstones, sweepDueMailboxes, type ReapplyReport, type RetentionDeps } from '../../shared/domain/retention.js';

export function makeHandler(deps: RetentionDeps & { table?: TableSafeguards }, metrics = new Metrics({ namespace: 'mail2ticket', serviceName: 'sweeper' })) {
  return async (event?: { task?: unknown }): Promise<{ mailboxes: number; items: number; objects: number } | ReapplyReport> => {
    if (event?.task === 'reapply') {
      const report = await reapplyTombstones(deps);
      logger.info('tombstones re-applied after a restore', { tombstones: report.tombstones, items: report.items, objects: report.objects, ttl: report.table?.ttl, stream: report.table?.stream });
      return report;
    }
    const report = await sweepDueMailboxes(deps);
    // No tenant or mailbox ids as dimensions: counts only.
    metrics.addMetric('BackstopMailboxesPurged', MetricUnit.Count, report.mailboxes);
    metrics.addMetric('BackstopLeftoversFound', MetricUnit.Count, report.items + report.objects);
    metrics.publishStoredMetrics();
    logger.info('backstop sweep', { ...report });
    return report;
  };
}
