// The tracing module outside Lambda (`npm start`, the CLI, the tests run the same composition roots
// and handlers): the Tracer turns itself off without AWS_EXECUTION_ENV, so clients are left as they
// are and handlers run as if unwrapped, with no X-Ray context to miss.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';

type TracingModule = typeof import('../../shared/adapters/system/tracing.js');
let tracing: TracingModule;

beforeAll(async () => {
  vi.stubEnv('AWS_EXECUTION_ENV', undefined);
  vi.stubEnv('LAMBDA_TASK_ROOT', undefined);
  vi.stubEnv('POWERTOOLS_TRACE_ENABLED', undefined);
  tracing = await import('../../shared/adapters/system/tracing.js');
  vi.unstubAllEnvs();
});

describe('tracing outside Lambda', () => {
  it('is disabled', () => {
    expect(tracing.tracer.isTracingEnabled()).toBe(false);
  });

  it('leaves AWS SDK clients without the X-Ray middleware', () => {
    const client = tracing.traced(new DynamoDBClient({ region: 'eu-west-1' }));
    const middleware = client.middlewareStack.identify().join('\n');
    expect(middleware).not.toMatch(/xray/i);
    // The same client in Lambda does carry it (tracer.test.ts reads the subsegments it sends).
    expect(middleware).toContain('retryMiddleware');
  });

  it('runs the wrapped handler and returns its result and its errors unchanged', async () => {
    const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    const ok = tracing.traceInvocations(async (event: { n: number }) => ({ doubled: event.n * 2 }));
    expect(await ok({ n: 21 }, context)).toEqual({ doubled: 42 });
    const failing = tracing.traceInvocations(async (_event: unknown) => {
      throw new RangeError('bad input');
    });
    await expect(failing({}, context)).rejects.toThrow(RangeError);
  });
});
