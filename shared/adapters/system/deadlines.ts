// How long a provider connector waits, shared by the Gmail and Graph adapters.

/** An ordinary API call, its answer's body included; a timeout is a throttle to the domain (retried later). */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A message's raw download (Gmail's `format=raw`, Graph's `/$value`). Its deadline covers reading the
 * whole body, up to 150 MB, which the ingest streams into S3 and the scanner with backpressure: 30 s
 * would cut a large message behind a slow scan or any link slower than 5 MB/s, and every retry again.
 */
export const MESSAGE_DOWNLOAD_TIMEOUT_MS = 300_000;

/**
 * What a sync worker keeps in hand when it stops starting messages (domain/connectors/budget.ts): a raw
 * download's deadline, and a minute to scan, store and save its place.
 */
export const SYNC_TIME_RESERVE_MS = MESSAGE_DOWNLOAD_TIMEOUT_MS + 60_000;
