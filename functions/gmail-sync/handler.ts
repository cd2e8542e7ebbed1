// Lambda entry point of the Gmail sync worker. The OAuth client secret is read once, at cold start.
import { composeGmailSync } from './compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

const { deps, metrics } = await composeGmailSync();
export const handler = traceInvocations(makeHandler(deps, metrics));
