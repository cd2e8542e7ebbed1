// MIME fuzzing as a benchmark: the hostile messages and the seeded mutations of the fixture corpus
// that tests/reliability/fuzz.test.ts runs (fixed seed, same checker), through ingestMessage on the
// in-memory ports.
//
// - reliability.fuzz_cases: messages ingested (the hostile ones plus 2,000 mutations).
// - reliability.fuzz_crashes: cases that threw out of ingestMessage, ran past the per-case deadline,
//   lost their raw, or ended without a clear status (must be 0). Each one is named on stderr.
import { DEFAULT_FUZZ_CASES, DEFAULT_FUZZ_SEED, checkCase, hostileCases, runFuzz } from '../tests/reliability/mime-mutations.js';
import type { Metric } from './ingest.js';

export async function runReliabilityBenchmarks(): Promise<Metric[]> {
  const failures: string[] = [];
  const hostile = hostileCases();
  for (const c of hostile) {
    const outcome = await checkCase(c, { reingest: true });
    if (outcome.failure) failures.push(`hostile "${c.label}": ${outcome.failure}`);
  }
  const run = await runFuzz(DEFAULT_FUZZ_SEED, DEFAULT_FUZZ_CASES);
  for (const f of run.failures) failures.push(`seed ${run.seed} case ${f.index}: ${f.failure} — ${f.label}`);
  for (const line of failures) process.stderr.write(`fuzz failure: ${line}\n`);
  return [
    { metric: 'reliability.fuzz_cases', value: hostile.length + run.cases, unit: 'count' },
    { metric: 'reliability.fuzz_crashes', value: failures.length, unit: 'count' },
  ];
}
