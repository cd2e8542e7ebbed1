// Lambda entry point of the Gmail push webhook.
import { composeGmailPush } from './compose.js';
import { makeHandler } from './make-handler.js';

const { deps, metrics } = composeGmailPush();
export const handler = makeHandler(deps, metrics);
