// Lambda entry point of the operator's tenant commands; the signing secret is read once, at cold start.
import { composeTenantLifecycle } from './compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

export const handler = traceInvocations(makeHandler(await composeTenantLifecycle()));
