// The admin's view of their tenant's provider mailboxes, and the lookups the flows share.
import { openCredentials } from '../connectors/credentials.js';
import type { MailboxRecord, ProviderCredentials } from '../model.js';
import { ConsentRefused } from './errors.js';
import type { AdminSession } from './model.js';
import type { ConsentDeps } from './deps.js';

export interface MailboxStatusRow {
  mailboxId: string;
  provider: 'gmail' | 'graph';
  address: string | null;
  state: MailboxRecord['status'];
  lastNotifiedAt: string | null;
  lastSyncedAt: string | null;
  watchExpiresAt: string | null;
  purgeBy: string | null;
}

export async function mailboxStatus(deps: Pick<ConsentDeps, 'repo' | 'keys'>, session: AdminSession): Promise<MailboxStatusRow[]> {
  const mailboxes = (await deps.repo.listMailboxes(session.tenantId)).filter(
    (m): m is MailboxRecord & { provider: 'gmail' | 'graph' } => m.provider !== 'local' && !m.purgedAt,
  );
  const rows = await Promise.all(
    mailboxes.map(async (m): Promise<MailboxStatusRow> => ({
      mailboxId: m.mailboxId,
      provider: m.provider,
      address: (await credentialsOf(deps, m))?.address ?? null,
      state: m.status,
      lastNotifiedAt: m.connection?.lastNotifiedAt ?? null,
      lastSyncedAt: m.connection?.lastSyncedAt ?? null,
      watchExpiresAt: m.status === 'disconnected' ? null : (m.connection?.watchExpiresAt ?? null),
      purgeBy: m.purgeBy ?? null,
    })),
  );
  return rows.sort((a, b) => Number(a.state === 'disconnected') - Number(b.state === 'disconnected') || a.mailboxId.localeCompare(b.mailboxId));
}

/** A mailbox of the session's tenant that is still connected (or awaiting reauthorization). */
export async function liveMailbox(deps: Pick<ConsentDeps, 'repo'>, session: AdminSession, mailboxId: string | undefined, provider?: 'gmail' | 'graph'): Promise<MailboxRecord> {
  if (!mailboxId || !/^[A-Za-z0-9_-]{1,64}$/.test(mailboxId)) throw new ConsentRefused('not_found');
  // The tenant comes from the session, never from the form: another tenant's mailbox id finds nothing.
  const mailbox = await deps.repo.getMailbox(session.tenantId, mailboxId);
  if (!mailbox || mailbox.status === 'disconnected' || mailbox.provider === 'local') throw new ConsentRefused('not_found');
  if (provider && mailbox.provider !== provider) throw new ConsentRefused('not_found');
  return mailbox;
}

export async function credentialsOf(deps: Pick<ConsentDeps, 'keys'>, mailbox: MailboxRecord): Promise<ProviderCredentials | undefined> {
  if (!mailbox.connection?.sealedCredentials) return undefined;
  return openCredentials(deps.keys, mailbox, mailbox.connection.sealedCredentials);
}

/** A new mailbox id for a provider mailbox connected from the page. */
export function newMailboxId(deps: Pick<ConsentDeps, 'ids'>, provider: 'gmail' | 'graph'): string {
  return `${provider === 'gmail' ? 'gmail' : 'm365'}-${deps.ids.next().toLowerCase()}`;
}
