// The benchmark's BENCH_* knobs: a bad value stops the run by name instead of measuring nothing.
import { describe, expect, it } from 'vitest';
import { countSetting } from '../../bench/settings.js';

describe('countSetting', () => {
  it('takes the default when the variable is unset or blank', () => {
    expect(countSetting('BENCH_X', 31, { env: {} })).toBe(31);
    expect(countSetting('BENCH_X', 31, { env: { BENCH_X: '  ' } })).toBe(31);
  });

  it('takes a whole number at or above the minimum', () => {
    expect(countSetting('BENCH_X', 2, { env: { BENCH_X: '1' } })).toBe(1);
    expect(countSetting('BENCH_X', 2, { env: { BENCH_X: ' 8 ' } })).toBe(8);
    expect(countSetting('BENCH_X', 200, { min: 0, env: { BENCH_X: '0' } })).toBe(0);
  });

  it.each(['two', '1.5', '-1', '0x10', '1e3', 'NaN', 'Infinity', '99999999999999999999'])('refuses %j, naming the variable', (value) => {
    expect(() => countSetting('BENCH_CONCURRENCY', 2, { env: { BENCH_CONCURRENCY: value } })).toThrow(/^BENCH_CONCURRENCY must be a whole number of at least 1, not /);
  });

  it('refuses a value under the minimum', () => {
    expect(() => countSetting('BENCH_COLD_RUNS', 31, { env: { BENCH_COLD_RUNS: '0' } })).toThrow('BENCH_COLD_RUNS must be a whole number of at least 1, not "0"');
  });

  it('reads process.env by default', () => {
    const previous = process.env.BENCH_SETTINGS_TEST;
    process.env.BENCH_SETTINGS_TEST = '3';
    try {
      expect(countSetting('BENCH_SETTINGS_TEST', 1)).toBe(3);
    } finally {
      if (previous === undefined) delete process.env.BENCH_SETTINGS_TEST;
      else process.env.BENCH_SETTINGS_TEST = previous;
    }
  });
});
