// Lambda entry point of the scheduled Graph jobs.
import { systemClock } from '../../shared/adapters/system/system.js';
import { composeGraphSync } from '../graph-sync/compose.js';
import { makeHandler } from './make-handler.js';
import { traceInvocations } from '../../shared/adapters/system/tracing.js';

const { deps, metrics, settings, certificateNotAfter } = await composeGraphSync(process.env, 'graph-schedule');
export const handler = traceInvocations(makeHandler({
  ...deps,
  clock: systemClock,
  safetySyncMinutes: settings.safetySyncMinutes,
  ...(certificateNotAfter ? { certificateNotAfter } : {}),
  flush: () => metrics.publishStoredMetrics(),
}));
