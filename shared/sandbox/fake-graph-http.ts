// The HTTP plumbing of the fake Graph: Graph's error body and headers, the Prefer header, bearer
// tokens, and bounded request reading.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenRejection } from './fake-identity.js';
import { fail, type Failure } from './fake-graph-json.js';

/** Past this size a request is dropped unanswered (Graph takes MIME up to 150 MB; the fake's tests need far less). */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
export const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Graph's error body; 429s carry the extra innerError fields of the throttling sample. */
export function errorBody(failure: Failure, requestId: string, clientRequestId: string): Record<string, unknown> {
  const date = new Date().toISOString().replace(/\.\d{3}Z$/, '');
  const throttled = failure.status === 429 ? { code: '429', status: '429', message: 'Please retry after' } : {};
  return { error: { code: failure.code, message: failure.message, innerError: { ...throttled, date, 'request-id': requestId, 'client-request-id': clientRequestId } } };
}

export function faultFailure(fault: { status: number; retryAfterSeconds?: number; code?: string; message?: string }): Failure {
  const defaults: Record<number, [string, string]> = {
    429: ['TooManyRequests', 'Please retry again later.'],
    503: ['serviceNotAvailable', 'The service is not available. Try the request again after a delay.'],
    504: ['UnknownError', 'The gateway did not receive a timely response.'],
  };
  const [code, message] = defaults[fault.status] ?? ['generalException', 'An unspecified error has occurred.'];
  return fail(fault.status, fault.code ?? code, fault.message ?? message, fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : undefined);
}

export function unauthorized(reason: TokenRejection): Failure {
  const messages: Record<TokenRejection, string> = {
    missing: 'Access token is empty.',
    malformed: 'IDX14100: JWT is not well formed.',
    signature: 'Access token validation failure. Invalid signature.',
    expired: 'Lifetime validation failed, the token is expired.',
    audience: 'Access token validation failure. Invalid audience.',
    revoked: 'Access token validation failure. The app is no longer authorized in this tenant.',
  };
  return fail(401, 'InvalidAuthenticationToken', messages[reason], {
    'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  });
}

export function parsePrefer(value: string | undefined): { idType?: string; maxPageSize?: number } {
  const result: { idType?: string; maxPageSize?: number } = {};
  for (const part of (value ?? '').split(',')) {
    const [name = '', raw = ''] = part.split('=').map((s) => s.trim());
    const unquoted = raw.replace(/^"(.*)"$/, '$1');
    if (name.toLowerCase() === 'idtype') result.idType = unquoted.toLowerCase();
    if (name.toLowerCase() === 'odata.maxpagesize' && Number(unquoted) > 0) result.maxPageSize = Number(unquoted);
  }
  return result;
}

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

export function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function sendText(res: ServerResponse, contentType: string, text: string): void {
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** The request body, or undefined when it is larger than MAX_REQUEST_BYTES (the connection is then dropped). */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      req.socket.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

