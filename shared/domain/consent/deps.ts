// What the consent use-cases run on. A provider is absent when the stack has no client for it: its
// buttons then lead to a clear refusal instead of a half-configured flow.
import type { GmailLifecycleDeps } from '../gmail/lifecycle.js';
import type { GraphLifecycleDeps } from '../graph/lifecycle.js';
import type { RetentionDeps } from '../retention.js';
import type { KeyService, MailboxDirectory, TicketRepository } from '../ports.js';
import type { InviteDeps } from './invites.js';
import type { GoogleAuthorization, MicrosoftAuthorization } from './ports.js';

export interface ConsentDeps extends InviteDeps {
  repo: TicketRepository;
  keys: KeyService;
  directory: MailboxDirectory;
  retention: RetentionDeps;
  retentionDays: number;
  google?: { authorization: GoogleAuthorization; lifecycle: GmailLifecycleDeps };
  microsoft?: { authorization: MicrosoftAuthorization; lifecycle: GraphLifecycleDeps };
}

export const GOOGLE_CALLBACK_PATH = '/connect/google/callback';
export const MICROSOFT_CALLBACK_PATH = '/connect/microsoft/callback';

export const googleRedirectUri = (deps: Pick<InviteDeps, 'baseUrl'>) => `${deps.baseUrl}${GOOGLE_CALLBACK_PATH}`;
export const microsoftRedirectUri = (deps: Pick<InviteDeps, 'baseUrl'>) => `${deps.baseUrl}${MICROSOFT_CALLBACK_PATH}`;
