// Lambda entry point of the scheduled ClamAV definitions refresh (every 3 hours; the payload is ignored).
import { composeDefinitionsUpdate } from './compose.js';
import { makeHandler } from './make-handler.js';

export const handler = makeHandler(composeDefinitionsUpdate().deps);
