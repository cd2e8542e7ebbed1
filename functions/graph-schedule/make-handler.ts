// Scheduled Graph jobs (EventBridge Scheduler): `renew-subscriptions` a few times a day (renewing what
// lapses within two days), `safety-sync` every few minutes (a delta round catches any lost notification).
import { logger } from '../../shared/adapters/system/observability.js';
import { enqueueSafetySyncs } from '../../shared/domain/gmail/lifecycle.js';
import { renewGraphSubscriptions, type GraphLifecycleDeps } from '../../shared/domain/graph/lifecycle.js';
import type { JobQueue } from '../../shared/domain/ports.js';

export interface GraphScheduleDeps extends GraphLifecycleDeps {
  queue: JobQueue;
  safetySyncMinutes: number;
  flush?: () => void;
}

export function makeHandler(deps: GraphScheduleDeps) {
  return async (event: { task?: unknown }): Promise<Record<string, number>> => {
    try {
      if (event.task === 'renew-subscriptions') {
        const report = await renewGraphSubscriptions(deps);
        logger.info('graph subscriptions renewed', { ...report });
        return { ...report };
      }
      if (event.task === 'safety-sync') {
        const enqueued = await enqueueSafetySyncs(deps, 'graph', deps.safetySyncMinutes);
        logger.info('graph safety syncs enqueued', { enqueued });
        return { enqueued };
      }
      throw new Error('scheduled event must name a task: "renew-subscriptions" or "safety-sync"');
    } finally {
      deps.flush?.();
    }
  };
}
