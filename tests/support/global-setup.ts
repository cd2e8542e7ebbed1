// One real clamd for the whole test run, with small limits so the limit paths can be proven.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startClamd } from '../../shared/local/clamd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    clamdSocket: string | null;
  }
}

export const TEST_SCAN_LIMITS = { maxAttachmentBytes: 63 * 1024 * 1024, maxFileBytes: 20 * 1024 * 1024, maxScanBytes: 20 * 1024 * 1024 };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'm2t-clamd-test-'));
  const clamd = await startClamd({ dir, ...TEST_SCAN_LIMITS });
  if (!clamd && process.env.CI) throw new Error('ClamAV must be installed in CI (scripts/ensure-system-deps)');
  project.provide('clamdSocket', clamd?.socketPath ?? null);
  return async () => {
    await clamd?.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
