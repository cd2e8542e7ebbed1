// Lambda entry point of the consent site. Secrets (signing key, OAuth clients) are read once, at cold start.
import { composeConsent } from './compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

export const handler = traceInvocations(makeHandler(await composeConsent()));
