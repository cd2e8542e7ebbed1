// Each function's bundle, as the stack ships it, starts under Node 22 with the environment the stack
// gives it: ESM with the createRequire banner (no "Dynamic require" of a CommonJS dependency), every
// dependency bundled except the runtime's @aws-sdk/*, and a configuration the cold start accepts.
import { execFile } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, ROOT, newApp, removeTempDirs } from './synth.js';

afterAll(removeTempDirs);

const run = promisify(execFile);

interface Bundle {
  service: string;
  file: string;
  env: Record<string, string>;
}
let bundles: Bundle[];

beforeAll(() => {
  const { app, stack, outdir } = newApp();
  app.synth();
  // Only @aws-sdk/* is left out of the bundles; Lambda's runtime provides it, here the repository's
  // node_modules does (Node resolves it from the bundle's directory upwards).
  symlinkSync(join(ROOT, 'node_modules'), join(outdir, 'node_modules'), 'dir');
  type LambdaFunction = { Properties: { Code: { S3Key: string }; Handler: string; Environment: { Variables: Record<string, unknown> } } };
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as LambdaFunction[];
  bundles = functions.map((fn) => {
    const hash = fn.Properties.Code.S3Key.replace(/\.zip$/, '');
    // References (table and bucket names) resolve only at deploy: stand-ins of the same shape.
    const env = Object.fromEntries(Object.entries(fn.Properties.Environment.Variables).map(([name, value]) => [name, typeof value === 'string' ? value : `m2t-${name.toLowerCase()}`]));
    expect(fn.Properties.Handler).toBe('index.handler');
    return { service: String(env.POWERTOOLS_SERVICE_NAME), file: join(outdir, `asset.${hash}`, 'index.mjs'), env };
  });
});

/** The thrown error's own line, not the minified source line Node prints above it. */
function firstErrorLine(stderr: string): string {
  return stderr.split('\n').find((line) => /^\w*Error\b/.test(line)) ?? stderr.slice(0, 500);
}

describe('function bundles', () => {
  it('exist for every function, the ingest worker among them', () => {
    expect(bundles.map((b) => b.service)).toContain('mail2ticket-ingest');
    for (const bundle of bundles) expect(existsSync(bundle.file), bundle.file).toBe(true);
  });

  it('load as ESM and export a handler, with only the environment the stack sets', async () => {
    for (const bundle of bundles) {
      const probe = `const m = await import(${JSON.stringify(`file://${bundle.file}`)}); if (typeof m.handler !== 'function') throw new Error('no handler export');`;
      // A clean environment, as in Lambda: nothing leaks in from the test process.
      const env = { ...bundle.env, AWS_REGION: ENV.region, PATH: process.env.PATH ?? '' };
      const outcome = await run(process.execPath, ['--input-type=module', '--enable-source-maps', '-e', probe], { env, timeout: 30_000 }).then(
        () => 'started',
        (error: { stderr?: string; message: string }) => firstErrorLine(error.stderr ?? error.message),
      );
      expect(outcome, bundle.service).toBe('started');
    }
  });

  it('run on the Node major the functions are deployed with', () => {
    expect(process.versions.node.split('.')[0]).toBe('22');
  });
});
