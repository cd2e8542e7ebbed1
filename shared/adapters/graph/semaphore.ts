// At most N holders at a time, first come first served. One per mailbox keeps every request this
// process makes to that mailbox (sync, replies, renewals) within Graph's concurrency limit.
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` never dips under a queue.
      if (next) next();
      else this.active--;
    };
  }
}
