// One Lambda function the way every mail2ticket function is built: Node 22 on arm64, bundled by the
// local esbuild as minified ESM with source maps, the AWS SDK inside the bundle, its own role with no
// managed policy, its own log group kept at most 30 days, and active X-Ray tracing.
//
// The AWS SDK is bundled rather than taken from the runtime: the function runs the SDK version our
// tests ran, not whichever one the runtime carries that month, and a cold start reads one file
// instead of resolving hundreds of packages (the SDK team's own finding, aws/aws-cdk#25492; middy's
// bundling guide says the same). Measured here: the push webhook's import went from about 2.1 to
// about 1.3 times a bare SQS sender's (bench: gmail.webhook_cold_init_ratio; README, Benchmarks).
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const PORTABLE_SOURCE_MAP = join(import.meta.dirname, '../bundling/portable-source-map.mjs');

/** POSIX shell quoting for the bundling step's command line (paths may hold spaces or quotes). */
const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;

/**
 * After esbuild: make the source map independent of the output directory, so the asset hash is the
 * same for `cdk.out`, `--output /tmp/x` and every checkout (see portable-source-map.mjs).
 */
const hooks: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (_inputDir, outputDir) => [[process.execPath, PORTABLE_SOURCE_MAP, join(outputDir, 'index.mjs.map'), ROOT].map(quote).join(' ')],
};

/**
 * The Powertools Tracer's capture switches (shared/adapters/system/tracing.ts): no handler response
 * and no error message or stack in traces, only timings, ids and the error flag.
 */
export const TRACER_ENVIRONMENT = { POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false', POWERTOOLS_TRACER_CAPTURE_ERROR: 'false' } as const;

/**
 * Active X-Ray tracing for a function whose role we build. The two X-Ray write actions go in a
 * policy of their own rather than the role's default policy (where `tracing: Tracing.ACTIVE` puts
 * them), so the "*" resource they need is acknowledged on that policy alone. The function waits for
 * it: Lambda refuses active tracing to a role that may not write segments.
 */
export function activeTracing(fn: lambda.Function, role: iam.IRole): iam.Policy {
  (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: lambda.Tracing.ACTIVE };
  for (const [name, value] of Object.entries(TRACER_ENVIRONMENT)) fn.addEnvironment(name, value);
  const policy = new iam.Policy(fn, 'Tracing', {
    roles: [role],
    statements: [new iam.PolicyStatement({ sid: 'XRayWrite', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] })],
  });
  fn.node.addDependency(policy);
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray has no resource-level permissions: xray:PutTraceSegments and xray:PutTelemetryRecords take "*" only. This policy holds those two write actions and nothing else; they read no data.',
  });
  return policy;
}

export interface WorkerFunctionProps {
  /** Path of the handler from the repository root, e.g. `functions/ingest/handler.ts`. */
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly serviceName: string;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether Node maps stack traces through the source map at run time (`--enable-source-maps`).
   * Loading the map costs a cold start 20-50 ms (measured on the push webhook's 2 MB map), so the
   * webhooks, which answer on every cold start, turn it off; their map still ships for offline use.
   */
  readonly runtimeSourceMaps?: boolean;
  /** V8 options for NODE_OPTIONS, e.g. MAIL_STREAMING_V8_OPTIONS (infra/runtime-options.ts). */
  readonly v8Options?: readonly string[];
}

export class WorkerFunction extends Construct {
  public readonly fn: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }));
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(ROOT, props.entry),
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(2),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        ...nodeOptions(props),
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: 'node22',
        // Nothing is left to the runtime, the AWS SDK included (see the top of this file).
        externalModules: [],
        forceDockerBundling: false,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        commandHooks: hooks,
      },
    });
    activeTracing(this.fn, this.role);
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: the project, its tests and its benchmarks run on Node 22; a runtime move is a deliberate upgrade, not a side effect of a CDK bump.',
    });
  }
}

function nodeOptions(props: WorkerFunctionProps): { NODE_OPTIONS?: string } {
  const options = [...(props.runtimeSourceMaps === false ? [] : ['--enable-source-maps']), ...(props.v8Options ?? [])];
  return options.length ? { NODE_OPTIONS: options.join(' ') } : {};
}
