// Lambda entry point of the consent site. Secrets (signing key, OAuth clients) are read once, at cold start.
import { composeConsent } from './compose.js';
import { makeHandler } from './make-handler.js';

export const handler = makeHandler(await composeConsent());
