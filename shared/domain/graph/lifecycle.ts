// A Microsoft 365 mailbox's connection lifecycle: connect (claim the address, subscribe to its
// inbox), renewal well before the subscription lapses, a new subscription when Graph removed one,
// and release on disconnect (delete the subscription, forget the address). Tokens are app-only
// (the customer's admin consented to our app), so nothing secret is stored per mailbox.
import { normalizeProviderAddress, openCredentials, sealCredentials, SERVICE_INDEX_TENANT } from '../connectors/credentials.js';
import { DomainError } from '../errors.js';
import type { MailboxRecord, ProviderConnection } from '../model.js';
import type { Clock, IdGenerator, KeyService, MailboxDirectory, MailboxOwner, Metrics, TicketRepository } from '../ports.js';
import { ProviderMisconfigured, ProviderNotFound, ReauthorizationRequired } from '../provider-errors.js';
import { clientStateDigest, subscriptionKey } from './notify.js';
import type { GraphApi, GraphConnector, GraphSettings } from './ports.js';

export class GraphMailboxInUse extends DomainError {
  readonly code = 'mailbox_in_use';
  readonly retryable = false;
}

export interface GraphLifecycleDeps {
  repo: TicketRepository;
  directory: MailboxDirectory;
  keys: KeyService;
  graph: GraphConnector;
  clock: Clock;
  ids: IdGenerator;
  metrics: Metrics;
  settings: GraphSettings;
}

/** What a client admin must do at Microsoft after disconnecting: our app's consent is theirs to remove. */
export const REMOVE_CONSENT_NOTICE =
  'To remove mail2ticket\'s access entirely, a Global or Privileged Role Administrator deletes the app under Microsoft Entra admin center › Enterprise applications (or removes the application access policy that scoped it).';

export async function connectGraphMailbox(
  deps: GraphLifecycleDeps,
  owner: MailboxOwner,
  mailbox: { azureTenantId: string; address: string; userId?: string },
): Promise<MailboxRecord> {
  const existing = await deps.repo.getMailbox(owner.tenantId, owner.mailboxId);
  if (existing && (existing.provider !== 'graph' || existing.status === 'disconnected')) {
    throw new GraphMailboxInUse(`mailbox ${owner.mailboxId} exists and cannot be connected to Microsoft 365`);
  }
  const address = normalizeProviderAddress(mailbox.address);
  const addressIndex = await deps.keys.blindIndex(SERVICE_INDEX_TENANT, 'graph-address', address);
  const holder = await deps.directory.claimAddress('graph', addressIndex, owner);
  if (holder.tenantId !== owner.tenantId || holder.mailboxId !== owner.mailboxId) {
    throw new GraphMailboxInUse('this Microsoft 365 mailbox is already connected to another helpdesk mailbox');
  }
  const credentials = { address, azureTenantId: mailbox.azureTenantId, userId: mailbox.userId ?? address };
  const record: MailboxRecord = {
    tenantId: owner.tenantId,
    mailboxId: owner.mailboxId,
    provider: 'graph',
    status: 'connected',
    createdAt: existing?.createdAt ?? deps.clock.now().toISOString(),
    connection: {
      ...(existing?.connection?.cursor ? { cursor: existing.connection.cursor } : {}),
      // Carried so that subscribe() deletes the old subscription and releases its directory entry.
      ...(existing?.connection?.subscriptionId ? { subscriptionId: existing.connection.subscriptionId } : {}),
      addressIndex,
      sealedCredentials: await sealCredentials(deps.keys, owner, credentials),
    },
  };
  const api = deps.graph.open({ azureTenantId: credentials.azureTenantId, userId: credentials.userId });
  await subscribe(deps, record, api, async (patch) => void Object.assign(record.connection as ProviderConnection, patch));
  await deps.repo.putMailbox(record);
  deps.metrics.count('graph.connected');
  return record;
}

/**
 * Creates the inbox subscription with a fresh clientState (only its HMAC is kept) and points the
 * directory at the mailbox. Graph validates both notification URLs before it answers. A previous
 * subscription is deleted at Graph (gone already is fine) and its directory entry released.
 */
export async function subscribe(
  deps: Pick<GraphLifecycleDeps, 'directory' | 'keys' | 'clock' | 'ids' | 'settings' | 'metrics'>,
  mailbox: MailboxRecord,
  api: GraphApi,
  save: (patch: Partial<ProviderConnection>) => Promise<void>,
): Promise<void> {
  const clientState = `${deps.ids.randomToken()}${deps.ids.randomToken()}`;
  const expiresAt = new Date(deps.clock.now().getTime() + deps.settings.subscriptionMinutes * 60_000);
  const subscription = await api.createSubscription({
    notificationUrl: deps.settings.notificationUrl,
    lifecycleNotificationUrl: deps.settings.lifecycleNotificationUrl,
    clientState,
    expiresAt,
  });
  const clientStateIndex = clientStateDigest(clientState);
  await deps.directory.claimAddress('graph', subscriptionKey(subscription.id), mailbox, { clientStateIndex });
  const previous = mailbox.connection?.subscriptionId;
  await save({
    subscriptionId: subscription.id,
    clientStateIndex,
    watchExpiresAt: subscription.expiresAt.toISOString(),
  });
  if (previous && previous !== subscription.id) {
    // Left at Graph, the old one would keep notifying (with a clientState we no longer accept) until it
    // lapses. Best effort like releaseGraphMailbox: the new subscription is saved, and a retry of this
    // job would leak the one it just created.
    await api.deleteSubscription(previous).catch((error: unknown) => {
      if (!(error instanceof ProviderNotFound)) deps.metrics.count('graph.release_incomplete');
    });
    await deps.directory.releaseAddress('graph', subscriptionKey(previous), mailbox);
  }
}

export interface GraphRenewalReport {
  renewed: number;
  /** Graph no longer had the subscription (it lapsed or was removed): a new one was created. */
  resubscribed: number;
  reauthorizationRequired: number;
  failed: number;
}

/** Renews every subscription that lapses within `renewBeforeMinutes`; one failure never stops the others. */
export async function renewGraphSubscriptions(deps: GraphLifecycleDeps): Promise<GraphRenewalReport> {
  const report: GraphRenewalReport = { renewed: 0, resubscribed: 0, reauthorizationRequired: 0, failed: 0 };
  const now = deps.clock.now().getTime();
  for (const mailbox of await deps.directory.listConnected('graph')) {
    const connection = mailbox.connection;
    if (mailbox.status !== 'connected' || !connection?.subscriptionId) continue;
    if (Date.parse(connection.watchExpiresAt ?? '') - now > deps.settings.renewBeforeMinutes * 60_000) continue;
    try {
      const credentials = await openCredentials(deps.keys, mailbox, connection.sealedCredentials);
      const api = deps.graph.open({ azureTenantId: credentials.azureTenantId ?? '', userId: credentials.userId ?? credentials.address });
      const renewed = await renewOrResubscribe(deps, mailbox, api, connection.subscriptionId, new Date(now + deps.settings.subscriptionMinutes * 60_000), async (patch) => {
        await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, patch);
      });
      report[renewed === 'renewed' ? 'renewed' : 'resubscribed']++;
    } catch (error) {
      if (error instanceof ReauthorizationRequired) {
        report.reauthorizationRequired++;
        deps.metrics.count('graph.reauthorization_required');
        await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { lastIssue: { code: 'auth_failed', at: deps.clock.now().toISOString() } }, 'reauthorization_required');
      } else {
        report.failed++;
        deps.metrics.count('graph.subscription_renewal_failed');
        if (error instanceof ProviderMisconfigured) deps.metrics.count('graph.client_misconfigured');
      }
    }
  }
  return report;
}

/**
 * Extends the subscription; when Graph no longer has it (404: it lapsed, or Graph removed it), creates a
 * new one through subscribe(), which also moves the directory entry. Used by the scheduled renewal and
 * by a `renew` job.
 */
export async function renewOrResubscribe(
  deps: Pick<GraphLifecycleDeps, 'directory' | 'keys' | 'clock' | 'ids' | 'settings' | 'metrics'>,
  mailbox: MailboxRecord,
  api: GraphApi,
  subscriptionId: string,
  expiresAt: Date,
  save: (patch: Partial<ProviderConnection>) => Promise<void>,
  call: <T>(request: () => Promise<T>) => Promise<T> = (request) => request(),
): Promise<'renewed' | 'resubscribed'> {
  try {
    const renewed = await call(() => api.renewSubscription(subscriptionId, expiresAt));
    await save({ watchExpiresAt: renewed.toISOString() });
    return 'renewed';
  } catch (error) {
    if (!(error instanceof ProviderNotFound)) throw error;
    deps.metrics.count('graph.resubscribed');
    await call(() => subscribe(deps, mailbox, api, save));
    return 'resubscribed';
  }
}

/** On disconnect: delete the subscription (best effort: it lapses within days anyway), forget the address. */
export async function releaseGraphMailbox(deps: Pick<GraphLifecycleDeps, 'keys' | 'graph' | 'directory' | 'metrics'>, mailbox: MailboxRecord): Promise<void> {
  const connection = mailbox.connection;
  if (!connection) return;
  if (connection.subscriptionId) {
    try {
      const credentials = await openCredentials(deps.keys, mailbox, connection.sealedCredentials);
      await deps.graph.open({ azureTenantId: credentials.azureTenantId ?? '', userId: credentials.userId ?? credentials.address }).deleteSubscription(connection.subscriptionId);
    } catch {
      deps.metrics.count('graph.release_incomplete');
    }
    await deps.directory.releaseAddress('graph', subscriptionKey(connection.subscriptionId), mailbox);
  }
  await deps.directory.releaseAddress('graph', connection.addressIndex, mailbox);
}
