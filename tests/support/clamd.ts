import { inject } from 'vitest';

/** The test run's clamd socket; fails loudly (never skips) when ClamAV is missing. */
export function clamdSocket(): string {
  const socket = inject('clamdSocket');
  if (!socket) throw new Error('ClamAV is not installed: run `sudo sh scripts/ensure-system-deps`');
  return socket;
}
