// Graph's webhooks (POST /webhooks/graph and /webhooks/graph/lifecycle). Thin: the validation token,
// the route and the body go to the domain; its answer becomes the response. Graph expects a 2xx
// within 3 seconds, and the validation echo as text/plain within 10. A request with nothing authentic
// in it is answered 401 (counted by the webhook API's 4xx alarm).
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { acceptGraphNotification, type GraphNotifyDeps } from '../../shared/domain/graph/notify.js';

/** A notification batch is at most a few hundred KB; more is not from Graph. */
const MAX_BODY_BYTES = 1024 * 1024;

export type GraphWebhookEvent = Pick<APIGatewayProxyEventV2, 'rawPath' | 'body' | 'isBase64Encoded' | 'queryStringParameters'>;

export function handleGraphWebhook(deps: GraphNotifyDeps) {
  return async (event: GraphWebhookEvent): Promise<APIGatewayProxyStructuredResultV2> => {
    const route = event.rawPath.endsWith('/lifecycle') ? 'lifecycle' : 'notifications';
    const validationToken = event.queryStringParameters?.validationToken;
    const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) return { statusCode: 413 };
    const result = await acceptGraphNotification(deps, { route, body, ...(validationToken !== undefined ? { validationToken } : {}) });
    // The echo is the caller's text: never to be sniffed into anything but text.
    if (result.status === 200) return { statusCode: 200, headers: { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' }, body: result.body };
    if (result.status === 400) return { statusCode: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: result.reason }) };
    if (result.status === 401) {
      // Nothing in it was Graph's: refused like a forged Gmail push, and nothing enqueued.
      logger.info('graph notifications', { route, outcome: 'unauthenticated', rejected: result.rejected });
      return { statusCode: 401 };
    }
    logger.info('graph notifications', { route, outcome: 'accepted', accepted: result.accepted, rejected: result.rejected, ...(result.ignored ? { ignored: result.ignored } : {}) });
    return { statusCode: 202 };
  };
}

export function makeHandler(deps: GraphNotifyDeps, metrics: PowertoolsMetricsClient) {
  const handle = handleGraphWebhook(deps);
  return middy(async (event: APIGatewayProxyEventV2, _context: Context) => handle(event))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
