// Issue 10, the sync loop killed for real: a child process runs the production Gmail sync worker
// (functions/gmail-sync/make-handler.ts) over the servers this file starts — dynalite, s3rver, fauxqs,
// and the fake Gmail, which stays here in the parent so the mailbox outlives each child — and SIGKILLs
// itself at a named point of the loop: after the cursor read, after the history listing, after each
// message's fetch and its ingestion (and once between a raw store and its claim), before and after
// the cursor advance. No catch block, finally or flush runs. The worker is then run again in this
// process on the same storage a claim lease later, and every message is exactly one ticket with its
// attachments, the cursor is at the mailbox's latest historyId, and after the orphan sweep (a grace
// period later) nothing under the mailbox is unreferenced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalQueues, type LocalQueues } from '../../shared/local/queues.js';
import type { FakeGmail } from '../../shared/sandbox/fake-gmail.js';
import { runSyncKillMatrix, startCrashStorage, startSharedFakeGmail, SYNC_KILL_POINTS, type CrashStorage } from './crash-support.js';

let storage: CrashStorage;
let fake: FakeGmail;
let queues: LocalQueues;

beforeAll(async () => {
  storage = await startCrashStorage();
  fake = await startSharedFakeGmail();
  queues = await startLocalQueues({ queues: [{ name: 'crash-sync' }] });
});

afterAll(async () => {
  await queues?.stop();
  await fake?.stop();
  await storage?.stop();
});

describe('Gmail sync worker SIGKILLed in a child process (dynalite, s3rver, fauxqs, FakeGmail)', () => {
  it('at every named point of the loop, the rerun leaves every message exactly once, the cursor caught up and, after the sweep, nothing unreferenced', async () => {
    const outcomes = await runSyncKillMatrix(storage, fake, { endpoint: queues.endpoint, queueUrl: queues.urls['crash-sync']!.queueUrl });
    expect(outcomes.map((o) => o.named)).toEqual(SYNC_KILL_POINTS.map((p) => p.name));
    expect(outcomes.filter((o) => !o.killed).map((o) => `${o.named}: ${o.problems.join('; ')}`)).toEqual([]);
    // Each child died where it was told to: at that call of the loop, not before it.
    for (const [i, o] of outcomes.entries()) {
      const point = SYNC_KILL_POINTS[i]!;
      expect(o.point).toContain(`${point.when} #`);
      expect(o.point).toContain(point.label);
    }
    expect(outcomes.filter((o) => o.lost > 0 || o.duplicated > 0).map((o) => `${o.point}: ${o.problems.join('; ')}`)).toEqual([]);
    expect(outcomes.flatMap((o) => o.problems.filter((p) => !p.startsWith('orphan object')).map((p) => `${o.point}: ${p}`))).toEqual([]);
    // Orphans before the sweep only where the child died between a message's raw store and its claim
    // (that pass's raw and whatever it had stored beside it); the sweep a grace period later takes them.
    expect(outcomes.filter((o) => o.orphans > 0).map((o) => o.named)).toEqual(['after message 1 raw stored']);
    expect(outcomes.filter((o) => o.orphansAfterSweep > 0).map((o) => o.point)).toEqual([]);
    expect(fake.errors).toEqual([]);
  }, 90_000);
});
