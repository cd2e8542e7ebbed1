// A Gmail mailbox's connection lifecycle: connect (claim the address, start the watch), the daily
// watch renewal (Google stops pushing after 7 days without one), the periodic safety sync that
// catches what a lost push missed, and release on disconnect (stop the watch, revoke the token).
import { normalizeProviderAddress, openCredentials, sealCredentials, SERVICE_INDEX_TENANT } from '../connectors/credentials.js';
import { queuedSyncJob } from '../connectors/sync-job.js';
import { DomainError } from '../errors.js';
import type { MailboxRecord } from '../model.js';
import type { Clock, JobQueue, KeyService, MailboxDirectory, MailboxOwner, Metrics, TicketRepository } from '../ports.js';
import { ProviderMisconfigured, ReauthorizationRequired } from '../provider-errors.js';
import type { GmailConnector, GmailSettings } from './ports.js';
import { keepRotatedRefreshToken } from './rotation.js';

export class MailboxInUse extends DomainError {
  readonly code = 'mailbox_in_use';
  readonly retryable = false;
}

export interface GmailLifecycleDeps {
  repo: TicketRepository;
  directory: MailboxDirectory;
  keys: KeyService;
  gmail: GmailConnector;
  clock: Clock;
  metrics: Metrics;
  settings: Pick<GmailSettings, 'topicName'>;
}

/** Watches only the inbox: pushes for sent mail or drafts would only wake the worker for nothing. */
const WATCHED_LABELS = ['INBOX'];

/**
 * Connects (or reconnects after lapsed authorization) a Gmail mailbox with a fresh refresh token.
 * A reconnect keeps the cursor, so the mail that arrived meanwhile is caught up from history.
 */
export async function connectGmailMailbox(deps: GmailLifecycleDeps, owner: MailboxOwner, refreshToken: string): Promise<MailboxRecord> {
  const existing = await deps.repo.getMailbox(owner.tenantId, owner.mailboxId);
  if (existing && (existing.provider !== 'gmail' || existing.status === 'disconnected')) {
    throw new MailboxInUse(`mailbox ${owner.mailboxId} exists and cannot be connected to Gmail`);
  }
  const probe = deps.gmail.open({ address: '', refreshToken });
  const profile = await probe.getProfile();
  const address = normalizeProviderAddress(profile.emailAddress);
  const addressIndex = await deps.keys.blindIndex(SERVICE_INDEX_TENANT, 'gmail-address', address);
  const holder = await deps.directory.claimAddress('gmail', addressIndex, owner);
  if (holder.tenantId !== owner.tenantId || holder.mailboxId !== owner.mailboxId) {
    throw new MailboxInUse('this Gmail mailbox is already connected to another helpdesk mailbox');
  }
  // The token Google may have rotated ours to on the probe's refresh is the one to use and keep.
  const api = deps.gmail.open({ address, refreshToken: probe.rotatedRefreshToken?.() ?? refreshToken });
  const watch = await api.watch(deps.settings.topicName, WATCHED_LABELS);
  const currentRefreshToken = api.rotatedRefreshToken?.() ?? probe.rotatedRefreshToken?.() ?? refreshToken;
  const previous = existing?.connection;
  if (previous && previous.addressIndex !== addressIndex) await deps.directory.releaseAddress('gmail', previous.addressIndex, owner);

  const mailbox: MailboxRecord = {
    tenantId: owner.tenantId,
    mailboxId: owner.mailboxId,
    provider: 'gmail',
    status: 'connected',
    createdAt: existing?.createdAt ?? deps.clock.now().toISOString(),
    connection: {
      addressIndex,
      sealedCredentials: await sealCredentials(deps.keys, owner, { address, refreshToken: currentRefreshToken }),
      // The watch's historyId marks "from now on"; a reconnect resumes from where it stopped.
      cursor: previous && previous.addressIndex === addressIndex && previous.cursor ? previous.cursor : watch.historyId,
      watchExpiresAt: watch.expiration.toISOString(),
    },
  };
  await deps.repo.putMailbox(mailbox);
  deps.metrics.count('gmail.connected');
  return mailbox;
}

export interface RenewalReport {
  renewed: number;
  reauthorizationRequired: number;
  failed: number;
}

/** Renews every connected mailbox's watch; one mailbox's failure never stops the others. */
export async function renewGmailWatches(deps: GmailLifecycleDeps): Promise<RenewalReport> {
  const report: RenewalReport = { renewed: 0, reauthorizationRequired: 0, failed: 0 };
  for (const mailbox of await deps.directory.listConnected('gmail')) {
    if (mailbox.status !== 'connected' || !mailbox.connection) continue;
    try {
      const credentials = await openCredentials(deps.keys, mailbox, mailbox.connection.sealedCredentials);
      const api = deps.gmail.open(credentials);
      const watch = await api.watch(deps.settings.topicName, WATCHED_LABELS).finally(() => keepRotatedRefreshToken(deps, mailbox, credentials, api));
      await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { watchExpiresAt: watch.expiration.toISOString() });
      report.renewed++;
    } catch (error) {
      if (error instanceof ReauthorizationRequired) {
        report.reauthorizationRequired++;
        deps.metrics.count('gmail.reauthorization_required');
        await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { lastIssue: { code: 'invalid_grant', at: deps.clock.now().toISOString() } }, 'reauthorization_required');
      } else {
        // Retried by tomorrow's run, days before the watch lapses; the metric alarms if it persists.
        report.failed++;
        deps.metrics.count('gmail.watch_renewal_failed');
        if (error instanceof ProviderMisconfigured) deps.metrics.count('gmail.client_misconfigured');
      }
    }
  }
  return report;
}

/**
 * Enqueues a safety sync for every connected mailbox. The slot (the schedule's time bucket) makes a
 * rerun of the same schedule slot one job per mailbox.
 */
export async function enqueueSafetySyncs(deps: { directory: MailboxDirectory; queue: JobQueue; clock: Clock }, provider: 'gmail' | 'graph', intervalMinutes: number): Promise<number> {
  const slot = Math.floor(deps.clock.now().getTime() / (intervalMinutes * 60_000));
  let enqueued = 0;
  for (const mailbox of await deps.directory.listConnected(provider)) {
    if (mailbox.status !== 'connected') continue;
    await deps.queue.enqueue(queuedSyncJob({ tenantId: mailbox.tenantId, mailboxId: mailbox.mailboxId, reason: 'safety' }, `safety-${mailbox.tenantId}.${mailbox.mailboxId}-${slot}`));
    enqueued++;
  }
  return enqueued;
}

/**
 * On disconnect: stop the watch and revoke the token at Google, then forget the address. Google's
 * side is best effort (a revoked or expired token cannot stop anything, and the watch lapses within
 * 7 days anyway); our side — no credentials, no directory entry — always happens.
 */
export async function releaseGmailMailbox(deps: Pick<GmailLifecycleDeps, 'keys' | 'gmail' | 'directory' | 'metrics'>, mailbox: MailboxRecord): Promise<void> {
  const connection = mailbox.connection;
  if (!connection) return;
  if (connection.sealedCredentials) {
    try {
      const api = deps.gmail.open(await openCredentials(deps.keys, mailbox, connection.sealedCredentials));
      await api.stop();
      await api.revoke();
    } catch {
      deps.metrics.count('gmail.release_incomplete');
    }
  }
  await deps.directory.releaseAddress('gmail', connection.addressIndex, mailbox);
}
