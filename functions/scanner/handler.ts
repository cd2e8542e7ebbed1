// Lambda entry point of the attachment scanner. At cold start the definitions come down from S3 and
// clamd starts beside the function; the first invocation waits for it (bounded), later ones reuse it.
import { composeScanner } from './compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

export const handler = traceInvocations(makeHandler(composeScanner().deps));
