// Gmail commands: connect a mailbox with a refresh token (what the consent page does after OAuth),
// sync it now, and send an agent's reply from it. They need a Google OAuth client in the
// environment (MAIL2TICKET_GOOGLE_CLIENT_ID / _SECRET, and the URLs when it is not Google's), except
// for the mailboxes of the sandbox npm start runs: those always use the sandbox's fake Google, and
// nothing else does (a real mailbox never meets the fake, nor a sandbox one the real Google).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { GoogleGmailConnector } from '../adapters/gmail/google-gmail-connector.js';
import { CountingMetrics } from '../adapters/system/metrics.js';
import { loadLocalGoogleConfig, loadGmailSettings, type LocalGoogleConfig } from '../config.js';
import type { SyncJob } from '../domain/connectors/sync-job.js';
import { ConfigError } from '../domain/errors.js';
import { connectGmailMailbox, releaseGmailMailbox, type GmailLifecycleDeps } from '../domain/gmail/lifecycle.js';
import { sendGmailReply } from '../domain/gmail/reply.js';
import { syncGmailMailbox } from '../domain/gmail/sync.js';
import type { MailboxRecord } from '../domain/model.js';
import type { MailboxOwner } from '../domain/ports.js';
import { SANDBOX_GOOGLE_CLIENT } from '../local/sandbox/endpoints.js';
import { replyGraph } from './graph-commands.js';
import type { LocalStack } from '../local/stack.js';
import { DEFAULT_TENANT, operatorAccessor } from './commands.js';
import { safeId } from './ids.js';
import { printJsonLine, UsageError } from './output.js';

function googleConfig(): LocalGoogleConfig {
  const config = loadLocalGoogleConfig();
  if (!config) throw new ConfigError('no Google OAuth client: set MAIL2TICKET_GOOGLE_CLIENT_ID and MAIL2TICKET_GOOGLE_CLIENT_SECRET');
  return config;
}

/** The Google client for one mailbox: the running sandbox's fake Google for its own mailboxes, else the environment's. */
function googleConfigFor(stack: LocalStack, owner: MailboxOwner): LocalGoogleConfig {
  const sandbox = stack.endpoints.sandbox?.gmail;
  if (sandbox?.mailboxes.some((m) => m.tenantId === owner.tenantId && m.mailboxId === owner.mailboxId)) {
    return { ...SANDBOX_GOOGLE_CLIENT, rootUrl: `${sandbox.apiUrl}/`, tokenUrl: sandbox.tokenUrl, revokeUrl: sandbox.revokeUrl, topicName: loadGmailSettings().topicName };
  }
  return googleConfig();
}

function connector(config: LocalGoogleConfig): GoogleGmailConnector {
  return new GoogleGmailConnector({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    ...(config.rootUrl ? { rootUrl: config.rootUrl } : {}),
    ...(config.tokenUrl ? { tokenUrl: config.tokenUrl } : {}),
    ...(config.revokeUrl ? { revokeUrl: config.revokeUrl } : {}),
  });
}

function lifecycleDeps(stack: LocalStack, config: LocalGoogleConfig, metrics = new CountingMetrics()): GmailLifecycleDeps {
  return { ...stack.deps, directory: stack.directory, gmail: connector(config), metrics, settings: { topicName: config.topicName } };
}

/**
 * What disconnect needs to end a Gmail connection at Google; undefined without a Google client (nor a
 * running sandbox). A mailbox no configured client covers is released on our side only.
 */
export function gmailReleaser(stack: LocalStack): ((mailbox: MailboxRecord) => Promise<void>) | undefined {
  const environment = loadLocalGoogleConfig();
  if (!environment && !stack.endpoints.sandbox) return undefined;
  return async (mailbox) => {
    if (mailbox.provider !== 'gmail') return;
    let config: LocalGoogleConfig;
    try {
      config = googleConfigFor(stack, mailbox);
    } catch (error) {
      if (error instanceof ConfigError) return;
      throw error;
    }
    await releaseGmailMailbox(lifecycleDeps(stack, config), mailbox);
  };
}

/** `mailboxes connect-gmail ID --refresh-token-file F` */
export async function connectGmailCommand(stack: LocalStack, tenantId: string, mailboxId: string, tokenFile: string | undefined, json: boolean): Promise<number> {
  if (!tokenFile) throw new UsageError('connect-gmail needs --refresh-token-file FILE');
  // From a file, never an argument: arguments show in `ps` and shell history.
  const refreshToken = (await readFile(tokenFile, 'utf8')).trim();
  if (!refreshToken) throw new UsageError(`${tokenFile} is empty`);
  const mailbox = await connectGmailMailbox(lifecycleDeps(stack, googleConfig()), { tenantId, mailboxId }, refreshToken);
  if (json) printJsonLine(mailboxView(mailbox));
  else process.stdout.write(`mailbox ${mailboxId} connected to Gmail; watching its inbox until ${mailbox.connection?.watchExpiresAt}\n`);
  return 0;
}

/** `mailboxes sync ID`: what the sync worker does for one job, now, in this process. */
export async function syncGmailCommand(stack: LocalStack, tenantId: string, mailboxId: string, json: boolean): Promise<number> {
  const config = googleConfigFor(stack, { tenantId, mailboxId });
  const metrics = new CountingMetrics();
  const job: SyncJob = { tenantId, mailboxId, reason: 'safety' };
  const report = await syncGmailMailbox({ ...stack.deps, gmail: connector(config), metrics, settings: loadGmailSettings() }, job);
  if (json) printJsonLine({ mailboxId, ...report });
  else process.stdout.write(`mailbox ${mailboxId}: ${report.outcome}${report.mode ? ` (${report.mode})` : ''}, ${report.added} new message(s), ${report.ingested - report.added} already known, ${report.vanished} vanished\n`);
  return report.outcome === 'synced' ? 0 : 1;
}

export async function repliesCommand(stack: LocalStack, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'send') throw new UsageError('replies takes "send TICKET_ID --body-file F [--html-file H]"');
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      'body-file': { type: 'string' },
      'html-file': { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
  const ticketId = safeId('ticket', positionals[0]);
  if (!values['body-file']) throw new UsageError('replies send needs --body-file FILE');
  const text = await readFile(values['body-file'], 'utf8');
  const html = values['html-file'] ? await readFile(values['html-file'], 'utf8') : undefined;
  // The ticket's mailbox decides which provider (and which Google or Microsoft) answers; an unknown
  // ticket is the use-case's to report.
  const ticket = await stack.deps.repo.getTicket(tenantId, ticketId);
  const provider = ticket ? (await stack.deps.repo.getMailbox(tenantId, ticket.mailboxId))?.provider : undefined;
  if (ticket && provider === 'graph') {
    const result = await replyGraph(stack, ticket, { tenantId, ticketId, text, ...(html ? { html } : {}), accessor: operatorAccessor(values.reason ?? 'reply') });
    if (values.json) printJsonLine(result);
    else process.stdout.write(`reply ${result.status === 'sent' ? 'sent' : 'was already sent'} on ticket ${ticketId} as <${result.internetMessageId}>\n`);
    return 0;
  }
  const google = ticket ? googleConfigFor(stack, ticket) : googleConfig();
  const result = await sendGmailReply(
    { ...stack.deps, gmail: connector(google) },
    { tenantId, ticketId, text, ...(html ? { html } : {}), accessor: operatorAccessor(values.reason ?? 'reply') },
  );
  if (values.json) printJsonLine(result);
  else process.stdout.write(`reply ${result.status === 'sent' ? 'sent' : 'was already sent'} on ticket ${ticketId} as <${result.internetMessageId}>\n`);
  return 0;
}

/** A mailbox as operators see it: status and dates, never the sealed credentials. */
export function mailboxView(mailbox: MailboxRecord): Record<string, unknown> {
  const { connection, ...rest } = mailbox;
  if (!connection) return rest;
  const { sealedCredentials: _secret, addressIndex: _index, ...visible } = connection;
  return { ...rest, connection: visible };
}
