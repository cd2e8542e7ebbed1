// Why the consent site refuses a request. Each code has its own localized page; none carries details.
import { DomainError } from '../errors.js';

export type ConsentErrorCode =
  | 'invite_invalid'
  | 'invite_expired'
  | 'invite_used'
  | 'invite_revoked'
  | 'session_expired'
  | 'state_invalid'
  | 'state_replayed'
  | 'state_expired'
  | 'access_denied'
  | 'redirect_mismatch'
  | 'wrong_directory'
  | 'not_admin'
  | 'wrong_account'
  | 'csrf'
  | 'mailbox_in_use'
  | 'provider_error'
  | 'internal_error'
  | 'not_found'
  | 'bad_request';

export class ConsentRefused extends DomainError {
  readonly retryable = false;
  constructor(
    readonly code: ConsentErrorCode,
    message: string = code,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
