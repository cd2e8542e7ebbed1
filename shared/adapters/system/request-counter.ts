// Counts every request an AWS SDK client sends, retries included (the middleware sits after the
// retry step), for the benchmark's requests-per-message figure and for tests.
interface MiddlewareStackLike {
  add(middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>, options: { step: 'finalizeRequest'; name: string; priority?: 'low' }): void;
}

export class RequestCounter {
  private readonly counts = new Map<string, number>();

  attach(client: { middlewareStack: unknown }, service: string): void {
    (client.middlewareStack as MiddlewareStackLike).add(
      (next) => async (args) => {
        this.counts.set(service, (this.counts.get(service) ?? 0) + 1);
        return next(args);
      },
      // finalizeRequest runs once per attempt, after the retry middleware.
      { step: 'finalizeRequest', name: `mail2ticketRequestCounter-${service}`, priority: 'low' },
    );
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  byService(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  reset(): void {
    this.counts.clear();
  }
}
