// Microsoft 365 commands: connect a mailbox (what the consent page does after the admin consented),
// sync it now, reply from it, release it on disconnect. They need the Entra app in the environment:
// MAIL2TICKET_GRAPH_CLIENT_ID / _SECRET (…_BASE_URL and …_AUTHORITY_HOST point them at another
// Microsoft, e.g. the fakes, whose CA then comes through NODE_EXTRA_CA_CERTS) — except for the
// mailboxes of the sandbox npm start runs: those always use the sandbox's fake Graph and identity
// platform, trusting its test CA, and nothing else does (a real mailbox never meets the fakes, nor a
// sandbox one the real Microsoft).
import { readFile } from 'node:fs/promises';
import { MicrosoftGraphConnector, type MicrosoftGraphOptions } from '../adapters/graph/microsoft-graph-connector.js';
import { CountingMetrics } from '../adapters/system/metrics.js';
import { loadLocalGraphConfig, type LocalGraphConfig } from '../config.js';
import { ConfigError } from '../domain/errors.js';
import { connectGraphMailbox, releaseGraphMailbox, REMOVE_CONSENT_NOTICE, type GraphLifecycleDeps } from '../domain/graph/lifecycle.js';
import { DEFAULT_GRAPH_SETTINGS, type GraphSettings } from '../domain/graph/ports.js';
import { sendGraphReply, type GraphReplyResult } from '../domain/graph/reply.js';
import { syncGraphMailbox, type GraphSyncReport } from '../domain/graph/sync.js';
import type { MailboxRecord } from '../domain/model.js';
import type { MailboxOwner } from '../domain/ports.js';
import type { Accessor } from '../domain/audit.js';
import { SANDBOX_GRAPH_APP, type GraphSandboxEndpoints } from '../local/sandbox/endpoints.js';
import type { LocalStack } from '../local/stack.js';
import { CaTrustingNetworkModule, trustCaInProcess } from '../sandbox/fake-identity.js';
import { SandboxUnavailable } from './sandbox-commands.js';
import { printJsonLine, UsageError } from './output.js';

/** Which Microsoft, which app, and the webhooks a new subscription names. */
interface GraphAccess {
  connector: MicrosoftGraphOptions;
  settings: GraphSettings;
}

function graphConfig(): LocalGraphConfig {
  const config = loadLocalGraphConfig();
  if (!config) throw new ConfigError('no Microsoft Entra app: set MAIL2TICKET_GRAPH_CLIENT_ID and MAIL2TICKET_GRAPH_CLIENT_SECRET');
  return config;
}

function environmentAccess(config: LocalGraphConfig): GraphAccess {
  return {
    connector: {
      clientId: config.clientId,
      credential: { clientSecret: config.clientSecret },
      ...(config.graphBaseUrl ? { graphBaseUrl: config.graphBaseUrl } : {}),
      ...(config.authorityHost ? { authorityHost: config.authorityHost } : {}),
    },
    settings: { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: config.notificationUrl, lifecycleNotificationUrl: config.lifecycleNotificationUrl },
  };
}

/** The running sandbox's Microsoft endpoints when the mailbox is one of its own. */
function sandboxFor(stack: LocalStack, owner: MailboxOwner): GraphSandboxEndpoints | undefined {
  const sandbox = stack.endpoints.sandbox?.graph;
  return sandbox?.mailboxes.some((m) => m.tenantId === owner.tenantId && m.mailboxId === owner.mailboxId) ? sandbox : undefined;
}

/**
 * The sandbox's fakes, as npm start published them in stack.json. Both serve TLS under the sandbox's
 * test CA: msal gets a network module trusting it; the Graph client sends through global fetch, which
 * takes no CA option, so this process trusts it (additively, and only once it acts on a sandbox mailbox).
 */
async function sandboxAccess(sandbox: GraphSandboxEndpoints): Promise<GraphAccess> {
  let ca: string;
  try {
    ca = await readFile(sandbox.caCertPath, 'utf8');
  } catch (error) {
    throw new SandboxUnavailable(`the sandbox's CA certificate (${sandbox.caCertPath}) is gone: is npm start still running?`, { cause: error });
  }
  trustCaInProcess(ca);
  return {
    connector: {
      clientId: SANDBOX_GRAPH_APP.clientId,
      credential: { clientSecret: SANDBOX_GRAPH_APP.clientSecret },
      graphBaseUrl: sandbox.graphUrl,
      authorityHost: sandbox.identityUrl,
      networkClient: new CaTrustingNetworkModule(ca),
    },
    settings: { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: sandbox.notificationUrl, lifecycleNotificationUrl: sandbox.lifecycleNotificationUrl },
  };
}

/** The Microsoft for one mailbox: the running sandbox's fakes for its own mailboxes, else the environment's app. */
async function graphAccessFor(stack: LocalStack, owner: MailboxOwner): Promise<GraphAccess> {
  const sandbox = sandboxFor(stack, owner);
  return sandbox ? sandboxAccess(sandbox) : environmentAccess(graphConfig());
}

function graphDeps(stack: LocalStack, access: GraphAccess): GraphLifecycleDeps & LocalStack['deps'] & { metrics: CountingMetrics } {
  return {
    ...stack.deps,
    directory: stack.directory,
    graph: new MicrosoftGraphConnector(access.connector),
    metrics: new CountingMetrics(),
    settings: access.settings,
  };
}

/** `mailboxes connect-graph ID --azure-tenant T --address A [--user-id U]` */
export async function connectGraphCommand(
  stack: LocalStack,
  owner: { tenantId: string; mailboxId: string },
  options: { azureTenant: string | undefined; address: string | undefined; userId: string | undefined },
  json: boolean,
): Promise<number> {
  if (!options.azureTenant || !options.address) throw new UsageError('connect-graph needs --azure-tenant TENANT_ID and --address MAILBOX_ADDRESS');
  const mailbox = await connectGraphMailbox(graphDeps(stack, environmentAccess(graphConfig())), owner, {
    azureTenantId: options.azureTenant,
    address: options.address,
    ...(options.userId ? { userId: options.userId } : {}),
  });
  if (json) printJsonLine({ mailboxId: mailbox.mailboxId, provider: mailbox.provider, status: mailbox.status, subscriptionExpiresAt: mailbox.connection?.watchExpiresAt });
  else process.stdout.write(`mailbox ${owner.mailboxId} connected to Microsoft 365; subscribed to its inbox until ${mailbox.connection?.watchExpiresAt}\n`);
  return 0;
}

export async function syncGraph(stack: LocalStack, owner: MailboxOwner): Promise<GraphSyncReport> {
  return syncGraphMailbox(graphDeps(stack, await graphAccessFor(stack, owner)), { ...owner, reason: 'safety' });
}

/** A reply from the ticket's mailbox (`mailbox`: its owner, which picks the Microsoft it goes through). */
export async function replyGraph(
  stack: LocalStack,
  mailbox: MailboxOwner,
  request: { tenantId: string; ticketId: string; text: string; html?: string; accessor: Accessor },
): Promise<GraphReplyResult> {
  const deps = graphDeps(stack, await graphAccessFor(stack, mailbox));
  return sendGraphReply({ ...deps, audit: stack.deps.audit, intents: stack.intents }, request);
}

/**
 * Deletes the subscription and forgets the address; for a real mailbox, prints how the admin removes
 * our app's consent (a sandbox mailbox's consent is the fake's, gone with npm start).
 */
export function graphReleaser(stack: LocalStack): (mailbox: MailboxRecord) => Promise<void> {
  const environment = loadLocalGraphConfig();
  return async (mailbox) => {
    const sandbox = sandboxFor(stack, mailbox);
    const access = sandbox ? await sandboxAccess(sandbox) : environment ? environmentAccess(environment) : undefined;
    if (access) await releaseGraphMailbox(graphDeps(stack, access), mailbox);
    else if (mailbox.connection) {
      // Without the app configured nothing can be deleted at Microsoft (the subscription lapses within
      // days); our side is forgotten all the same.
      await stack.directory.releaseAddress('graph', mailbox.connection.addressIndex, mailbox);
    }
    if (!sandbox) process.stderr.write(`mail2ticket: ${REMOVE_CONSENT_NOTICE}\n`);
  };
}
