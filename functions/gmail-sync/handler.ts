// Lambda entry point of the Gmail sync worker. The OAuth client secret is read once, at cold start.
import { composeGmailSync } from './compose.js';
import { makeHandler } from './make-handler.js';

const { deps, metrics } = await composeGmailSync();
export const handler = makeHandler(deps, metrics);
