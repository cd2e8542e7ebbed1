// Google's JSON error envelope, as googleapis.com answers it and as gaxios surfaces it to callers
// (error.response.data.error): `{ error: { code, message, errors: [{ message, domain, reason }], status } }`.
// The shapes and messages follow the Gmail API's "Resolve errors" guide and what the API sends today
// (401 carries `status: UNAUTHENTICATED` and a WWW-Authenticate header).

/** The canonical gRPC status Google pairs with each HTTP status in its JSON errors. */
const CANONICAL_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface GoogleErrorDetail {
  message: string;
  domain: string;
  reason: string;
  location?: string;
  locationType?: string;
}

export interface GoogleErrorBody {
  error: { code: number; message: string; errors: GoogleErrorDetail[]; status: string };
}

export function googleError(code: number, message: string, reason: string, extra: { domain?: string; location?: string; locationType?: string } = {}): GoogleErrorBody {
  const detail: GoogleErrorDetail = { message, domain: extra.domain ?? 'global', reason };
  if (extra.location) detail.location = extra.location;
  if (extra.locationType) detail.locationType = extra.locationType;
  return { error: { code, message, errors: [detail], status: CANONICAL_STATUS[code] ?? 'UNKNOWN' } };
}

/** A fault's body: Gmail answers 429 with usageLimits/rateLimitExceeded and 5xx with backendError. */
export function faultError(status: number, reason?: string): GoogleErrorBody {
  if (status === 429) return googleError(429, 'Too many concurrent requests for user', reason ?? 'rateLimitExceeded', { domain: 'usageLimits' });
  if (status === 403 && reason) return googleError(403, 'User Rate Limit Exceeded', reason, { domain: 'usageLimits' });
  if (status >= 500) return googleError(status, 'Backend Error', reason ?? 'backendError');
  return googleError(status, reason ?? 'Error', reason ?? 'failedPrecondition');
}

export const notFound = (): GoogleErrorBody => googleError(404, 'Requested entity was not found.', 'notFound');

export const invalidArgument = (message: string, location?: string): GoogleErrorBody =>
  googleError(400, message, 'invalidArgument', location ? { location, locationType: 'parameter' } : {});

export const unauthenticated = (): GoogleErrorBody =>
  googleError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'authError',
    { location: 'Authorization', locationType: 'header' },
  );

/** The header Google sends with every 401 from an API (not from the token endpoint). */
export const UNAUTHENTICATED_HEADERS = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };

/** The token endpoint's errors are plain OAuth 2.0 (RFC 6749 §5.2), not the API envelope. */
export interface OAuthErrorBody {
  error: string;
  error_description: string;
}
