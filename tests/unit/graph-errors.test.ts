// translateGraphError on what msal-node throws at the token endpoint: real msal error classes, in the
// shape msal's ResponseHandler and throttle cache build them.
import { ClientAuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { translateGraphError } from '../../shared/adapters/graph/graph-errors.js';
import { ProviderMisconfigured, ProviderThrottled, ReauthorizationRequired } from '../../shared/domain/provider-errors.js';

/** As msal's ResponseHandler builds it from the token endpoint's answer. */
function tokenEndpoint(status: number, error: string, aadsts: number): ServerError {
  return new ServerError(error, 'corr', `Error(s): ${aadsts} - Timestamp: x - Description: AADSTS${aadsts}: … - Correlation ID: corr - Trace ID: t`, undefined, String(aadsts), status);
}

describe('translateGraphError on the Microsoft identity platform', () => {
  // Regression: every ServerError that did not look like a network error was reauthorization
  // required, so a brief sign-in outage disconnected Graph mailboxes until an admin reconnected them.
  it('retries a sign-in outage: 5xx, 429, temporarily_unavailable, and msal\'s throttle cache', () => {
    expect(translateGraphError(tokenEndpoint(503, 'temporarily_unavailable', 90033))).toBeInstanceOf(ProviderThrottled);
    expect(translateGraphError(tokenEndpoint(500, 'server_error', 50000))).toBeInstanceOf(ProviderThrottled);
    expect(translateGraphError(tokenEndpoint(400, 'temporarily_unavailable', 90033))).toBeInstanceOf(ProviderThrottled);
    expect(translateGraphError(tokenEndpoint(429, 'invalid_request', 50196))).toMatchObject({ rateLimited: true });
    // msal answers from its throttle cache after a 429/5xx with the AADSTS numbers alone, no status.
    expect(translateGraphError(new ServerError('90033', 'corr', 'AADSTS90033: A transient error has occurred.'))).toBeInstanceOf(ProviderThrottled);
    expect(translateGraphError(new ClientAuthError('network_error', 'Network request failed'))).toBeInstanceOf(ProviderThrottled);
  });

  it('asks the customer\'s admin only for a refused grant, consent, or app removed from their tenant', () => {
    expect(translateGraphError(tokenEndpoint(400, 'invalid_grant', 70000))).toBeInstanceOf(ReauthorizationRequired);
    expect(translateGraphError(new InteractionRequiredAuthError('consent_required', 'AADSTS65001: consent'))).toBeInstanceOf(ReauthorizationRequired);
    expect(translateGraphError(tokenEndpoint(401, 'invalid_client', 7000229))).toBeInstanceOf(ReauthorizationRequired);
    expect(translateGraphError(tokenEndpoint(400, 'unauthorized_client', 700016))).toBeInstanceOf(ReauthorizationRequired);
  });

  it('reports our own app credential refused (wrong or expired secret, unknown certificate) as a configuration error', () => {
    for (const [error, code] of [['invalid_client', 7000215], ['invalid_client', 7000222], ['invalid_client', 700027], ['unauthorized_client', 700025]] as const) {
      const translated = translateGraphError(tokenEndpoint(401, error, code));
      expect(translated, `${error} ${code}`).toBeInstanceOf(ProviderMisconfigured);
      expect(translated).toMatchObject({ retryable: true });
    }
  });

  it('keeps the translation when the Graph SDK re-wraps what the auth provider threw', () => {
    const rewrapped = Object.assign(new Error(''), { statusCode: -1, code: 'ProviderMisconfigured' });
    expect(translateGraphError(rewrapped)).toBeInstanceOf(ProviderMisconfigured);
  });
});
