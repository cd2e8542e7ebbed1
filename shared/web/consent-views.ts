// What each page of the consent site shows: plain data the router (shared/web/consent-router.ts)
// fills and the renderer (shared/web/consent-render.ts) turns into HTML in the reader's language.
// No field holds a token that must stay out of HTML except the CSRF token and one-time form tokens,
// which travel in hidden form fields (never in URLs).

export const LANGUAGES = ['en', 'sv', 'nl', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export type ProviderName = 'gmail' | 'graph';
export type MailboxState = 'connected' | 'reauthorization_required' | 'disconnected';

export interface MailboxRow {
  mailboxId: string;
  provider: ProviderName;
  /** The provider address, or null when it can no longer be read (credentials deleted on disconnect). */
  address: string | null;
  state: MailboxState;
  /** ISO times or null. */
  lastNotifiedAt: string | null;
  lastSyncedAt: string | null;
  /** Gmail watch or Graph subscription expiry. */
  watchExpiresAt: string | null;
  /** Disconnected: the date by which all its data is deleted. */
  purgeBy: string | null;
}

/** Errors shown as a page of their own (HTTP status chosen by the router); defined with the domain's refusals. */
export type { ConsentErrorCode } from '../domain/consent/errors.js';
import type { ConsentErrorCode } from '../domain/consent/errors.js';

/** One-line notices shown at the top of the status page after an action. */
export type StatusNotice = 'connected' | 'reconnected' | 'disconnected' | 'microsoft_consented';

export type ConsentView =
  | {
      page: 'landing';
      tenantName: string;
      /** The invite token, posted back in a hidden field `invite` by both buttons. */
      invite: string;
      csrfToken: string;
      /** The invite's expiry (ISO). */
      expiresAt: string;
    }
  | {
      page: 'status';
      tenantName: string;
      csrfToken: string;
      mailboxes: MailboxRow[];
      notice: StatusNotice | null;
      /** When the admin session ends (ISO). */
      sessionExpiresAt: string;
    }
  | {
      page: 'microsoft_mailboxes';
      tenantName: string;
      csrfToken: string;
      /** One-time token of this step, posted back in hidden field `step`. */
      step: string;
      /** Verified domains of the consenting directory; addresses must be under one of them. */
      verifiedDomains: string[];
      /** What the admin typed before (re-shown with an error). */
      addresses: string;
      /** Addresses refused, and why. */
      refused: Array<{ address: string; reason: 'domain_not_verified' | 'invalid_address' | 'mailbox_in_use' | 'provider_error' }>;
    }
  | {
      page: 'confirm_disconnect';
      tenantName: string;
      csrfToken: string;
      /** One-time confirmation token, posted back in hidden field `confirmation`. */
      confirmation: string;
      mailbox: MailboxRow;
      /** The date (ISO) by which every message, ticket and attachment of the mailbox is deleted. */
      deletionDeadline: string;
    }
  | {
      /** After "Sign out": the session is gone from the server, its cookie cleared. */
      page: 'signed_out';
    }
  | {
      page: 'error';
      code: ConsentErrorCode;
      /** Where "back" leads: the status page when a session is alive, else nowhere (null). */
      backToStatus: boolean;
    };

/** Form fields and routes the pages use (the router reads the same names). */
export const CONSENT_ROUTES = {
  landing: '/connect',
  start: '/connect/start', // POST invite?, csrf, provider=google|microsoft, mailbox? (reconnect)
  googleCallback: '/connect/google/callback',
  microsoftCallback: '/connect/microsoft/callback',
  microsoftMailboxes: '/connect/microsoft/mailboxes', // POST csrf, step, addresses
  status: '/connect/status',
  disconnect: '/connect/disconnect', // POST csrf, mailbox → fresh sign-in
  confirmDisconnect: '/connect/disconnect/confirm', // POST csrf, confirmation
  signOut: '/connect/sign-out', // POST csrf → the session ends; GET shows the signed-out page
  stylesheet: '/connect/assets/consent.css',
} as const;
