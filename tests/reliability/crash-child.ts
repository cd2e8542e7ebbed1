// The SIGKILL variant: a worker process that runs one ingestion over the storage its parent shares
// (dynalite, s3rver, the key directory) and kills itself with SIGKILL at the crash point: no catch
// block, no finally, no flush runs. The parent then reruns the ingestion and checks the storage.
import { writeSync } from 'node:fs';
import { ManualClock } from '../support/memory.js';
import { FaultInjector, INGEST_SCENARIOS, ingestShared, SdkWriteFault, sharedAdapters, type ChildCrashPoint, type SharedStore } from './crash-support.js';

const { store, scenario: name, at } = JSON.parse(process.env.M2T_CRASH ?? '{}') as { store: SharedStore; scenario: string; at: ChildCrashPoint };
const scenario = INGEST_SCENARIOS.find((s) => s.name === name);
if (!scenario) throw new Error(`unknown scenario ${name}`);

const die = (point: () => string | null) => () => {
  writeSync(2, `crash point: ${point() ?? '?'}\n`);
  process.kill(process.pid, 'SIGKILL');
};
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
// Reaching this line means the crash point was never reached: the parent sees exit code 3.
process.exit(3);
