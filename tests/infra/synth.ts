// Builds the app the way `npm run synth` does: the CLI hands cdk.json's context (the feature flags)
// to the app, so the tests pass the same context, or they would assert a template nobody deploys.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../infra/app.js';

export const ROOT = join(import.meta.dirname, '../..');
export const ENV = { account: '123456789012', region: 'eu-west-1' } as const;

function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

const created: string[] = [];

/** A temporary directory, removed by `removeTempDirs` (each bundle set is several megabytes). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'm2t-cdk-'));
  created.push(dir);
  return dir;
}

/** For `afterAll`: removes every directory this test file created. */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Context that skips asset bundling (CDK's own `aws:cdk:bundling-stacks`): for tests that assert
 * the template of another context and never look at the code (bundles.test.ts starts the real
 * bundles). Every function is then staged as a placeholder instead of taking seconds to bundle.
 */
export const SKIP_BUNDLING: Record<string, unknown> = { 'aws:cdk:bundling-stacks': [] };

/** For hooks and tests that synthesize with bundling: six functions take about 15 s on two idle cores. */
export const BUNDLED_SYNTH_TIMEOUT = 180_000;

/** A fresh app (not yet synthesized) writing to its own temporary cloud assembly directory. */
export function newApp(context: Record<string, unknown> = {}, outdir = tempDir()): ReturnType<typeof buildApp> & { outdir: string } {
  return { ...buildApp({ context: { ...cdkJsonContext(), ...context }, outdir, env: ENV }), outdir };
}
