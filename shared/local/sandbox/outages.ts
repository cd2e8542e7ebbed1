// Notification outages of sandbox mailboxes (`sandbox outage --mailbox ADDRESS --minutes N`): while
// one is on, the fake provider's notifications for that mailbox are lost, as when a push or a
// webhook delivery fails for good; only the safety sync brings the mail in.

export const MAX_OUTAGE_MINUTES = 24 * 60;

export class Outages {
  private readonly until = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** `onChange` hears when an outage of an address starts and when it ends (by time or by `set(…, 0)`). */
  constructor(private readonly onChange: (address: string, on: boolean) => void = () => undefined) {}

  /** Starts (or replaces) an outage of `minutes`, or ends one with 0; returns its end (ISO time), or null. */
  set(address: string, minutes: number): string | null {
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_OUTAGE_MINUTES) throw new RangeError(`minutes must be an integer from 0 to ${MAX_OUTAGE_MINUTES}`);
    clearTimeout(this.timers.get(address));
    this.timers.delete(address);
    if (minutes === 0) {
      if (this.until.delete(address)) this.onChange(address, false);
      return null;
    }
    const until = Date.now() + minutes * 60_000;
    this.until.set(address, until);
    // The end is a timer so that the fake hears of it; unref'd, it never keeps npm start alive.
    const timer = setTimeout(() => this.set(address, 0), minutes * 60_000).unref();
    this.timers.set(address, timer);
    this.onChange(address, true);
    return new Date(until).toISOString();
  }

  /** When the address's outage ends (epoch ms), if one is on. */
  activeUntil(address: string): number | undefined {
    const until = this.until.get(address);
    return until !== undefined && until > Date.now() ? until : undefined;
  }

  /** Active outages: address → until (ISO time). */
  active(): Record<string, string> {
    const now = Date.now();
    return Object.fromEntries([...this.until].filter(([, until]) => until > now).map(([address, until]) => [address, new Date(until).toISOString()]));
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.until.clear();
  }
}
