// A sync's time budget. A mailbox with a long backlog (a full sync after Gmail's history expired, a
// large delta round) cannot be brought in within one worker invocation: a sync stopped by the
// function's timeout would come back only after the queue's visibility timeout, counted as a failed
// receive, and a large enough backlog would reach the dead-letter queue. With a budget the sync stops
// starting work once it is spent, keeps its place, and its worker hands the rest to a fresh job.

/** Says when a sync should stop starting work (the worker's remaining time is below its reserve). */
export interface SyncBudget {
  spent(): boolean;
}

/**
 * Thrown inside a sync that stopped for its budget, after its place was saved; the sync reports
 * `paused` and its worker queues the continuation. Never thrown before the sync did some work of its
 * own in this run, so every run moves the mailbox forward.
 */
export class SyncPaused extends Error {
  constructor() {
    super('the sync stopped for its time budget; a fresh job continues it');
    this.name = 'SyncPaused';
  }
}
