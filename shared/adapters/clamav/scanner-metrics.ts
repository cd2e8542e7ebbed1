// The scanner functions' metrics: counters and one gauge (definitions_age_hours), flushed explicitly
// at the end of every invocation, success or failure. Service-level only: no tenant or mailbox dimension.
import { MetricUnit, type Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '../../domain/ports.js';

export interface ScannerMetrics extends Metrics {
  gauge(name: string, value: number): void;
  /** Publishes what was recorded since the last flush (nothing when nothing was). */
  flush(): void;
}

export class PowertoolsScannerMetrics implements ScannerMetrics {
  private recorded = 0;

  constructor(private readonly metrics: PowertoolsMetricsClient) {}

  count(name: string, value = 1): void {
    this.metrics.addMetric(name, MetricUnit.Count, value);
    this.recorded++;
  }

  gauge(name: string, value: number): void {
    this.metrics.addMetric(name, MetricUnit.NoUnit, value);
    this.recorded++;
  }

  flush(): void {
    if (this.recorded === 0) return; // an empty flush only logs a warning
    this.recorded = 0;
    this.metrics.publishStoredMetrics();
  }
}

/** Keeps what would be published (npm start, tests): counters summed, gauges' values in order. */
export class RecordedScannerMetrics implements ScannerMetrics {
  readonly counts = new Map<string, number>();
  readonly gauges = new Map<string, number[]>();
  flushes = 0;

  count(name: string, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  gauge(name: string, value: number): void {
    this.gauges.set(name, [...(this.gauges.get(name) ?? []), value]);
  }

  flush(): void {
    this.flushes++;
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
}
