// Lambda entry point: clients and configuration are built once per cold start.
import { makeHandler } from './make-handler.js';
import { composeIngestDeps } from './compose.js';

export const handler = makeHandler(composeIngestDeps());
