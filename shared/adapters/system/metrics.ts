// The Metrics port: CloudWatch embedded metrics through Powertools in Lambda, a plain counter
// elsewhere (CLI, npm start, tests read it). Dimensions stay at the service level: never a tenant,
// mailbox or address.
import { MetricUnit, type Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '../../domain/ports.js';

export class PowertoolsMetrics implements Metrics {
  constructor(private readonly metrics: PowertoolsMetricsClient) {}

  count(name: string, value = 1): void {
    this.metrics.addMetric(name, MetricUnit.Count, value);
  }
}

export class CountingMetrics implements Metrics {
  readonly counts = new Map<string, number>();

  count(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
}
