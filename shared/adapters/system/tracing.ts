// X-Ray tracing through the Powertools Tracer. Each invocation gets a `## <handler>` subsegment
// annotated with ColdStart and Service only; each AWS SDK call a subsegment (service, operation,
// table or queue name). No handler response is recorded (captureResponse off here and in the
// stack's POWERTOOLS_TRACER_CAPTURE_RESPONSE), and with the stack's POWERTOOLS_TRACER_CAPTURE_ERROR=false
// a failure sets the error flag without its message or stack: our messages hold no content, but a
// provider SDK's may quote an address, and traces are read more widely than logs.
// Outgoing HTTPS (Google, Microsoft) is not captured: Graph request URLs carry message ids and
// $filter values. Separate from observability.ts so the webhooks, which import the logger, do not
// load the X-Ray SDK (about 125 KB of bundle; see functions/gmail-push/handler.ts).
// Outside Lambda (no AWS_EXECUTION_ENV: `npm start`, the CLI, tests) the Tracer disables itself and
// both helpers below pass through.
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

export const tracer = new Tracer({ captureHTTPsRequests: false });

/** What the invocation subsegment records beyond timings and annotations: nothing. */
export const HANDLER_CAPTURE = { captureResponse: false } as const;

/** The client, its calls traced as subsegments (the client itself outside Lambda). */
export function traced<Client>(client: Client): Client {
  return tracer.captureAWSv3Client(client);
}

/**
 * The handler with each invocation traced as a subsegment of Lambda's segment. Middy's early
 * timeout stays off: the wrapper adds tracing only, never a response of its own.
 */
export function traceInvocations<TEvent, TResult>(handler: (event: TEvent, context: Context) => Promise<TResult>): (event: TEvent, context: Context) => Promise<TResult> {
  return middy<TEvent, TResult>(handler, { timeoutEarlyInMillis: 0 }).use(captureLambdaHandler(tracer, HANDLER_CAPTURE));
}
