// The daily backstop: purges every mailbox due before the next run plus a day. Finding anything is
// a signal (a lost stream record, a late TTL): it is counted in a metric that raises an alarm.
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from '../../shared/adapters/system/observability.js';
import { sweepDueMailboxes, type RetentionDeps } from '../../shared/domain/retention.js';

export function makeHandler(deps: RetentionDeps, metrics = new Metrics({ namespace: 'mail2ticket', serviceName: 'sweeper' })) {
  return async (): Promise<{ mailboxes: number; items: number; objects: number }> => {
    const report = await sweepDueMailboxes(deps);
    // No tenant or mailbox ids as dimensions: counts only.
    metrics.addMetric('BackstopMailboxesPurged', MetricUnit.Count, report.mailboxes);
    metrics.addMetric('BackstopLeftoversFound', MetricUnit.Count, report.items + report.objects);
    metrics.publishStoredMetrics();
    logger.info('backstop sweep', { ...report });
    return report;
  };
}
