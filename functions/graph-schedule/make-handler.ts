// Scheduled Graph jobs (EventBridge Scheduler): `renew-subscriptions` a few times a day (renewing what
// lapses within two days), `safety-sync` every few minutes (a delta round catches any lost notification).
// Every renewal run also reports how many days the app certificate has left, for the stack's alarm.
import { logger } from '../../shared/adapters/system/observability.js';
import { enqueueSafetySyncs } from '../../shared/domain/gmail/lifecycle.js';
import { renewGraphSubscriptions, type GraphLifecycleDeps } from '../../shared/domain/graph/lifecycle.js';
import type { JobQueue } from '../../shared/domain/ports.js';

/** Whole days until the app certificate's `notAfter` (negative once expired); the stack alarms below 30. */
export const CERTIFICATE_DAYS_LEFT_METRIC = 'graph.app_certificate_days_left';

const DAY_MS = 86_400_000;

export interface GraphScheduleDeps extends GraphLifecycleDeps {
  queue: JobQueue;
  safetySyncMinutes: number;
  /** The app certificate's expiry as stored in the secret (`notAfter`); absent for a client secret. */
  certificateNotAfter?: string;
  flush?: () => void;
}

export function makeHandler(deps: GraphScheduleDeps) {
  return async (event: { task?: unknown }): Promise<Record<string, number>> => {
    try {
      if (event.task === 'renew-subscriptions') {
        // First: a failing renewal must not hide the certificate's countdown.
        reportCertificateDaysLeft(deps);
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

/**
 * A gauge sent through the Metrics port (one value per run; the alarm takes the minimum). Without a
 * readable `notAfter` nothing is sent: the alarm treats the missing value as breaching, since an
 * expiry nobody can see is exactly what it exists to prevent.
 */
function reportCertificateDaysLeft(deps: GraphScheduleDeps): void {
  const notAfter = Date.parse(deps.certificateNotAfter ?? '');
  if (Number.isNaN(notAfter)) {
    logger.warn('the Graph app secret names no certificate expiry ("notAfter"): the certificate alarm cannot count down');
    return;
  }
  deps.metrics.count(CERTIFICATE_DAYS_LEFT_METRIC, Math.floor((notAfter - deps.clock.now().getTime()) / DAY_MS));
}
