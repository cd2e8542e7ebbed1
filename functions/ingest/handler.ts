// Lambda entry point: clients and configuration are built once per cold start.
import { makeHandler } from './make-handler.js';
import { composeIngestDeps } from './compose.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

export const handler = traceInvocations(makeHandler(composeIngestDeps()));
