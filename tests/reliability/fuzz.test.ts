// MIME fuzzing of ingestMessage against the in-memory ports: the named hostile messages, then
// 2,000 seeded mutations of the fixture corpus. Every case must resolve within the deadline with a
// status, keep the raw byte for byte, and say in a notice what a limit skipped or what could not be
// parsed. FUZZ_SEED picks another seed; FUZZ_CASE=<index> reruns one case of that seed.
import { describe, expect, it } from 'vitest';
import {
  CASE_DEADLINE_MS,
  DEFAULT_FUZZ_CASES,
  DEFAULT_FUZZ_SEED,
  INGEST_STATUSES,
  MAX_CASE_BYTES,
  checkCase,
  fuzzCases,
  hostileCases,
  runFuzz,
} from './mime-mutations.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : DEFAULT_FUZZ_SEED;
const ONLY = process.env.FUZZ_CASE ? Number(process.env.FUZZ_CASE) : undefined;

describe('hostile messages', () => {
  it.each(hostileCases().map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const outcome = await checkCase(c, { reingest: true });
    expect(outcome.failure).toBeNull();
    expect(INGEST_STATUSES).toContain(outcome.status);
    expect(outcome.notices).toEqual(expect.arrayContaining(c.expectNotices ?? []));
  });

  it('names every case the suite asks for', () => {
    const labels = hostileCases().map((c) => c.label);
    for (const wanted of [/decompression bomb: nested zips/, /^10,000 MIME parts/, /^1,000-deep/, /^a 1 MB header line/, /^invalid charset/, /NUL bytes/]) {
      expect(labels.some((label) => wanted.test(label)), String(wanted)).toBe(true);
    }
  });
});

describe('seeded mutations of the fixture corpus', () => {
  it('builds the same bytes from the same seed, other bytes from another, each within the size bound', () => {
    const take = (seed: number) => [...fuzzCases(seed, 50)];
    const [a, b, other] = [take(SEED), take(SEED), take(SEED + 1)];
    expect(a.map((c) => c.label)).toEqual(b.map((c) => c.label));
    expect(a.every((c, i) => c.raw.equals((b[i] as typeof c).raw))).toBe(true);
    expect(a.map((c) => c.label)).not.toEqual(other.map((c) => c.label));
    for (const c of a) expect(c.raw.length).toBeLessThanOrEqual(MAX_CASE_BYTES);
  });

  it('the checker fails a case that runs past the deadline or lacks the notice a limit owes', async () => {
    const [c] = [...fuzzCases(SEED, 1)];
    if (!c) throw new Error('no case generated');
    expect((await checkCase(c, { deadlineMs: 0 })).failure).toMatch(/^hang/);
    expect((await checkCase({ ...c, expectNotices: ['too_many_parts', 'nesting_too_deep'] })).failure).toMatch(/^limit without notice/);
  });

  it(`${DEFAULT_FUZZ_CASES} cases: no crash, no hang, raw kept, a status and notices for every one`, async () => {
    const run = await runFuzz(SEED, DEFAULT_FUZZ_CASES, ONLY === undefined ? {} : { only: ONLY });
    const slowest = `slowest case #${run.slowest.index} ${Math.round(run.slowest.ms)} ms (${run.slowest.label})`;
    console.info(`fuzz seed ${SEED}: ${run.cases} cases in ${Math.round(run.ms)} ms, ${run.failures.length} failed; ${slowest}`);
    expect(run.cases).toBe(ONLY === undefined ? DEFAULT_FUZZ_CASES : 1);
    expect(DEFAULT_FUZZ_CASES).toBeGreaterThanOrEqual(2000);
    expect(
      run.failures.map((f) => `case ${f.index} (FUZZ_SEED=${SEED} FUZZ_CASE=${f.index}): ${f.failure} — ${f.label}`),
      `seed ${SEED}`,
    ).toEqual([]);
    expect(run.slowest.ms).toBeLessThan(CASE_DEADLINE_MS);
  }, 180_000);
});
