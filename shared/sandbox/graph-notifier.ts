// What Microsoft Graph sends to a webhook, on the wire: the validation handshake (POST
// {url}?validationToken=… with Content-Type text/plain, answered 200 text/plain with the decoded token
// within 10 s — change-notifications-delivery-notificationurl-validation) and the change / lifecycle
// notification collections (POST application/json, a 2xx expected within 3 s —
// change-notifications-delivery-webhooks, change-notifications-lifecycle-events).
import { randomUUID } from 'node:crypto';

export const VALIDATION_TIMEOUT_MS = 10_000;
export const NOTIFICATION_TIMEOUT_MS = 3_000;

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface ChangeNotification {
  id: string;
  subscriptionId: string;
  subscriptionExpirationDateTime: string;
  changeType: 'created' | 'updated' | 'deleted';
  resource: string;
  resourceData: { '@odata.type': string; '@odata.id': string; '@odata.etag': string; id: string };
  clientState: string | null;
  tenantId: string;
}

export interface LifecycleNotification {
  subscriptionId: string;
  subscriptionExpirationDateTime: string;
  tenantId: string;
  clientState: string | null;
  lifecycleEvent: LifecycleEvent;
}

export interface Delivery {
  url: string;
  /** The HTTP status the endpoint answered; undefined when it did not answer in time or at all. */
  status: number | undefined;
  error?: string;
  durationMs: number;
}

export type ValidationOutcome = { ok: true } | { ok: false; status: 400; code: string; message: string };

/**
 * Graph's own tokens read like "Validation: Testing client application reachability for subscription
 * Request-Id: …": spaces, a colon and a dash, so an endpoint that echoes the raw query string
 * (still percent-encoded) fails exactly as it would against Graph.
 */
export function newValidationToken(): string {
  return `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()} & more=+/`;
}

export async function validateEndpoint(url: string, token = newValidationToken(), timeoutMs = VALIDATION_TIMEOUT_MS): Promise<ValidationOutcome & { delivery: Delivery }> {
  const target = new URL(url);
  target.searchParams.append('validationToken', token);
  const started = Date.now();
  let response: Response;
  let text: string;
  try {
    response = await fetch(target, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '', signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    text = await response.text();
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    const delivery: Delivery = { url, status: undefined, error: String((error as Error).message ?? error), durationMs: Date.now() - started };
    return timedOut
      ? { ok: false, status: 400, code: 'InvalidRequest', message: 'Subscription validation request timed out.', delivery }
      : { ok: false, status: 400, code: 'ValidationError', message: 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.', delivery };
  }
  const delivery: Delivery = { url, status: response.status, durationMs: Date.now() - started };
  if (response.status !== 200) {
    return { ok: false, status: 400, code: 'ValidationError', message: 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.', delivery };
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (!/^text\/plain\b/i.test(contentType)) {
    return { ok: false, status: 400, code: 'ValidationError', message: `Subscription validation request failed. Response must be text/plain, got '${contentType}'.`, delivery };
  }
  if (text !== token) {
    return { ok: false, status: 400, code: 'ValidationError', message: 'Subscription validation request failed. Response must exactly match validationToken query parameter.', delivery };
  }
  return { ok: true, delivery };
}

/** One POST of a notification collection; Graph treats anything but a timely 2xx as a failed delivery. */
export async function postNotifications(url: string, value: Array<ChangeNotification | LifecycleNotification>, timeoutMs = NOTIFICATION_TIMEOUT_MS): Promise<Delivery> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.arrayBuffer();
    return { url, status: response.status, durationMs: Date.now() - started };
  } catch (error) {
    return { url, status: undefined, error: String((error as Error).message ?? error), durationMs: Date.now() - started };
  }
}
