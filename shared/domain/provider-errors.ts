// What a mailbox provider's failures mean to the domain, whichever provider and client library.
// Adapters translate HTTP statuses and error reasons into these; use-cases decide on them.
import { DomainError } from './errors.js';

/** 429, a rate-limit reason, or a 5xx/timeout: try again later, no sooner than `retryAfterSeconds`. */
export class ProviderThrottled extends DomainError {
  readonly code = 'provider_throttled';
  readonly retryable = true;
  /**
   * A rate limit (429, a quota reason): it holds for the whole mailbox, so a sync stops at it. A 5xx
   * or timeout is not one: on a job's last attempts the sync may park the one message and go on.
   */
  readonly rateLimited: boolean;
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown; rateLimited?: boolean },
  ) {
    super(message, options);
    this.rateLimited = options?.rateLimited ?? false;
  }
}

/** The provider has no such item (a message deleted before we fetched it). */
export class ProviderNotFound extends DomainError {
  readonly code = 'provider_not_found';
  readonly retryable = false;
}

/** The stored cursor is older than the provider keeps history for (Gmail 404, Graph 410 on delta). */
export class CursorExpired extends DomainError {
  readonly code = 'cursor_expired';
  readonly retryable = false;
}

/** The refresh token was revoked or expired (`invalid_grant`): only the client admin can fix it. */
export class ReauthorizationRequired extends DomainError {
  readonly code = 'reauthorization_required';
  readonly retryable = false;
}

/** The provider refused a request for a reason a retry cannot fix (403 without a rate reason, 400). */
export class ProviderRejected extends DomainError {
  readonly code = 'provider_rejected';
  readonly retryable = false;
}

/**
 * The provider refused our own app (invalid_client, unauthorized_client: a wrong, rotated or expired
 * client secret or certificate). An operator's mistake, the same for every mailbox: the mailboxes keep
 * their grants, and the job fails and is retried (its failures and metric alarm) until the
 * configuration is fixed. Never a reason to mark a mailbox reauthorization_required.
 */
export class ProviderMisconfigured extends DomainError {
  readonly code = 'provider_misconfigured';
  readonly retryable = true;
  override readonly exposeMessage = false;
}
