// The benchmark's size knobs: BENCH_* environment variables (listed in the README under Benchmarks).
// A value that is not a whole number in range is refused by name before anything runs: taken as
// Number() it would become NaN, and a NaN concurrency or run count measures nothing and reports a
// ratio of NaN, or of whatever an empty round happened to take.
export function countSetting(name: string, fallback: number, options: { min?: number; env?: Record<string, string | undefined> } = {}): number {
  const { min = 1, env = process.env } = options;
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number of at least ${min}, not ${JSON.stringify(env[name])}`);
  }
  return value;
}
