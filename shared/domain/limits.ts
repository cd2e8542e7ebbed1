// Bounds on untrusted mail. What a limit skips becomes a visible notice, never a silent drop.

export interface IngestLimits {
  /** Raw bytes kept and parsed; the rest of a longer message is discarded with a notice. */
  maxMessageBytes: number;
  /** Bytes of one attachment; a larger one is not stored (notice) and never served. */
  maxAttachmentBytes: number;
  maxAttachments: number;
  /** Header block of one MIME part. */
  maxHeaderBytes: number;
  /** MIME parts in the whole message. */
  maxParts: number;
  /** multipart nesting depth. */
  maxNestingDepth: number;
  /** How long an unfinished ingestion of a message holds its claim before a retry may take over. */
  claimLeaseSeconds: number;
}

const MiB = 1024 * 1024;

// Microsoft 365 accepts messages up to 150 MB and Gmail 25 MB (base64 adds a third), so the defaults
// let every message a connected mailbox can hold through, with room for encoding.
export const DEFAULT_LIMITS: IngestLimits = Object.freeze({
  maxMessageBytes: 200 * MiB,
  maxAttachmentBytes: 150 * MiB,
  maxAttachments: 100,
  maxHeaderBytes: 256 * 1024,
  maxParts: 500,
  maxNestingDepth: 30,
  claimLeaseSeconds: 120,
});
