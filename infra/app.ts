// Builds the CDK app: the one stack, with cdk-nag's AwsSolutions pack registered as a CDK policy
// validation plugin, so any finding not acknowledged (infra/nag.ts, worker-function.ts) fails the
// synth and lands in the cloud assembly's validation-report.json with the reason for each
// acknowledgement. infra/main.ts is the CLI's entry point; tests call buildApp directly.
import { App, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readInfraConfig } from './config.js';
import { Mail2TicketStack } from './stack.js';

export interface BuildAppOptions {
  /** Context on top of what the CLI passes (cdk.json, `-c`): tests pass cdk.json's here. */
  readonly context?: Record<string, unknown>;
  readonly outdir?: string;
  /** Default: CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION, which the CLI sets and offline synth needs. */
  readonly env?: Environment;
}

export function buildApp(options: BuildAppOptions = {}): { app: App; stack: Mail2TicketStack } {
  const app = new App({ context: options.context ?? {}, ...(options.outdir ? { outdir: options.outdir } : {}) });
  const stack = new Mail2TicketStack(app, 'Mail2Ticket', {
    config: readInfraConfig(app.node),
    env: options.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
