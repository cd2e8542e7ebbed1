// `npm run bench [-- --json] [-- --only ingest|gmail|graph|e2e]`: every benchmark (or one suite's), one
// {"metric","value","unit"} JSON line per metric with --json, otherwise a table beside the targets.
import { runE2eBenchmarks } from './e2e.js';
import { runGmailBenchmarks } from './gmail.js';
import { runGraphBenchmarks } from './graph.js';
import { runIngestBenchmarks, type Metric } from './ingest.js';
import { runReliabilityBenchmarks } from './reliability.js';
import { runQueueReliabilityBenchmarks } from './reliability-queues.js';
import { runCrashReliabilityBenchmarks } from './reliability-crash.js';

export const TARGETS: Record<string, string> = {
  'ingest.throughput_ratio': '≥ 0.7',
  'ingest.overhead_ms_p50': '≤ 25',
  'ingest.rss_growth_mb_25mb': '≤ 64',
  'ingest.rss_growth_ratio_100_vs_25': '≤ 1.2',
  'ingest.aws_requests_per_message': '≤ 4',
  'gmail.webhook_bundle_kb': '≤ 300',
  'gmail.webhook_bundle_shipped_kb': '-',
  'gmail.webhook_cold_init_ratio': '≤ 1.3',
  'gmail.webhook_p99_ms': '< 50',
  'graph.webhook_bundle_kb': '≤ 300',
  'graph.webhook_bundle_shipped_kb': '-',
  'graph.webhook_cold_init_ratio': '≤ 1.3',
  'graph.webhook_p99_ms': '< 50',
  'e2e.push_to_ticket_p50_ms': '-',
  'e2e.push_to_ticket_p95_ms': '< 1000',
  'reliability.fuzz_cases': '≥ 2000',
  'reliability.fuzz_crashes': '0',
  'reliability.duplicate_storm_tickets': '= 1',
  'reliability.burst_messages_per_s': '-',
  'reliability.burst_peak_queue_depth': '-',
  'reliability.crash_points': '-',
  'reliability.crash_points_lost': '0',
  'reliability.crash_points_orphans': '-',
  'reliability.crash_points_orphans_after_sweep': '0',
};

const SUITES: Record<string, () => Promise<Metric[]>> = {
  ingest: runIngestBenchmarks,
  gmail: runGmailBenchmarks,
  graph: runGraphBenchmarks,
  e2e: runE2eBenchmarks,
  reliability: async () => [...(await runReliabilityBenchmarks()), ...(await runQueueReliabilityBenchmarks()), ...(await runCrashReliabilityBenchmarks())],
};

/** `--only gmail`, `--only=gmail` or `--only ingest,gmail`; every suite without it. */
function selectedSuites(argv: string[]): string[] {
  const at = argv.findIndex((arg) => arg === '--only' || arg.startsWith('--only='));
  if (at === -1) return Object.keys(SUITES);
  const arg = argv[at] as string;
  const value = arg === '--only' ? argv[at + 1] : arg.slice('--only='.length);
  const names = (value ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(name in SUITES));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes suite names from: ${Object.keys(SUITES).join(', ')} (got ${JSON.stringify(value ?? '')})`);
  }
  return names;
}

const json = process.argv.includes('--json');
const metrics: Metric[] = [];
for (const suite of selectedSuites(process.argv.slice(2))) metrics.push(...(await (SUITES[suite] as () => Promise<Metric[]>)()));
if (json) for (const m of metrics) process.stdout.write(`${JSON.stringify(m)}\n`);
else {
  for (const m of metrics) process.stdout.write(`${m.metric.padEnd(36)} ${String(m.value).padStart(10)} ${m.unit.padEnd(9)} target ${TARGETS[m.metric] ?? '-'}\n`);
}
