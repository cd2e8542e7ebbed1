// Google may answer a refresh with a new refresh token (RFC 6749 §6: the client MUST then discard the
// old one). Whoever opened a Gmail session stores the new one, sealed, on the mailbox before it lets
// go of the session — also when the session's work failed: the rotation happened all the same.
import { sealCredentials } from '../connectors/credentials.js';
import type { MailboxRecord, ProviderCredentials } from '../model.js';
import type { KeyService, TicketRepository } from '../ports.js';
import type { GmailApi } from './ports.js';

export async function keepRotatedRefreshToken(
  deps: { repo: Pick<TicketRepository, 'updateConnection'>; keys: KeyService },
  mailbox: Pick<MailboxRecord, 'tenantId' | 'mailboxId'>,
  credentials: ProviderCredentials,
  api: GmailApi,
): Promise<void> {
  const rotated = api.rotatedRefreshToken?.();
  if (!rotated || rotated === credentials.refreshToken) return;
  const sealedCredentials = await sealCredentials(deps.keys, mailbox, { ...credentials, refreshToken: rotated });
  await deps.repo.updateConnection(mailbox.tenantId, mailbox.mailboxId, { sealedCredentials });
  // Stored: a second call for this session has nothing more to do.
  credentials.refreshToken = rotated;
}
