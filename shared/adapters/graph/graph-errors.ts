// Graph's and the identity platform's failures, translated into the domain's provider errors.
import { CursorExpired, ProviderMisconfigured, ProviderNotFound, ProviderRejected, ProviderThrottled, ReauthorizationRequired } from '../../domain/provider-errors.js';
import { retryAfterSeconds } from '../gmail/google-errors.js';

interface GraphErrorShape {
  statusCode?: number;
  code?: string | null;
  headers?: unknown;
  errorCode?: string;
  name?: string;
  /** msal's ServerError: the token endpoint's HTTP status and first AADSTS number. */
  status?: number;
  errorNo?: string | number;
}

/** Graph answers a forgotten delta state with 410 and one of these codes. */
const DELTA_GONE = new Set(['syncStateNotFound', 'resyncRequired', 'SyncStateNotFound', 'ResyncRequired', 'syncStateInvalid']);
const AUTH_CODES = new Set(['InvalidAuthenticationToken', 'ErrorAccessDenied', 'Authorization_RequestDenied', 'AuthenticationError']);

export function translateGraphError(error: unknown, what: { notFound?: 'message' | 'delta' } = {}): Error {
  const e = (error ?? {}) as GraphErrorShape;
  if (error instanceof ReauthorizationRequired || error instanceof ProviderMisconfigured) return error;
  // The Graph SDK re-wraps what the auth provider threw (msal's refusal, already translated) as a
  // GraphError with statusCode -1 and the original's name as its code: without this, a revoked consent
  // read as "Graph could not be reached" — a throttle, retried for ever against the token endpoint.
  if (!(typeof e.statusCode === 'number' && e.statusCode > 0)) {
    if (e.code === ReauthorizationRequired.name) return new ReauthorizationRequired('Microsoft refused our app\'s token request', { cause: error });
    if (e.code === ProviderMisconfigured.name) return new ProviderMisconfigured('Microsoft refused our app\'s credential', { cause: error });
  }
  if (e.name === 'ServerError' || e.name === 'InteractionRequiredAuthError' || e.name === 'ClientAuthError' || e.name === 'ClientConfigurationError') {
    return translateIdentityError(error, e);
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

/** OAuth errors by which the token endpoint refuses our app itself: the same for every mailbox. */
const APP_REFUSED = new Set(['invalid_client', 'unauthorized_client', 'invalid_scope']);
/** The token endpoint is down or busy (AADSTS90033 and the like): worth another try. */
const IDENTITY_TRANSIENT = new Set(['temporarily_unavailable', 'server_error']);
/**
 * invalid_client / unauthorized_client answers that concern one customer's tenant, not our app: its
 * admin removed the app's service principal (7000229), never installed it (700016) or disabled it
 * (7000112). Only that admin can fix these.
 */
const TENANT_REFUSED = new Set([7000229, 700016, 7000112]);

/**
 * msal-node reports every token-endpoint failure as a ServerError (its `status`, the OAuth `errorCode`,
 * the AADSTS number in `errorNo`), and answers from its own throttle cache after a 429/5xx with the
 * AADSTS numbers alone. Only a refused grant or consent asks the customer's admin to act; a sign-in
 * outage is retried, and a refused app credential is the operator's to fix.
 */
function translateIdentityError(error: unknown, e: GraphErrorShape): Error {
  const code = (e.errorCode ?? '').trim();
  const message = String((error as Error).message ?? '');
  const aadsts = Number(e.errorNo ?? /AADSTS(\d+)/.exec(message)?.[1] ?? NaN);
  const status = typeof e.status === 'number' ? e.status : undefined;
  const unreachable = new ProviderThrottled('the Microsoft identity platform could not be reached', undefined, { cause: error });
  if (e.name === 'ClientConfigurationError') return new ProviderMisconfigured('msal refused our app\'s configuration', { cause: error });
  if (e.name === 'InteractionRequiredAuthError' || code === 'invalid_grant' || code === 'interaction_required' || code === 'consent_required') {
    return new ReauthorizationRequired(`Microsoft refused our app's token request (${code || e.name})`, { cause: error });
  }
  if (/network|timed? ?out|ECONN|ENOTFOUND|EAI_AGAIN/i.test(`${code} ${message}`)) return unreachable;
  if (status === 429 || (status !== undefined && status >= 500) || IDENTITY_TRANSIENT.has(code)) {
    return new ProviderThrottled(`the Microsoft identity platform answered ${status ?? code}`, undefined, { cause: error, rateLimited: status === 429 });
  }
  // msal's throttle cache (only a 429/5xx or a Retry-After fills it): no OAuth code, only AADSTS numbers.
  if (e.name === 'ServerError' && status === undefined && /^[\d\s]*$/.test(code)) return unreachable;
  if (APP_REFUSED.has(code) && !TENANT_REFUSED.has(aadsts)) {
    return new ProviderMisconfigured(`Microsoft refused our app's credential (${code}${Number.isNaN(aadsts) ? '' : ` AADSTS${aadsts}`})`, { cause: error });
  }
  return new ReauthorizationRequired(`Microsoft refused our app's token request (${code || e.name})`, { cause: error });
}
