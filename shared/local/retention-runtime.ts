// npm start's retention on a timer, as AWS runs it: DynamoDB's TTL and its stream (emulated: dynalite
// has neither) deleting expired items and, through the production stream handler, their objects; and
// the daily backstop sweep purging every mailbox whose deadline comes before its next run, then
// removing the objects of live mailboxes' ingestions that never completed (shared/domain/orphans.ts).
import { makeHandler as makePurgeStreamHandler } from '../../functions/purge-stream/make-handler.js';
import { sweepOrphanObjects } from '../domain/orphans.js';
import { sweepDueMailboxes, type RetentionDeps } from '../domain/retention.js';
import { describe, repeat, type Repeater } from './connector-runtime.js';
import type { Reporter } from './reporter.js';
import type { LocalStack } from './stack.js';
import { expireItems } from './ttl-emulator.js';

/** How often the TTL emulator looks for expired items (DynamoDB's own TTL acts within about two days). */
export const TTL_EMULATOR_SECONDS = 60;
/** The backstop runs daily in AWS; here it runs hourly, with the same one-day lookahead. */
export const LOCAL_SWEEP_SECONDS = 3600;

export function startRetentionTimers(stack: LocalStack, deps: RetentionDeps, report: Reporter): Repeater {
  const deliver = makePurgeStreamHandler(deps);
  const ttl = repeat(
    TTL_EMULATOR_SECONDS * 1000,
    false,
    async () => {
      const expired = await expireItems({ ...stack.dynamo, now: deps.clock.now(), deliver });
      if (expired > 0) report.info(`retention: ${expired} expired item(s) deleted with their objects (TTL)`);
    },
    (error) => report.warn(`retention: the TTL emulator failed (${describe(error)}); it runs again in ${TTL_EMULATOR_SECONDS} s`),
  );
  const sweep = repeat(
    LOCAL_SWEEP_SECONDS * 1000,
    true,
    async () => {
      const result = await sweepDueMailboxes(deps);
      if (result.mailboxes > 0) report.info(`retention: backstop purged ${result.mailboxes} mailbox(es), ${result.items} item(s), ${result.objects} object(s)`);
      if (result.lateWrites > 0) report.info(`retention: ${result.rechecks} recheck(s) after a disconnect or purge found ${result.lateWrites} late write(s)`);
      if (result.tenants > 0) report.info(`retention: ${result.tenants} closed account(s): ${result.tenantRecords} record(s) deleted`);
      const orphans = await sweepOrphanObjects(deps);
      if (orphans.objects > 0) report.info(`retention: ${orphans.objects} orphan object(s) of ${orphans.ingestions} unfinished ingestion(s) deleted`);
    },
    (error) => report.warn(`retention: the backstop sweep failed (${describe(error)}); it runs again in ${LOCAL_SWEEP_SECONDS / 60} min`),
  );
  return {
    async stop() {
      await Promise.all([ttl.stop(), sweep.stop()]);
    },
  };
}
