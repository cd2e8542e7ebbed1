// Lambda entry point of the Gmail push webhook.
// Traced by Lambda's active tracing only (its segment: init, invocation, overhead), not in-process:
// the X-Ray SDK would add about 125 KB to a bundle of 80 KB and 25-45 ms to its import, against the
// webhook's cold-start budget (bench: gmail.webhook_bundle_kb, gmail.webhook_cold_init_ratio).
import { composeGmailPush } from './compose.js';
import { makeHandler } from './make-handler.js';

const { deps, metrics } = composeGmailPush();
export const handler = makeHandler(deps, metrics);
