// `npm run bench [-- --json]`: every benchmark, one {"metric","value","unit"} JSON line per metric
// with --json, otherwise a table beside the targets.
import { runIngestBenchmarks } from './ingest.js';

export const TARGETS: Record<string, string> = {
  'ingest.throughput_ratio': '≥ 0.7',
  'ingest.overhead_ms_p50': '≤ 25',
  'ingest.rss_growth_mb_25mb': '≤ 64',
  'ingest.rss_growth_ratio_100_vs_25': '≤ 1.2',
  'ingest.aws_requests_per_message': '≤ 4',
};

const json = process.argv.includes('--json');
const metrics = await runIngestBenchmarks();
if (json) for (const m of metrics) process.stdout.write(`${JSON.stringify(m)}\n`);
else {
  for (const m of metrics) process.stdout.write(`${m.metric.padEnd(36)} ${String(m.value).padStart(10)} ${m.unit.padEnd(9)} target ${TARGETS[m.metric] ?? '-'}\n`);
}
