// Lambda entry point of the Graph sync worker. The app credential is read once, at cold start.
import { composeGraphSync } from './compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

const { deps, metrics } = await composeGraphSync();
export const handler = traceInvocations(makeHandler(deps, metrics));
