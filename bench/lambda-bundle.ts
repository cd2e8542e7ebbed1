// Bundles a handler the way the stack does (infra/constructs/worker-function.ts hands these options
// to NodejsFunction, which runs the local esbuild): Node 22, ESM with the createRequire banner,
// minified, `module` before `main`, and the AWS SDK bundled in, tree-shaken to the commands the
// handler sends (see worker-function.ts for why). No source map: the benchmark measures the code a
// cold start loads, not the map beside it.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

export interface HandlerBundle {
  /** The bundle as shipped: `<outDir>/<name>/index.mjs`. */
  file: string;
  /** Its size. */
  bytes: number;
  /** The same handler built with `@aws-sdk/*` left out: our code and our dependencies only. */
  ownBytes: number;
}

/** Writes `<outDir>/<name>/index.mjs` from `entry` (relative to the repository root). */
export async function bundleHandler(entry: string, outDir: string, name: string): Promise<HandlerBundle> {
  const file = join(outDir, name, 'index.mjs');
  const ownFile = join(outDir, `${name}-without-sdk`, 'index.mjs');
  const options = (outfile: string, external: string[]): BuildOptions => ({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: false,
    external,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  await Promise.all([build(options(file, [])), build(options(ownFile, ['@aws-sdk/*']))]);
  return { file, bytes: (await stat(file)).size, ownBytes: (await stat(ownFile)).size };
}
