// Scheduled Gmail jobs (EventBridge Scheduler): `renew-watches` daily (Google stops pushing 7 days
// after the last watch), `safety-sync` every few minutes (a lost push is caught within one interval).
import { logger } from '../../shared/adapters/system/observability.js';
import { enqueueSafetySyncs, renewGmailWatches, type GmailLifecycleDeps } from '../../shared/domain/gmail/lifecycle.js';
import type { JobQueue } from '../../shared/domain/ports.js';

export interface GmailScheduleDeps extends GmailLifecycleDeps {
  queue: JobQueue;
  safetySyncMinutes: number;
  /** Publishes the metrics the run counted (Powertools in Lambda). */
  flush?: () => void;
}

export type GmailScheduledTask = 'renew-watches' | 'safety-sync';

export function makeHandler(deps: GmailScheduleDeps) {
  return async (event: { task?: unknown }): Promise<Record<string, number>> => {
    try {
      if (event.task === 'renew-watches') {
        const report = await renewGmailWatches(deps);
        logger.info('gmail watches renewed', { ...report });
        return { ...report };
      }
      if (event.task === 'safety-sync') {
        const enqueued = await enqueueSafetySyncs(deps, 'gmail', deps.safetySyncMinutes);
        logger.info('gmail safety syncs enqueued', { enqueued });
        return { enqueued };
      }
      throw new Error('scheduled event must name a task: "renew-watches" or "safety-sync"');
    } finally {
      deps.flush?.();
    }
  };
}
