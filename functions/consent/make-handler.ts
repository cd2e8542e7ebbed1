// The consent site behind API Gateway's HTTP API (routes /connect…). Thin: the event becomes a
// WebRequest, the router answers, the answer becomes the HTTP API's result (cookies as `cookies`).
// Logs carry the route and status only: query strings and forms hold invites, codes and states.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from '../../shared/adapters/system/observability.js';
import { handleConsentRequest, parseCookies, type ConsentSite } from '../../shared/web/consent-router.js';

export function handleConsent(site: ConsentSite) {
  return async (event: Pick<APIGatewayProxyEventV2, 'rawPath' | 'queryStringParameters' | 'headers' | 'cookies' | 'body' | 'isBase64Encoded'> & { requestContext: { http: { method: string } } }): Promise<APIGatewayProxyStructuredResultV2> => {
    const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const response = await handleConsentRequest(site, {
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: { ...(event.queryStringParameters ?? {}) } as Record<string, string>,
      headers: { ...event.headers } as Record<string, string>,
      cookies: parseCookies(event.cookies ?? []),
      body,
    });
    logger.info('consent request', { route: `${event.requestContext.http.method} ${event.rawPath}`, status: response.status });
    return { statusCode: response.status, headers: response.headers, ...(response.cookies.length ? { cookies: response.cookies } : {}), body: response.body };
  };
}

export function makeHandler(site: ConsentSite) {
  const handle = handleConsent(site);
  return middy(async (event: APIGatewayProxyEventV2, _context: Context) => handle(event)).use(injectLambdaContext(logger));
}
