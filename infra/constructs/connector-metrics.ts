// The connectors' own metrics as CloudWatch sees them: our namespace, one `service` dimension per
// function that counts (no tenant or mailbox ever a dimension).
import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

export const METRIC_NAMESPACE = 'mail2ticket';

/** One of our metrics as the function of `service` counts it. */
export function appMetric(metricName: string, service: string, period: Duration, statistic: string = cloudwatch.Stats.SUM): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName, dimensionsMap: { service }, statistic, period });
}

/** A metric counted by the sync worker and by the scheduled jobs, each under its own service: their sum. */
export function countedBySyncAndSchedule(metricName: string, services: { sync: string; schedule: string }, period: Duration): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'FILL(sync, 0) + FILL(schedule, 0)',
    usingMetrics: { sync: appMetric(metricName, services.sync, period), schedule: appMetric(metricName, services.schedule, period) },
    period,
    label: metricName,
  });
}
