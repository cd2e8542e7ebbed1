// Bundles a handler the way the stack does (infra/constructs/worker-function.ts hands these options
// to NodejsFunction, which runs the local esbuild): Node 22, ESM with the createRequire banner,
// minified, `module` before `main`, and `@aws-sdk/*` left to the Lambda runtime. No source map: the
// benchmark measures the code a cold start loads, not the map beside it.
import { mkdir, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

/** Writes `<outDir>/<name>/index.mjs` from `entry` (relative to the repository root); returns its path and size. */
export async function bundleHandler(entry: string, outDir: string, name: string): Promise<{ file: string; bytes: number }> {
  const file = join(outDir, name, 'index.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: false,
    external: ['@aws-sdk/*'],
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return { file, bytes: (await stat(file)).size };
}

/**
 * Lets bundles in `outDir` import `@aws-sdk/*` as Lambda's runtime provides it: from the
 * repository's node_modules, through a symlink beside them.
 */
export async function linkRuntimeModules(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
}
