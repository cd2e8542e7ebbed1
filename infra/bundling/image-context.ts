// Stages a container image's build context at synth: the Dockerfile directory's files plus function
// bundles built by the local esbuild with exactly the options of every zip function
// (worker-function.ts), so `cdk synth` needs no Docker; only `cdk deploy` builds the image. The
// context is rebuilt on every synth in a fixed directory of the cloud assembly (one copy per output
// directory, removed with it); CDK then stages it as an asset whose hash depends only on the files,
// so it is the same in every checkout and for every `--output`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const PORTABLE_SOURCE_MAP = join(import.meta.dirname, 'portable-source-map.mjs');
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface ImageBundle {
  /** Directory of the bundle inside the image's task root, e.g. `scanner` (handler `scanner/index.handler`). */
  readonly dir: string;
  /** Path of the handler from the project root, e.g. `functions/scanner/handler.ts`. */
  readonly entry: string;
}

export interface ImageContextOptions {
  /** The project root: esbuild's working directory and the root source map paths are made relative to. */
  readonly root: string;
  /** The directory holding the Dockerfile and whatever else it copies besides the bundles. */
  readonly dockerDir: string;
  readonly bundles: readonly ImageBundle[];
  /**
   * False when the stack's bundling is skipped (`aws:cdk:bundling-stacks`): the context then holds the
   * Dockerfile directory only, a placeholder as CDK stages for skipped zip functions.
   */
  readonly bundle: boolean;
  /** Where to build the context; emptied first. */
  readonly into: string;
}

/** Builds the context in `into` and returns that path. */
export function stageImageContext(options: ImageContextOptions): string {
  const { into } = options;
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  cpSync(options.dockerDir, into, { recursive: true });
  if (options.bundle) for (const bundle of options.bundles) bundleInto(into, bundle, options.root);
  return into;
}

function bundleInto(context: string, bundle: ImageBundle, root: string): void {
  const outfile = join(context, bundle.dir, 'index.mjs');
  buildSync({
    entryPoints: [join(root, bundle.entry)],
    outfile,
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    // The AWS SDK inside the bundle, as for every function (worker-function.ts says why).
    external: [],
    mainFields: ['module', 'main'],
    banner: { js: BANNER },
    logLevel: 'silent',
  });
  execFileSync(process.execPath, [PORTABLE_SOURCE_MAP, `${outfile}.map`, root]);
}
