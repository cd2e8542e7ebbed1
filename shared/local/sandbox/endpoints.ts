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

export interface GraphSandboxEndpoints {
  /** The fake Graph's origin: the Graph client's `baseUrl` (the API is under `/v1.0`). */
  graphUrl: string;
  /** The fake Microsoft identity platform: msal's authority host. */
  identityUrl: string;
  /**
   * The test CA (PEM) both fakes' TLS certificates chain to. A CA certificate is public: clients read
   * it to trust the fakes, and it and the fakes go away with npm start. Its key was deleted once the
   * one loopback server certificate was signed.
   */
  caCertPath: string;
  /** Where the fake Graph posts notifications: npm start's own webhooks, as the subscriptions name them. */
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  mailboxes: SandboxMailbox[];
}

export interface SandboxEndpoints {
  /**
   * The loopback-only control routes (`/stats`, `/gmail/messages`, `/gmail/outage`, `/graph/messages`,
   * `/graph/outage`) on npm start's server.
   */
  controlUrl: string;
  gmail: GmailSandboxEndpoints;
  graph: GraphSandboxEndpoints;
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

/**
 * The sandbox's Entra app and Microsoft tenant, known only to the fake identity platform, where the
 * app is registered with this client secret and consented to in this tenant. Like the Google client
 * above it guards nothing beyond this machine; it lets the CLI sync or reply from a sandbox mailbox
 * while npm start runs.
 */
export const SANDBOX_GRAPH_APP = Object.freeze({
  clientId: '5a4db0c5-6d32-4e7a-9c1b-6d61696c3274',
  clientSecret: 'mail2ticket-sandbox-graph-client-secret',
  azureTenantId: '5a4db0c5-0365-4d3a-8e2f-73616e64626f',
});

/** The header every control request carries: it makes a browser preflight (never granted) any cross-site attempt. */
export const SANDBOX_CONTROL_HEADER = 'x-mail2ticket-sandbox';
