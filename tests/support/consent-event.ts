// The API Gateway (HTTP API, payload 2.0) request the consent Lambda receives, as tests build it: only the
// fields the handler reads, a form body URL-encoded as a browser posts it.
import type { handleConsent } from '../../functions/consent/make-handler.js';

export type ConsentEvent = Parameters<ReturnType<typeof handleConsent>>[0];

export interface ConsentRequest {
  query?: Record<string, string>;
  cookies?: string[];
  form?: Record<string, string>;
  /** Send the body base64-encoded, as API Gateway does for bodies it considers binary. */
  base64?: boolean;
  headers?: Record<string, string>;
}

export function consentEvent(method: string, path: string, request: ConsentRequest = {}): ConsentEvent {
  const body = request.form ? new URLSearchParams(request.form).toString() : undefined;
  return {
    rawPath: path,
    requestContext: { http: { method } },
    headers: { ...request.headers, ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(request.query ? { queryStringParameters: request.query } : {}),
    ...(request.cookies ? { cookies: request.cookies } : {}),
    ...(body !== undefined ? { body: request.base64 ? Buffer.from(body).toString('base64') : body, isBase64Encoded: !!request.base64 } : { isBase64Encoded: false }),
  } as unknown as ConsentEvent;
}
