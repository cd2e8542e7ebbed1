// Graph's and the identity platform's failures, translated into the domain's provider errors.
import { CursorExpired, ProviderNotFound, ProviderRejected, ProviderThrottled, ReauthorizationRequired } from '../../domain/provider-errors.js';
import { retryAfterSeconds } from '../gmail/google-errors.js';

interface GraphErrorShape {
  statusCode?: number;
  code?: string | null;
  headers?: unknown;
  errorCode?: string;
  name?: string;
}

/** Graph answers a forgotten delta state with 410 and one of these codes. */
const DELTA_GONE = new Set(['syncStateNotFound', 'resyncRequired', 'SyncStateNotFound', 'ResyncRequired', 'syncStateInvalid']);
const AUTH_CODES = new Set(['InvalidAuthenticationToken', 'ErrorAccessDenied', 'Authorization_RequestDenied', 'AuthenticationError']);

export function translateGraphError(error: unknown, what: { notFound?: 'message' | 'delta' } = {}): Error {
  const e = (error ?? {}) as GraphErrorShape;
  if (error instanceof ReauthorizationRequired) return error;
  // The Graph SDK re-wraps what the auth provider threw (msal's refusal, already translated) as a
  // GraphError with statusCode -1 and the original's name as its code: without this, a revoked consent
  // read as "Graph could not be reached" — a throttle, retried for ever against the token endpoint.
  if (e.code === ReauthorizationRequired.name && !(typeof e.statusCode === 'number' && e.statusCode > 0)) {
    return new ReauthorizationRequired('Microsoft refused our app\'s token request', { cause: error });
  }
  // msal-node: the app's consent or credential is gone (invalid_client, unauthorized_client, AADSTS…).
  if (e.name === 'ServerError' || e.name === 'ClientAuthError' || e.name === 'ClientConfigurationError') {
    return /network|timed? ?out|ECONN|ENOTFOUND|EAI_AGAIN/i.test(`${e.errorCode ?? ''} ${String((error as Error).message ?? '')}`)
      ? new ProviderThrottled('the Microsoft identity platform could not be reached', undefined, { cause: error })
      : new ReauthorizationRequired('Microsoft refused our app\'s token request', { cause: error });
  }
  const status = typeof e.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : undefined;
  const code = e.code ?? '';
  if (status === undefined) return new ProviderThrottled('Graph could not be reached', undefined, { cause: error });
  if (status === 429 || status === 503 || status === 504 || status >= 500) return new ProviderThrottled(`Graph answered ${status}`, retryAfterSeconds(e.headers), { cause: error, rateLimited: status === 429 });
  if (status === 410 || DELTA_GONE.has(code)) return new CursorExpired('Graph no longer knows the delta state', { cause: error });
  if (status === 401 || (status === 403 && AUTH_CODES.has(code))) return new ReauthorizationRequired(`Graph refused access (${status} ${code})`, { cause: error });
  if (status === 404) return new ProviderNotFound('Graph has no such item', { cause: error });
  return new ProviderRejected(`Graph answered ${status}${code ? ` (${code})` : ''}`, { cause: error });
}
