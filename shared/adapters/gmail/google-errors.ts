// Google's failures, as gaxios surfaces them, translated into the domain's provider errors.
// Rate limits come as 429, or as 403 with reason rateLimitExceeded / userRateLimitExceeded.
import { CursorExpired, ProviderMisconfigured, ProviderNotFound, ProviderRejected, ProviderThrottled, ReauthorizationRequired } from '../../domain/provider-errors.js';

interface GoogleErrorShape {
  status?: number;
  code?: string | number;
  response?: { status?: number; headers?: unknown; data?: unknown };
}

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'backendError']);

export function translateGoogleError(error: unknown, what: { notFound?: 'message' | 'history' } = {}): Error {
  const e = (error ?? {}) as GoogleErrorShape;
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : undefined);
  const data = e.response?.data as { error?: unknown; error_description?: unknown } | undefined;
  if (data?.error === 'invalid_grant') return new ReauthorizationRequired('Google refused the refresh token (invalid_grant)', { cause: error });
  // The token endpoint refused our OAuth client itself (a wrong or rotated secret): every mailbox's
  // grant is still good, so none is marked for reauthorization; the job fails until an operator fixes it.
  if (data?.error === 'invalid_client' || data?.error === 'unauthorized_client') {
    return new ProviderMisconfigured(`Google refused our OAuth client (${data.error})`, { cause: error });
  }
  if (status === undefined) return new ProviderThrottled('Gmail could not be reached', undefined, { cause: error });
  const reasons = googleReasons(data);
  const retryAfter = retryAfterSeconds(e.response?.headers);
  if (status === 429 || (status === 403 && reasons.some((r) => RATE_REASONS.has(r))) || status >= 500) {
    return new ProviderThrottled(`Gmail answered ${status}`, retryAfter, { cause: error, rateLimited: status === 429 || status === 403 });
  }
  if (status === 401) return new ReauthorizationRequired('Gmail refused the access token', { cause: error });
  if (status === 404 && what.notFound === 'history') return new CursorExpired('Gmail no longer has history from the stored cursor', { cause: error });
  if (status === 404) return new ProviderNotFound('Gmail has no such message', { cause: error });
  return new ProviderRejected(`Gmail answered ${status}${reasons.length ? ` (${reasons.join(', ')})` : ''}`, { cause: error });
}

function googleReasons(data: { error?: unknown } | undefined): string[] {
  const inner = data?.error as { errors?: Array<{ reason?: unknown }> } | undefined;
  if (!inner || typeof inner !== 'object' || !Array.isArray(inner.errors)) return [];
  return inner.errors.map((item) => item.reason).filter((reason): reason is string => typeof reason === 'string');
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterSeconds(headers: unknown, now: number = Date.now()): number | undefined {
  // gaxios hands over fetch's Headers (possibly another realm's class than this one's global).
  const getter = (headers as { get?: unknown } | null)?.get;
  const value =
    typeof getter === 'function'
      ? (getter as (name: string) => string | null).call(headers, 'retry-after')
      : typeof headers === 'object' && headers !== null
        ? (headers as Record<string, unknown>)['retry-after']
        : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
