// A provider's Retry-After outlives the job that heard it: it is kept on the mailbox, so the next
// job (a redelivery, a fresh continuation, a safety sync) asks the provider nothing before it ends.
import type { Clock, Metrics, TicketRepository } from '../ports.js';
import type { MailboxRecord, ProviderConnection } from '../model.js';
import { ProviderThrottled } from '../provider-errors.js';

/** Throws the remaining wait when the provider's Retry-After still runs. */
export function assertNotThrottled(connection: ProviderConnection, clock: Clock, provider: string): void {
  const remainingMs = Date.parse(connection.throttledUntil ?? '') - clock.now().getTime();
  if (remainingMs > 0) throw new ProviderThrottled(`${provider} asked us to wait`, Math.ceil(remainingMs / 1000));
}

/** Counts the throttle and keeps its Retry-After on the mailbox, never shortening one already kept. */
export async function rememberThrottle(
  deps: { repo: Pick<TicketRepository, 'updateConnection'>; clock: Clock; metrics: Metrics },
  mailbox: Pick<MailboxRecord, 'tenantId' | 'mailboxId' | 'connection'>,
  error: ProviderThrottled,
  metricName: string,
): Promise<void> {
  deps.metrics.count(metricName);
  if (error.retryAfterSeconds === undefined) return;
  const until = new Date(deps.clock.now().getTime() + error.retryAfterSeconds * 1000).toISOString();
  if (until > (mailbox.connection?.throttledUntil ?? '')) await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { throttledUntil: until });
}
