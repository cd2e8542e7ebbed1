// The ingest suite's in-process measurements, in a process started with the ingest functions' V8
// options (see ingest.ts). Prints one metric JSON object per line; progress goes to stderr.
import { measurePipeline } from './ingest.js';

for (const metric of await measurePipeline()) process.stdout.write(`${JSON.stringify(metric)}\n`);
