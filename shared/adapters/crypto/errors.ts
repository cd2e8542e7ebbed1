// Failures of the key service, typed for the domain: a ciphertext we won't open (permanent) versus a
// key service that is unavailable (retry).
import { DependencyUnavailable, DomainError } from '../../domain/errors.js';
import { isTransientAwsError } from '../s3/aws-errors.js';

/**
 * A ciphertext this service will not open: another tenant, mailbox or purpose, an algorithm suite we
 * never write, tampered bytes, or a tenant whose key is gone. A retry can't help; the message names
 * no data and is still kept from callers.
 */
export class CiphertextRejected extends DomainError {
  readonly code = 'ciphertext_rejected';
  readonly retryable = false;
  override readonly exposeMessage = false;
}

/**
 * The SDK's KMS keyring folds every failed Decrypt into one Error whose message holds the stacks of
 * the causes, so the cause's type is lost. The KMS client we hand the keyring throws this message on
 * transient failures, and `translateKeyError` recognises it in the folded text.
 */
export const KEY_SERVICE_UNAVAILABLE = 'the key service is unavailable (transient)';

export function keyServiceUnavailable(cause: unknown): DependencyUnavailable {
  return new DependencyUnavailable(KEY_SERVICE_UNAVAILABLE, { cause });
}

/** Runs a KMS request, turning a transient failure into `DependencyUnavailable`. */
export async function guardTransient<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw isTransientAwsError(error) ? keyServiceUnavailable(error) : error;
  }
}

/** Maps what the Encryption SDK throws to the domain's errors; `op` decides the default. */
export function translateKeyError(error: unknown, op: 'encrypt' | 'decrypt'): Error {
  if (error instanceof DomainError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes(KEY_SERVICE_UNAVAILABLE)) return keyServiceUnavailable(error);
  // Whatever else stops a decryption (a GCM tag that fails, a data key that won't unwrap, a
  // truncated or malformed message) means these bytes can't be opened under this context.
  if (op === 'decrypt') return new CiphertextRejected('the ciphertext could not be decrypted', { cause: error });
  return error instanceof Error ? error : new Error(message);
}
