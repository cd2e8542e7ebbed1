// V8 options of the functions that stream mail through ingestMessage (the ingest worker and the
// Gmail and Microsoft 365 sync workers). Kept free of imports: the benchmark starts its ingest
// processes with the same options (bench/ingest.ts), so it measures the functions as deployed.
//
// A 1 MB young generation. Streaming a message allocates its size several times over in short-lived
// Buffers (parser output, encryption frames, upload parts), whose memory lives outside the V8 heap
// and is returned when their small wrapper objects are collected. With the default young generation
// (up to 16 MB a semi-space) those wrappers wait for a collection until V8's external-memory trigger
// (about 64 MB) fires, so a message's peak memory depended on where in that saw-tooth it ended and
// grew with its size. Measured on the benchmark (ingest.rss_growth_*): peak growth 20-25 MB for
// attachments of 25 and 100 MB alike, against 28-80 MB by default; about 2% more CPU on large mail.
export const MAIL_STREAMING_V8_OPTIONS: readonly string[] = ['--max-semi-space-size=1'];
