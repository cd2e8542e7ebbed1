// The scheduled ClamAV definitions refresh. Whatever happens, the age of the definitions the scanner
// uses is published (definitions_age_hours; a stale-definitions alarm watches it), then a failure
// fails the invocation so it shows in the function's errors too.
import { refreshDefinitions, type RefreshDeps } from '../../shared/adapters/clamav/definitions.js';
import type { ScannerMetrics } from '../../shared/adapters/clamav/scanner-metrics.js';
import { logger } from '../../shared/adapters/system/observability.js';

export interface DefinitionsUpdateDeps extends RefreshDeps {
  metrics: ScannerMetrics;
}

export class DefinitionsUpdateFailed extends Error {
  override name = 'DefinitionsUpdateFailed';
}

export function makeHandler(deps: DefinitionsUpdateDeps) {
  return async (_event: unknown): Promise<{ uploaded: string[]; removed: string[]; ageHours: number }> => {
    const result = await refreshDefinitions(deps);
    deps.metrics.gauge('definitions_age_hours', result.ageHours);
    deps.metrics.flush();
    if (!result.ok) {
      const message = result.error instanceof Error ? result.error.message : String(result.error);
      logger.error('definitions update failed', { ageHours: result.ageHours, message });
      throw new DefinitionsUpdateFailed(`definitions update failed: ${message}`, { cause: result.error });
    }
    logger.info('definitions updated', { uploaded: result.uploaded, removed: result.removed, builtAt: result.builtAt, ageHours: result.ageHours });
    return { uploaded: result.uploaded, removed: result.removed, ageHours: result.ageHours };
  };
}
