// Verifies a Pub/Sub push's OIDC token with jose (small enough for a webhook bundle, unlike the
// whole google-auth-library): RS256 signature against Google's published keys, expiry, issuer,
// audience, and the push service account as a verified `email`.
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { DependencyUnavailable } from '../../domain/errors.js';
import type { PushVerifier } from '../../domain/gmail/ports.js';

export const GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
/** Google's tokens are valid for an hour; a little skew between clocks is normal. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** Google issues push tokens for an hour; this also refuses a token issued in the future. */
const MAX_TOKEN_AGE_SECONDS = 3600;

export interface PushVerifierOptions {
  /** The audience configured on the push subscription (by default its endpoint URL). */
  audience: string;
  /** The service account the push subscription authenticates as. */
  serviceAccountEmail: string;
  keys: JWTVerifyGetKey;
}

export class PubSubPushVerifier implements PushVerifier {
  /** Built once: the webhook verifies every push through it. */
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly options: PushVerifierOptions) {
    this.keys = keysOrUnavailable(options.keys);
  }

  /**
   * False for a token that is not a genuine push. Throws DependencyUnavailable when Google's keys
   * cannot be had (timeout, network, an error status or a set that is not one): that says nothing
   * about the token, so the push must fail with a 5xx and be retried by Pub/Sub, not be refused.
   */
  async verify(token: string): Promise<boolean> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: GOOGLE_ISSUERS,
        audience: this.options.audience,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        requiredClaims: ['exp', 'iat', 'email'],
      });
      return payload.email === this.options.serviceAccountEmail && payload.email_verified === true;
    } catch (error) {
      if (error instanceof DependencyUnavailable) throw error;
      return false;
    }
  }
}

/**
 * What the key set may answer about a token itself: it names no key of the set, or an ambiguous one, or
 * an algorithm the set has no keys for. Any other failure of the key lookup is the set's (a remote
 * set's fetch failed, or it served something that is not a key set).
 */
const TOKEN_FAULTS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSENotSupported, errors.JOSEAlgNotAllowed];

function keysOrUnavailable(keys: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      if (TOKEN_FAULTS.some((fault) => error instanceof fault)) throw error;
      throw new DependencyUnavailable("Google's push signing keys are unavailable", { cause: error });
    }
  };
}

/**
 * Google's keys, always in Lambda. A sandbox key set (the local push emitter's) is trusted only when
 * MAIL2TICKET_SANDBOX=1 outside Lambda: a deployed function can never be told to trust another key.
 */
export function pushSigningKeys(env: Record<string, string | undefined>, sandboxKeys?: JSONWebKeySet): JWTVerifyGetKey {
  const sandbox = env.MAIL2TICKET_SANDBOX === '1' && env.AWS_LAMBDA_FUNCTION_NAME === undefined;
  if (sandbox && sandboxKeys) return createLocalJWKSet(sandboxKeys);
  return createRemoteJWKSet(new URL(GOOGLE_CERTS_URL));
}

/**
 * Starts fetching Google's keys without waiting: the webhook calls this while it initialises, so its
 * first push does not wait for that round trip as well. A failed fetch is retried by the first verify.
 */
export function prefetchSigningKeys(keys: JWTVerifyGetKey): void {
  if ('reload' in keys && typeof keys.reload === 'function') (keys.reload as () => Promise<void>)().catch(() => undefined);
}
