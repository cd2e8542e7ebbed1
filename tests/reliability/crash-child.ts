// The SIGKILL variant: a worker process over the storage its parent shares (dynalite, s3rver, the key
// directory) that kills itself with SIGKILL at the crash point: no catch block, no finally, no flush
// runs. It runs one ingestion, or one invocation of the production Gmail sync worker against the
// parent's fake Gmail and local SQS. The parent then reruns the same work and checks the storage.
import { writeSync } from 'node:fs';
import { systemClock } from '../../shared/adapters/system/system.js';
import { ManualClock } from '../support/memory.js';
import { FaultInjector, INGEST_SCENARIOS, ingestShared, runGmailSyncWorker, SdkWriteFault, sharedAdapters, type CrashChildJob } from './crash-support.js';

const job = JSON.parse(process.env.M2T_CRASH ?? '{}') as CrashChildJob;

const die = (point: () => string | null) => () => {
  writeSync(2, `crash point: ${point() ?? '?'}\n`);
  process.kill(process.pid, 'SIGKILL');
};

if ('sync' in job) {
  const { index, when } = job.at;
  const injector: FaultInjector = new FaultInjector({ index, when, mode: 'kill', onKill: die(() => injector.fired) });
  // The worker's own clock, as in Lambda: the parent's rerun comes a claim lease later.
  await runGmailSyncWorker(job.sync, systemClock, injector);
} else {
  const { store, scenario: name, at } = job;
  const scenario = INGEST_SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  const injector: FaultInjector = new FaultInjector('port' in at ? { index: at.port, when: 'after', mode: 'kill', onKill: die(() => injector.fired) } : null);
  const writes: SdkWriteFault = new SdkWriteFault('write' in at ? { index: at.write, mode: 'kill', onKill: die(() => writes.fired) } : null);
  const adapters = sharedAdapters(store, writes);
  const wrapped = {
    repo: injector.wrap('repo', adapters.repo),
    blobs: injector.wrap('blobs', adapters.blobs),
    keys: injector.wrap('keys', adapters.keys),
    scanner: injector.wrap('scanner', adapters.scanner),
  };
  await ingestShared(store, wrapped, scenario.message, scenario.providerMessageId, new ManualClock(new Date()));
}
// Reaching this line means the crash point was never reached: the parent sees exit code 3.
process.exit(3);
