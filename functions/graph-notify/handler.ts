// Lambda entry point of the Graph webhooks (both routes).
import { composeGraphNotify } from './compose.js';
import { makeHandler } from './make-handler.js';

const { deps, metrics } = composeGraphNotify();
export const handler = makeHandler(deps, metrics);
