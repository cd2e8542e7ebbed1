// One Lambda function the way every mail2ticket function is built: Node 22 on arm64, bundled by the
// local esbuild as minified ESM with source maps (the runtime's AWS SDK left out), its own role
// with no managed policy, and its own log group kept at most 30 days.
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

export interface WorkerFunctionProps {
  /** Path of the handler from the repository root, e.g. `functions/ingest/handler.ts`. */
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly serviceName: string;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly logRetention?: logs.RetentionDays;
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
      environment: { ...props.environment, POWERTOOLS_SERVICE_NAME: props.serviceName, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: 'node22',
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        commandHooks: hooks,
      },
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: the project, its tests and its benchmarks run on Node 22; a runtime move is a deliberate upgrade, not a side effect of a CDK bump.',
    });
  }
}
