// DynamoDB failures as the domain sees them: a failed condition stays itself (the caller decides),
// anything a later attempt may get past (a server fault, throttling, a refused or reset connection, a
// timeout) becomes DependencyUnavailable, the rest is passed on.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DependencyUnavailable } from '../../domain/errors.js';

export function translateDynamoDbError(error: unknown, what = 'DynamoDB'): unknown {
  if (error instanceof ConditionalCheckFailedException) return error;
  const name = (error as { name?: string })?.name ?? '';
  const fault = (error as { $fault?: string })?.$fault;
  const retryable = fault === 'server' || /Throttl|ProvisionedThroughput|RequestLimit|ECONNREFUSED|ECONNRESET|TimeoutError|socket/i.test(`${name} ${String(error)}`);
  return retryable ? new DependencyUnavailable(`${what} is unavailable`, { cause: error }) : error;
}
