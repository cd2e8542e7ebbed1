// Lambda entry point of the scheduled Gmail jobs.
import { systemClock } from '../../shared/adapters/system/system.js';
import { composeGmailSync } from '../gmail-sync/compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

const { deps, metrics, settings, directory } = await composeGmailSync(process.env, 'gmail-schedule');
export const handler = traceInvocations(makeHandler({
  ...deps,
  directory,
  clock: systemClock,
  settings,
  safetySyncMinutes: settings.safetySyncMinutes,
  flush: () => metrics.publishStoredMetrics(),
}));
