// Lambda entry point of the Graph webhooks (both routes).
// Traced by Lambda's active tracing only (its segment: init, invocation, overhead), not in-process:
// the X-Ray SDK would add about 125 KB to a bundle of 60 KB and 25-45 ms to its import, against the
// webhook's cold-start budget (bench: graph.webhook_bundle_kb, graph.webhook_cold_init_ratio).
import { composeGraphNotify } from './compose.js';
import { makeHandler } from './make-handler.js';

const { deps, metrics } = composeGraphNotify();
export const handler = makeHandler(deps, metrics);
