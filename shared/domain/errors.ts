// Typed errors. Each says whether a retry can help, and whether its message is safe to show a caller
// (http-error-handler and the CLI print only those; everything else is a generic failure).

export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  readonly exposeMessage: boolean = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFound extends DomainError {
  readonly code = 'not_found';
  readonly retryable = false;
}

export class BlobNotFound extends DomainError {
  readonly code = 'blob_not_found';
  readonly retryable = false;
}

export class MailboxDisconnected extends DomainError {
  readonly code = 'mailbox_disconnected';
  readonly retryable = false;
}

/** Another ingestion of the same message holds the claim and its lease has not run out. */
export class IngestInProgress extends DomainError {
  readonly code = 'ingest_in_progress';
  readonly retryable = true;
}

export class AttachmentNotServable extends DomainError {
  readonly code = 'attachment_not_servable';
  readonly retryable = false;
}

/** A dependency (store, queue, key service) failed in a way a later attempt may not. */
export class DependencyUnavailable extends DomainError {
  readonly code = 'dependency_unavailable';
  readonly retryable = true;
  override readonly exposeMessage = false;
}

export class ConfigError extends DomainError {
  readonly code = 'config_error';
  readonly retryable = false;
}

export class InvalidInput extends DomainError {
  readonly code = 'invalid_input';
  readonly retryable = false;
}
