// Lambda entry point of the scheduled ClamAV definitions refresh (every 3 hours; the payload is ignored).
import { composeDefinitionsUpdate } from './compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

export const handler = traceInvocations(makeHandler(composeDefinitionsUpdate().deps));
