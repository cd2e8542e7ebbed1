// Active X-Ray tracing on every function of the stack (worker-function.ts `activeTracing`): the
// tracing mode, the Tracer's capture switches, and the two X-Ray write actions in a policy of their
// own that the function waits for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApp, removeTempDirs, SKIP_BUNDLING } from './synth.js';
import { ofType, resourcesOf, type Json, type Resource, type Statement } from './template.js';

afterAll(removeTempDirs);

let template: Json;

beforeAll(() => {
  // The template of the deployed stack with placeholder code: tracing is configuration, not code.
  template = newApp(SKIP_BUNDLING).app.synth().getStackByName('Mail2Ticket').template as Json;
}, 120_000);

const functions = () => ofType(template, 'AWS::Lambda::Function') as Array<[string, Resource]>;
const roleId = (fn: Resource) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const XRAY_WRITE = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

describe('X-Ray tracing', () => {
  it('is active on every function, the scanner image functions and the webhooks among them', () => {
    const all = functions();
    // Eleven WorkerFunctions and the scanner's two container functions.
    expect(all.length).toBeGreaterThanOrEqual(13);
    const services = all.map(([, fn]) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.POWERTOOLS_SERVICE_NAME);
    expect(services).toEqual(expect.arrayContaining(['mail2ticket-gmail-push', 'mail2ticket-graph-notify', 'mail2ticket-ingest']));
    expect(all.filter(([, fn]) => fn.Properties.PackageType === 'Image')).toHaveLength(2);
    for (const [id, fn] of all) expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
  });

  it('tells the Tracer to record no response and no error message on every function', () => {
    for (const [id, fn] of functions()) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.POWERTOOLS_TRACER_CAPTURE_RESPONSE, id).toBe('false');
      expect(env.POWERTOOLS_TRACER_CAPTURE_ERROR, id).toBe('false');
      // Tracing on by the Lambda environment, never forced from the stack (or off by mistake).
      expect(env, id).not.toHaveProperty('POWERTOOLS_TRACE_ENABLED');
    }
  });

  it('lets each function role write segments through a policy holding exactly the two X-Ray actions, which the function depends on', () => {
    const resources = resourcesOf(template);
    const policies = ofType(template, 'AWS::IAM::Policy') as Array<[string, Resource]>;
    const statementsOf = (policy: Resource) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const xrayPolicies = policies.filter(([, p]) => statementsOf(p).some((s) => [s.Action].flat().some((a) => a.startsWith('xray:'))));
    for (const [id, fn] of functions()) {
      const role = roleId(fn);
      const forRole = xrayPolicies.filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role));
      expect(forRole, id).toHaveLength(1);
      const [policyId, policy] = forRole[0] as [string, Resource];
      const statements = statementsOf(policy).map((s) => ({ ...s, Action: [s.Action].flat().sort() }));
      expect(statements, id).toEqual([{ Sid: 'XRayWrite', Effect: 'Allow', Action: XRAY_WRITE, Resource: '*' }]);
      expect((resources[id] as Resource & { DependsOn?: string[] }).DependsOn, id).toContain(policyId);
    }
    // No X-Ray action anywhere else, and only on the functions' own roles.
    expect(xrayPolicies).toHaveLength(functions().length);
  });
});
