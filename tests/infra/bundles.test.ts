// Each function's bundle, as the stack ships it, starts under Node 22 with the environment the stack
// gives it: ESM with the createRequire banner (no "Dynamic require" of a CommonJS dependency), every
// dependency bundled, the AWS SDK included, and a configuration the cold start accepts.
// The Gmail and Microsoft 365 sync and schedule functions read their OAuth client / Entra app
// credential from Secrets Manager at cold start (top-level await): here from a wire-level fake, through
// the runtime's own SDK client.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, startFakeSecretsManager, type FakeSecretsManager } from './fake-secrets-manager.js';
import { BUNDLED_SYNTH_TIMEOUT, ENV, newApp, removeTempDirs } from './synth.js';

const run = promisify(execFile);

interface Bundle {
  service: string;
  file: string;
  env: Record<string, string>;
}
let bundles: Bundle[];
let imageBundles: Bundle[];
/** The scanner downloads its definitions into /tmp/clamav and starts clamd as it loads: not started here. */
const STARTS_CLAMD = ['scanner'];
let secrets: FakeSecretsManager;
/** What the stack stores in the OAuth client secret until the operator replaces it. */
let placeholder: string;

/** The functions that read the OAuth client secret when they start. */
const READS_OAUTH_CLIENT = ['mail2ticket-gmail-sync', 'mail2ticket-gmail-schedule'];
/** A client as the operator stores it (README, Infrastructure). */
const OPERATOR_CLIENT = JSON.stringify({ clientId: '1234-abc.apps.googleusercontent.com', clientSecret: 'GOCSPX-test' });
/** The functions that read the Entra app credential when they start. */
const READS_GRAPH_APP = ['mail2ticket-graph-sync', 'mail2ticket-graph-schedule'];
/** An app certificate as the operator stores it (README, Infrastructure); msal reads the key only when it asks for a token. */
const OPERATOR_GRAPH_APP = JSON.stringify({
  clientId: '6731de76-14a6-49ae-97bc-6eba6914391e',
  thumbprintSha256: 'a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778',
  privateKey: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
  x5c: '-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIQ\n-----END CERTIFICATE-----\n',
  notAfter: '2027-06-30T23:59:59Z',
});
/** The consent site reads its signing key and both provider clients when it starts. */
const CONSENT = 'mail2ticket-consent';
/** The tenant-lifecycle function reads the same signing key (invite links) when it starts. */
const TENANT_LIFECYCLE = 'mail2ticket-tenant-lifecycle';
/** A key as CloudFormation generates it (64 characters, no punctuation). */
const SIGNING_KEY = 'Jx3vQ9kLm2Rt7Yp4Wn8Zc6Hb1Fd5Gs0Ae3Ku9Mi7Oq2Tr4Vw6Xy8Bz1Cn5Dl3Ej';
/** The secrets a reader names: the stack's stand-ins for their ARNs. */
const secretsOf = (bundle: Bundle): string[] =>
  [bundle.env.CONSENT_SIGNING_SECRET_ARN, bundle.env.GOOGLE_OAUTH_SECRET_ARN, bundle.env.GRAPH_APP_SECRET_ARN].filter((arn): arn is string => arn !== undefined);

beforeAll(async () => {
  secrets = await startFakeSecretsManager();
  const { app, stack, outdir } = newApp();
  app.synth();
  // No node_modules beside or above the synth output (a temporary directory): a bundle that imported
  // a package instead of carrying it would fail to start here.
  expect(existsSync(join(outdir, 'node_modules'))).toBe(false);
  type LambdaFunction = {
    Properties: { Code: { S3Key: string; ImageUri?: unknown }; Handler: string; PackageType?: string; ImageConfig?: { Command: string[] }; Environment: { Variables: Record<string, unknown> } };
  };
  const template = Template.fromStack(stack);
  const all = Object.values(template.findResources('AWS::Lambda::Function')) as LambdaFunction[];
  const functions = all.filter((fn) => fn.Properties.PackageType !== 'Image');
  // Container image functions: their bundles sit in the image's staged build context, one directory
  // per image command (infra/bundling/image-context.ts).
  imageBundles = all
    .filter((fn) => fn.Properties.PackageType === 'Image')
    .map((fn) => {
      const tag = /:([0-9a-f]{64})"/.exec(JSON.stringify(fn.Properties.Code.ImageUri))?.[1];
      const dir = /^([\w-]+)\/index\.handler$/.exec(fn.Properties.ImageConfig?.Command[0] ?? '')?.[1];
      if (!tag || !dir) throw new Error(`unexpected image function ${JSON.stringify(fn.Properties)}`);
      const env = Object.fromEntries(Object.entries(fn.Properties.Environment.Variables).map(([name, value]) => [name, typeof value === 'string' ? value : `m2t-${name.toLowerCase()}`]));
      return { service: String(env.POWERTOOLS_SERVICE_NAME), file: join(outdir, `asset.${tag}`, dir, 'index.mjs'), env };
    });
  bundles = functions.map((fn) => {
    const hash = fn.Properties.Code.S3Key.replace(/\.zip$/, '');
    // References (table and bucket names, queue URLs, the secret's ARN, deploy-time parameters)
    // resolve only at deploy: stand-ins of the same shape.
    const env = Object.fromEntries(
      Object.entries(fn.Properties.Environment.Variables).map(([name, value]) => [name, typeof value === 'string' ? value : name.endsWith('_URL') ? `https://m2t-${name.toLowerCase().replaceAll('_', '-')}.example` : `m2t-${name.toLowerCase()}`]),
    );
    expect(fn.Properties.Handler).toBe('index.handler');
    return { service: String(env.POWERTOOLS_SERVICE_NAME), file: join(outdir, `asset.${hash}`, 'index.mjs'), env };
  });
  const stored = Object.entries(template.findResources('AWS::SecretsManager::Secret')) as Array<[string, { Properties: { SecretString: string } }]>;
  placeholder = String(stored.find(([id]) => id.startsWith('GmailConnectorOAuthClient'))?.[1].Properties.SecretString);
}, BUNDLED_SYNTH_TIMEOUT);

afterAll(async () => {
  await secrets?.close();
  removeTempDirs();
});

/** The thrown error's own line, not the minified source line Node prints above it. */
function firstErrorLine(stderr: string): string {
  return stderr.split('\n').find((line) => /^\w*Error\b/.test(line)) ?? stderr.slice(0, 500);
}

/** Imports the bundle in a clean environment, as in Lambda: nothing leaks in from the test process. */
async function start(bundle: Bundle): Promise<{ outcome: 'started' } | { outcome: 'failed'; error: string; stderr: string }> {
  const probe = `const m = await import(${JSON.stringify(`file://${bundle.file}`)}); if (typeof m.handler !== 'function') throw new Error('no handler export');`;
  // What Lambda adds to the function's own variables: the region, the role's credentials (here
  // for the fake), the function's name; and the fake's address.
  const env = {
    ...bundle.env,
    AWS_REGION: ENV.region,
    AWS_LAMBDA_FUNCTION_NAME: bundle.service,
    ...FAKE_CREDENTIALS,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    PATH: process.env.PATH ?? '',
  };
  return run(process.execPath, ['--input-type=module', '--enable-source-maps', '-e', probe], { env, timeout: 30_000 }).then(
    () => ({ outcome: 'started' as const }),
    (error: { stderr?: string; message: string }) => ({ outcome: 'failed' as const, error: firstErrorLine(error.stderr ?? error.message), stderr: error.stderr ?? error.message }),
  );
}

describe('function bundles', () => {
  it('exist for every function, the ingest worker and the connectors\' functions among them', () => {
    expect(bundles.map((b) => b.service)).toEqual(
      expect.arrayContaining(['mail2ticket-ingest', 'mail2ticket-gmail-push', ...READS_OAUTH_CLIENT, 'mail2ticket-graph-notify', ...READS_GRAPH_APP]),
    );
    for (const bundle of bundles) expect(existsSync(bundle.file), bundle.file).toBe(true);
  });

  it('carry the AWS SDK inside instead of importing the runtime\'s', () => {
    for (const bundle of [...bundles, ...imageBundles]) {
      const code = readFileSync(bundle.file, 'utf8');
      // An import, a dynamic import or a require of the package (the SDK's error texts that tell the
      // reader to `[require("@aws-sdk/…")]` an optional package are not code).
      expect(code, bundle.service).not.toMatch(/(?<![[\w.])(?:from|import\(?|require\()\s*["']@aws-sdk\//);
      // The SDK's own code is there: its user agent names the package it came from.
      expect(code, bundle.service).toContain('"aws-sdk-js"');
    }
  });

  it('load as ESM and export a handler, with only the environment the stack sets', async () => {
    for (const bundle of bundles) {
      if (bundle.env.GOOGLE_OAUTH_SECRET_ARN) secrets.put(bundle.env.GOOGLE_OAUTH_SECRET_ARN, OPERATOR_CLIENT);
      if (bundle.env.GRAPH_APP_SECRET_ARN) secrets.put(bundle.env.GRAPH_APP_SECRET_ARN, OPERATOR_GRAPH_APP);
      if (bundle.env.CONSENT_SIGNING_SECRET_ARN) secrets.put(bundle.env.CONSENT_SIGNING_SECRET_ARN, SIGNING_KEY);
    }
    const readsBefore = secrets.reads.length;
    for (const bundle of bundles) {
      const result = await start(bundle);
      expect(result.outcome === 'started' ? 'started' : result.error, bundle.service).toBe('started');
    }
    // Those that need them read the secrets the stack names them, once each, at cold start (the
    // consent site its three at once, in any order).
    const readers = bundles.filter((b) => [...READS_OAUTH_CLIENT, ...READS_GRAPH_APP, CONSENT, TENANT_LIFECYCLE].includes(b.service));
    expect(readers).toHaveLength(READS_OAUTH_CLIENT.length + READS_GRAPH_APP.length + 2);
    expect([...secrets.reads.slice(readsBefore)].sort()).toEqual(readers.flatMap(secretsOf).sort());
  });

  it("refuse to start while the OAuth client secret still holds the stack's placeholder, saying what it must hold", async () => {
    const readers = bundles.filter((b) => READS_OAUTH_CLIENT.includes(b.service));
    expect(readers).toHaveLength(READS_OAUTH_CLIENT.length);
    for (const bundle of readers) {
      secrets.put(String(bundle.env.GOOGLE_OAUTH_SECRET_ARN), placeholder);
      const result = await start(bundle);
      expect(result.outcome, bundle.service).toBe('failed');
      if (result.outcome === 'failed') expect(result.stderr, bundle.service).toContain('the OAuth client secret must be JSON {"clientId": "…", "clientSecret": "…"}');
    }
  });

  it("load from the scanner image's build context as ESM and export a handler", async () => {
    expect(imageBundles.map((b) => b.service).sort()).toEqual(['scanner', 'scanner-definitions']);
    for (const bundle of imageBundles) expect(existsSync(bundle.file), bundle.file).toBe(true);
    for (const bundle of imageBundles.filter((b) => !STARTS_CLAMD.includes(b.service))) {
      const result = await start(bundle);
      expect(result.outcome === 'started' ? 'started' : result.error, bundle.service).toBe('started');
    }
  });

  it('run on the Node major the functions are deployed with', () => {
    expect(process.versions.node.split('.')[0]).toBe('22');
  });
});
