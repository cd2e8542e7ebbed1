// Reading a synthesized CloudFormation template in the infra tests: resources by type and logical-id
// prefix, a function by its Powertools service name, and the IAM statements attached to a role.
import { expect } from 'vitest';
import { TRACER_ENVIRONMENT } from '../../infra/constructs/worker-function.js';

export type Json = Record<string, unknown>;
export type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
export type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown>; Principal?: unknown };

export const resourcesOf = (t: Json) => t.Resources as Record<string, Resource>;
export const ofType = (t: Json, type: string) => Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type);

/** The one resource of `type` whose logical id starts with `prefix`. */
export function idOf(t: Json, type: string, prefix: string): string {
  const ids = ofType(t, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}`).toHaveLength(1);
  return ids[0] as string;
}

export const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/**
 * The one function whose POWERTOOLS_SERVICE_NAME is `service`. Its `env` leaves out the Tracer's
 * switches when they hold the values every function gets (asserted once, in tracing.test.ts).
 */
export function fn(t: Json, service: string): { id: string; props: Json; env: Record<string, unknown> } {
  const found = ofType(t, 'AWS::Lambda::Function').filter(([, r]) => (r.Properties.Environment as { Variables: Json }).Variables.POWERTOOLS_SERVICE_NAME === service);
  expect(found, service).toHaveLength(1);
  const [id, resource] = found[0] as [string, Resource];
  const variables = (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const env = Object.fromEntries(Object.entries(variables).filter(([name, value]) => (TRACER_ENVIRONMENT as Record<string, string>)[name] !== value));
  return { id, props: resource.Properties, env };
}

/**
 * A function's tracing policy (worker-function.ts activeTracing): the two X-Ray write actions on "*"
 * and nothing else, the same on every function and asserted once, in tracing.test.ts.
 */
const isTracingPolicy = (statements: Statement[]): boolean =>
  statements.length === 1 &&
  statements[0]?.Sid === 'XRayWrite' &&
  statements[0].Resource === '*' &&
  [statements[0].Action].flat().sort().join() === 'xray:PutTelemetryRecords,xray:PutTraceSegments';

export const roleOf = (t: Json, service: string) => (fn(t, service).props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/** The statements of the policies attached to a role, but for its tracing policy. */
export const statementsOfRole = (t: Json, roleId: string): Statement[] =>
  ofType(t, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .map(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((statements) => !isTracingPolicy(statements))
    .flat();

/** The statements of the policies attached to a function's role. */
export const statementsOf = (t: Json, service: string): Statement[] => statementsOfRole(t, roleOf(t, service));
