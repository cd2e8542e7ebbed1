// Crash points as a benchmark: the matrix tests/reliability/crash-points.test.ts runs. The worker is
// crashed (thrown at, and killed outright) after each port call of ingestMessage (three scenarios, in
// memory) and of a Gmail sync of three messages (FakeGmail through @googleapis/gmail), after each
// DynamoDB write of an ingestion on dynalite + s3rver, and SIGKILLed in a child process (an ingestion,
// and the production Gmail sync worker at each named point of its loop, against FakeGmail and fauxqs);
// each time the same work is rerun with clean adapters over the same storage and the storage is checked.
//
// - reliability.crash_points: crash points exercised.
// - reliability.crash_points_lost: messages (or attachments) lost plus duplicated, summed over every
//   point (must be 0). Each one is named on stderr.
// - reliability.crash_points_orphans: objects left that nothing references after the rerun, summed
//   over every point (only a kill between the raw store and the claim leaves them).
// - reliability.crash_points_orphans_after_sweep: the same once the orphan sweep has run a grace
//   period later (shared/domain/orphans.ts), summed over every point (must be 0). A referenced object
//   the sweep deleted counts in crash_points_lost.
import {
  recordShared,
  rerunAndCheck,
  runDynamoWriteMatrix,
  runIngestMatrix,
  runKilledChild,
  runSyncKillMatrix,
  runSyncMatrix,
  SHARED_SCENARIOS,
  sharedStore,
  startCrashStorage,
  startSharedFakeGmail,
  type PointOutcome,
} from '../tests/reliability/crash-support.js';
import { startLocalQueues } from '../shared/local/queues.js';
import type { Metric } from './ingest.js';

export async function runCrashReliabilityBenchmarks(): Promise<Metric[]> {
  const outcomes: PointOutcome[] = [...(await runIngestMatrix()), ...(await runSyncMatrix(['throw', 'kill'], { skipKeys: true }))];
  const storage = await startCrashStorage();
  try {
    outcomes.push(...(await runDynamoWriteMatrix(storage)));
    const scenario = SHARED_SCENARIOS[0]!;
    const calls = await recordShared(storage, scenario);
    for (const at of [{ port: calls.indexOf('repo.claim') }, { write: 1 }]) {
      const store = await sharedStore(storage, scenario);
      const child = await runKilledChild(store, scenario, at);
      const outcome = await rerunAndCheck(store, scenario, `SIGKILL ${child.point ?? '(not reached)'}`, 'kill');
      if (!child.killed) outcome.problems.push(`the child was not killed (exit ${child.code})`), outcome.lost++;
      outcomes.push(outcome);
    }
    const fake = await startSharedFakeGmail();
    const queues = await startLocalQueues({ queues: [{ name: 'crash-sync' }] });
    try {
      for (const outcome of await runSyncKillMatrix(storage, fake, { endpoint: queues.endpoint, queueUrl: queues.urls['crash-sync']!.queueUrl })) {
        if (!outcome.killed) outcome.lost++; // its problems name the exit code
        outcomes.push(outcome);
      }
    } finally {
      await queues.stop();
      await fake.stop();
    }
  } finally {
    await storage.stop();
  }
  for (const o of outcomes) {
    if (o.lost > 0 || o.duplicated > 0 || o.orphansAfterSweep > 0) process.stderr.write(`crash point failure: ${o.mode} ${o.scenario} ${o.point}: ${o.problems.join('; ')}\n`);
  }
  return [
    { metric: 'reliability.crash_points', value: outcomes.length, unit: 'count' },
    { metric: 'reliability.crash_points_lost', value: outcomes.reduce((n, o) => n + o.lost + o.duplicated, 0), unit: 'count' },
    { metric: 'reliability.crash_points_orphans', value: outcomes.reduce((n, o) => n + o.orphans, 0), unit: 'count' },
    { metric: 'reliability.crash_points_orphans_after_sweep', value: outcomes.reduce((n, o) => n + o.orphansAfterSweep, 0), unit: 'count' },
  ];
}
