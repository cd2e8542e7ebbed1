// cdk-nag AwsSolutions runs as a CDK validation plugin in every synth (infra/app.ts). These tests read
// the cloud assembly's validation report: no finding left, every acknowledgement used by a real
// finding on the construct it names, each with a reason, and the check still able to fail.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_SYNTH_TIMEOUT, newApp, removeTempDirs, SKIP_BUNDLING } from './synth.js';

afterAll(removeTempDirs);

interface Violation {
  ruleName: string;
  severity: string;
  violatingConstructs: Array<{ constructPath: string }>;
}
interface SuppressedViolation extends Violation {
  acknowledgedId: string;
  acknowledgedAt: string;
  reason: string;
}
interface ValidationReport {
  pluginReports: Array<{ pluginName: string; conclusion: string; violations: Violation[]; suppressedViolations?: SuppressedViolation[] }>;
}
interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

const PACK = 'AwsSolutions';
let report: ValidationReport;
let acknowledgements: Acknowledgement[];

function acknowledgementsIn(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))),
  );
}

beforeAll(() => {
  const { app, outdir } = newApp();
  app.synth();
  report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  acknowledgements = acknowledgementsIn(app);
}, BUNDLED_SYNTH_TIMEOUT);

describe('cdk-nag AwsSolutions', () => {
  it('ran in the synth and left no finding, error or warning', () => {
    const pack = report.pluginReports.find((r) => r.pluginName === PACK);
    expect(pack).toBeDefined();
    for (const plugin of report.pluginReports) {
      expect(plugin.violations, plugin.pluginName).toEqual([]);
      expect(plugin.conclusion).toBe('success');
    }
  });

  it('has every acknowledgement on a resource-level construct, with a reason, used by a finding there', () => {
    const suppressed = report.pluginReports.flatMap((r) => r.suppressedViolations ?? []);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      const where = JSON.stringify(ack);
      // Named per finding and per construct: never on the stack, never the whole rule for a subtree.
      expect(ack.id, where).toMatch(new RegExp(`^${PACK}::${PACK}-[A-Z]+\\d+(\\[.+\\])?$`));
      expect(ack.path.split('/').length, where).toBeGreaterThanOrEqual(3);
      expect(ack.reason.length, where).toBeGreaterThanOrEqual(40);
      const used = suppressed.filter((s) => s.acknowledgedId === ack.id && s.acknowledgedAt === ack.path);
      expect(used, `stale acknowledgement ${where}`).not.toHaveLength(0);
      for (const finding of used) for (const c of finding.violatingConstructs) expect(c.constructPath.startsWith(`${ack.path}/`), where).toBe(true);
    }
  });
});

// cdk-nag reads the template, not the code: these synths skip bundling.
describe('cdk-nag can fail the synth', () => {
  it('on a new careless resource', () => {
    const { app, stack } = newApp(SKIP_BUNDLING);
    new s3.Bucket(Stack.of(stack), 'CarelessBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S(1|10)/);
  });

  it('on a new wildcard in a policy that already carries acknowledgements', () => {
    const { app, stack } = newApp(SKIP_BUNDLING);
    stack.ingest.worker.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: [stack.objects.bucket.bucketArn] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });
});
