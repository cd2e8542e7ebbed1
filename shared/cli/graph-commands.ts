// Microsoft 365 commands: connect a mailbox (what the consent page does after the admin consented),
// sync it now, reply from it, release it on disconnect. They need the Entra app in the environment:
// MAIL2TICKET_GRAPH_CLIENT_ID / _SECRET (…_BASE_URL and …_AUTHORITY_HOST point them at another
// Microsoft, e.g. the fakes, whose CA then comes through NODE_EXTRA_CA_CERTS).
import { MicrosoftGraphConnector } from '../adapters/graph/microsoft-graph-connector.js';
import { CountingMetrics } from '../adapters/system/metrics.js';
import { loadLocalGraphConfig, type LocalGraphConfig } from '../config.js';
import { ConfigError } from '../domain/errors.js';
import { connectGraphMailbox, releaseGraphMailbox, REMOVE_CONSENT_NOTICE, type GraphLifecycleDeps } from '../domain/graph/lifecycle.js';
import { DEFAULT_GRAPH_SETTINGS } from '../domain/graph/ports.js';
import { sendGraphReply, type GraphReplyResult } from '../domain/graph/reply.js';
import { syncGraphMailbox, type GraphSyncReport } from '../domain/graph/sync.js';
import type { MailboxRecord } from '../domain/model.js';
import type { Accessor } from '../domain/audit.js';
import type { LocalStack } from '../local/stack.js';
import { printJsonLine, UsageError } from './output.js';

function graphConfig(): LocalGraphConfig {
  const config = loadLocalGraphConfig();
  if (!config) throw new ConfigError('no Microsoft Entra app: set MAIL2TICKET_GRAPH_CLIENT_ID and MAIL2TICKET_GRAPH_CLIENT_SECRET');
  return config;
}

function graphDeps(stack: LocalStack, config: LocalGraphConfig): GraphLifecycleDeps & LocalStack['deps'] & { metrics: CountingMetrics } {
  const graph = new MicrosoftGraphConnector({
    clientId: config.clientId,
    credential: { clientSecret: config.clientSecret },
    ...(config.graphBaseUrl ? { graphBaseUrl: config.graphBaseUrl } : {}),
    ...(config.authorityHost ? { authorityHost: config.authorityHost } : {}),
  });
  return {
    ...stack.deps,
    directory: stack.directory,
    graph,
    metrics: new CountingMetrics(),
    settings: { ...DEFAULT_GRAPH_SETTINGS, notificationUrl: config.notificationUrl, lifecycleNotificationUrl: config.lifecycleNotificationUrl },
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
  const mailbox = await connectGraphMailbox(graphDeps(stack, graphConfig()), owner, {
    azureTenantId: options.azureTenant,
    address: options.address,
    ...(options.userId ? { userId: options.userId } : {}),
  });
  if (json) printJsonLine({ mailboxId: mailbox.mailboxId, provider: mailbox.provider, status: mailbox.status, subscriptionExpiresAt: mailbox.connection?.watchExpiresAt });
  else process.stdout.write(`mailbox ${owner.mailboxId} connected to Microsoft 365; subscribed to its inbox until ${mailbox.connection?.watchExpiresAt}\n`);
  return 0;
}

export async function syncGraph(stack: LocalStack, owner: { tenantId: string; mailboxId: string }): Promise<GraphSyncReport> {
  return syncGraphMailbox({ ...graphDeps(stack, graphConfig()) }, { ...owner, reason: 'safety' });
}

export async function replyGraph(stack: LocalStack, request: { tenantId: string; ticketId: string; text: string; html?: string; accessor: Accessor }): Promise<GraphReplyResult> {
  const deps = graphDeps(stack, graphConfig());
  return sendGraphReply({ ...deps, audit: stack.deps.audit, intents: stack.intents }, request);
}

/** Deletes the subscription and forgets the address; prints how the admin removes our app's consent. */
export function graphReleaser(stack: LocalStack): ((mailbox: MailboxRecord) => Promise<void>) | undefined {
  const config = loadLocalGraphConfig();
  return async (mailbox) => {
    if (config) await releaseGraphMailbox(graphDeps(stack, config), mailbox);
    else if (mailbox.connection) {
      // Without the app configured nothing can be deleted at Microsoft (the subscription lapses within
      // days); our side is forgotten all the same.
      await stack.directory.releaseAddress('graph', mailbox.connection.addressIndex, mailbox);
    }
    process.stderr.write(`mail2ticket: ${REMOVE_CONSENT_NOTICE}\n`);
  };
}
