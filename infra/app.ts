// Builds the CDK app with cdk-nag's AwsSolutions checks; infra/main.ts is the CLI's entry point.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readInfraConfig } from './config.js';
import { Mail2TicketStack } from './stack.js';

export function buildApp(context: Record<string, unknown> = {}, outdir?: string): { app: App; stack: Mail2TicketStack } {
  const app = new App({ context, ...(outdir ? { outdir } : {}) });
  const stack = new Mail2TicketStack(app, 'Mail2Ticket', {
    config: readInfraConfig(app.node),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
