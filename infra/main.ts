// `cdk synth` / `cdk deploy` entry point (cdk.json). Offline synth needs CDK_DEFAULT_ACCOUNT and
// CDK_DEFAULT_REGION, no credentials and no Docker: the functions bundle with the local esbuild.
import { ContextError } from './config.js';
import { buildApp } from './app.js';

try {
  buildApp().app.synth();
} catch (error) {
  // A bad `-c` value is the operator's to fix: say which key, without a stack trace.
  if (!(error instanceof ContextError)) throw error;
  process.stderr.write(`mail2ticket: ${error.message}\n`);
  process.exit(1);
}
