// What a running sandbox publishes in the data dir's stack.json for other processes (the CLI): where
// its fake providers and controls listen, and which mailboxes are its own. URLs and addresses only:
// tokens never leave the `npm start` process.

/** A mailbox the sandbox connected to its fake provider. */
export interface SandboxMailbox {
  tenantId: string;
  mailboxId: string;
  /** The provider address (the fake's mailbox). */
  address: string;
}

export interface GmailSandboxEndpoints {
  /** The fake Gmail API's root (`rootUrl` is this plus `/`). */
  apiUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  /** Where the sandbox's Pub/Sub pushes go: npm start's own webhook. */
  webhookUrl: string;
  mailboxes: SandboxMailbox[];
}

export interface SandboxEndpoints {
  /** The loopback-only control routes (`/stats`, `/gmail/messages`, `/gmail/outage`) on npm start's server. */
  controlUrl: string;
  gmail: GmailSandboxEndpoints;
}

/**
 * The sandbox's Google OAuth client, known only to the fake Google. Like an installed app's client
 * secret it guards nothing (the fake runs on loopback for this machine's user); it lets the CLI sync
 * or reply from a sandbox mailbox while npm start runs.
 */
export const SANDBOX_GOOGLE_CLIENT = Object.freeze({
  clientId: 'mail2ticket-sandbox.apps.googleusercontent.com',
  clientSecret: 'mail2ticket-sandbox-client-secret',
});

/** The header every control request carries: it makes a browser preflight (never granted) any cross-site attempt. */
export const SANDBOX_CONTROL_HEADER = 'x-mail2ticket-sandbox';
