// Gmail's Pub/Sub push webhook (POST /webhooks/gmail). Thin: the body and the Authorization header
// go to the domain, its outcome becomes the status. Pub/Sub retries anything but 2xx and 102.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Metrics as PowertoolsMetricsClient } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { acceptGmailPush, type GmailPushDeps } from '../../shared/domain/gmail/push.js';

/** A push body is a few hundred bytes; anything near this is not from Pub/Sub. */
const MAX_BODY_BYTES = 64 * 1024;

export function handlePush(deps: GmailPushDeps) {
  return async (event: Pick<APIGatewayProxyEventV2, 'headers' | 'body' | 'isBase64Encoded'>): Promise<APIGatewayProxyStructuredResultV2> => {
    const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) return { statusCode: 413 };
    const result = await acceptGmailPush(deps, { ...(event.headers.authorization ? { authorization: event.headers.authorization } : {}), body });
    // Outcome codes only: the push names a mailbox address, which never reaches the logs.
    logger.info('gmail push', { outcome: result.outcome, ...(result.status === 204 && result.reason ? { reason: result.reason } : {}) });
    return { statusCode: result.status };
  };
}

export function makeHandler(deps: GmailPushDeps, metrics: PowertoolsMetricsClient) {
  const handle = handlePush(deps);
  return middy(async (event: APIGatewayProxyEventV2, _context: Context) => handle(event))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
