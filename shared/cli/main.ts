// mail2ticket operator CLI: `npm run --silent cli -- <command>` or the `mail2ticket` bin.
import { ConfigError, DomainError } from '../domain/errors.js';
import { loadLocalConfig, type LocalConfig } from '../config.js';
import type { LocalStack } from '../local/stack.js';
import { UsageError } from './output.js';

const USAGE = `mail2ticket — turn email into helpdesk tickets

Usage: mail2ticket <command> [options]   (every command takes --tenant T, default "default")

  ingest [--mailbox M] [--json] FILE…     ingest .eml files; --json prints one JSON line per file
  tickets list [--mailbox M] [--json]     tickets, newest activity first
  tickets show ID [--json]                a ticket with its messages, attachments and notices
  attachments get ID --out FILE           save a clean attachment (infected/unscanned are refused)
  attachments rescan [--json]             scan held (unscanned) attachments again
  mailboxes list [--tenant T] [--json]    mailboxes with status, last sync, issues and purge deadline
  mailboxes connect-gmail ID --refresh-token-file F   connect a Gmail mailbox (watch its inbox)
  mailboxes connect-graph ID --azure-tenant T --address A   connect a Microsoft 365 mailbox (subscribe to its inbox)
  mailboxes sync ID [--json]              bring a Gmail or Microsoft 365 mailbox up to date now
  replies send TICKET_ID --body-file F [--html-file H] [--json]   reply from the ticket's mailbox
  mailboxes disconnect ID                 hide its data now, delete it all within 30 days
  mailboxes erase ID                      delete everything of the mailbox at once
  purge run [--now ISO_TIME] [--json]     run TTL expiry, object purge and the backstop as of a time
  purge orphans [--now ISO_TIME] [--tenant T] [--mailbox ID] [--grace-hours H] [--dry-run] [--json]
                                          objects of unfinished ingestions nothing names (deleted unless --dry-run)
  purge status [--json]                   purge deadlines
  purge reapply [--json]                  after a table restore: purge again what tombstones say is gone
  tenants create NAME [--json]            a tenant (a business buying the helpdesk); prints {"id", …}
  tenants list [--json]                   tenants with their names
  tenants invite TENANT_ID [--expires 7d] [--json]   a signed, single-use link to the consent page
                                          for the tenant's admin; prints {"url", …}
  tenants invite revoke INVITE_ID         the link stops working at once
  tenants close ID                        account closure: disconnect all, destroy the tenant's keys
  tenants erase ID                        delete everything of the tenant at once, destroy its keys
  requesters export EMAIL --request-ref R --out FILE.zip   their data as JSON + files
  requesters rectify EMAIL --request-ref R [--name N] [--new-email E]
  requesters restrict|unrestrict|erase EMAIL --request-ref R
  audit list [--json]                     every read of mailbox data: who, when, which ids, why
  audit verify                            check the audit log's hash chain (exit 1 if broken)
  sandbox send FILE --mailbox ADDRESS [--json]   deliver an .eml into a sandbox mailbox (Gmail or
                                          Microsoft 365) of the running npm start; the fake
                                          provider then notifies the webhook
  sandbox outage --mailbox ADDRESS --minutes N   drop that mailbox's notifications for N minutes
                                          (0 ends it): the safety sync still brings its mail in
  sandbox revoke --mailbox ADDRESS        end a sandbox Gmail mailbox's grant at the fake Google: its next
                                          sync asks for reconnection on the consent page
  sandbox status [--json]                 deliveries, notifications, fetches and webhook answers so far
  dlq list [--queue gmail|graph] [--json] sync jobs in the connectors' dead-letter queues of the running
                                          npm start: message id, group, receives, times, job ids
  dlq redrive [--queue gmail|graph] [MESSAGE_ID…] [--json]   move them (all, or those) back to their
                                          sync queue, same group, fresh deduplication id

Reads take --reason TEXT, recorded in the audit log.

Data lives in MAIL2TICKET_DATA_DIR (default ./.mail2ticket). Gmail commands need a Google OAuth
client: MAIL2TICKET_GOOGLE_CLIENT_ID and MAIL2TICKET_GOOGLE_CLIENT_SECRET — except on the sandbox's
own mailboxes while npm start runs its sandbox (MAIL2TICKET_SANDBOX=1, npm start's default), which
use the sandbox's fake Google. Microsoft 365 commands need an Entra app: MAIL2TICKET_GRAPH_CLIENT_ID
and MAIL2TICKET_GRAPH_CLIENT_SECRET — except, likewise, on the sandbox's own Microsoft 365 mailboxes,
which use the sandbox's fake Graph and identity platform.`;

// Each command's module is loaded when it runs: between them they bring in both providers' client
// libraries, the SQS client and the sandbox. Loading all of them up front made every command pay for
// them: `tickets list` took 1.6 s through the bin instead of 1.1 s (2-core machine).
type StackCommand = (stack: LocalStack, argv: string[]) => Promise<number>;
/** A command that needs only the stack's ingest dependencies. */
const onDeps = (run: (deps: LocalStack['deps'], argv: string[]) => Promise<number>): StackCommand => (stack, argv) => run(stack.deps, argv);

// Maps, not object literals: a name like `toString` or `constructor` must be an unknown command, not
// an Object method.
const COMMANDS = new Map<string, () => Promise<StackCommand>>([
  ['ingest', async () => onDeps((await import('./commands.js')).ingestCommand)],
  ['tickets', async () => onDeps((await import('./commands.js')).ticketsCommand)],
  ['attachments', async () => onDeps((await import('./commands.js')).attachmentsCommand)],
  ['mailboxes', async () => (await import('./retention-commands.js')).mailboxesCommand],
  ['purge', async () => (await import('./retention-commands.js')).purgeCommand],
  ['audit', async () => (await import('./audit-commands.js')).auditCommand],
  ['tenants', async () => (await import('./retention-commands.js')).tenantsCommand],
  ['requesters', async () => (await import('./requester-commands.js')).requestersCommand],
  ['replies', async () => (await import('./gmail-commands.js')).repliesCommand],
]);

/** Commands that talk to the running npm start rather than open the stack. */
const STANDALONE = new Map<string, () => Promise<(config: LocalConfig, argv: string[]) => Promise<number>>>([
  ['sandbox', async () => (await import('./sandbox-commands.js')).sandboxCommand],
  ['dlq', async () => (await import('./dlq-commands.js')).dlqCommand],
]);

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const standalone = STANDALONE.get(command);
  if (standalone) {
    try {
      return await (await standalone())(loadLocalConfig(), rest);
    } catch (error) {
      return report(error);
    }
  }
  const load = COMMANDS.get(command);
  if (!load) return usage(`unknown command "${command}"`);
  try {
    const [run, { openLocalStack }] = await Promise.all([load(), import('../local/stack.js')]);
    const stack = await openLocalStack(loadLocalConfig());
    try {
      return await run(stack, rest);
    } finally {
      await stack.stop();
    }
  } catch (error) {
    return report(error);
  }
}

function usage(message: string): number {
  process.stderr.write(`mail2ticket: ${message}\n\n${USAGE}\n`);
  return 2;
}

function report(error: unknown): number {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    return usage((error as Error).message);
  }
  if (error instanceof DomainError && error.exposeMessage) {
    process.stderr.write(`mail2ticket: ${error.message}\n`);
    return error instanceof ConfigError ? 2 : 1;
  }
  // Internals stay out of the terminal unless asked for: they can quote message content.
  process.stderr.write('mail2ticket: internal error (set MAIL2TICKET_DEBUG=1 for details)\n');
  if (process.env.MAIL2TICKET_DEBUG === '1') process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
