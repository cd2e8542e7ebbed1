// Mailbox lifecycle and retention commands. `purge run --now T` runs, as of T, what the cloud runs
// on its own: TTL expiry (emulated locally), the stream consumer, the backstop sweep and the orphan
// sweep; `purge orphans` shows (or, without --dry-run, removes) the orphan objects of live mailboxes.
import { parseArgs } from 'node:util';
import { tenantConsentCommand } from './tenant-commands.js';
import { makeHandler as makePurgeStreamHandler } from '../../functions/purge-stream/make-handler.js';
import type { Clock } from '../domain/ports.js';
import type { MailboxRecord } from '../domain/model.js';
import { ORPHAN_GRACE_HOURS, sweepOrphanObjects } from '../domain/orphans.js';
import { closeTenant, disconnectMailbox, eraseMailbox, eraseTenant, reapplyTombstones, sweepDueMailboxes, type RetentionDeps } from '../domain/retention.js';
import type { LocalStack } from '../local/stack.js';
import { expireItems } from '../local/ttl-emulator.js';
import { DEFAULT_TENANT } from './commands.js';
import { connectGmailCommand, gmailReleaser, mailboxView, syncGmailCommand } from './gmail-commands.js';
import { connectGraphCommand, graphReleaser, syncGraph } from './graph-commands.js';
import { safeId } from './ids.js';
import { printJsonLine, printTable, UsageError } from './output.js';

function retentionDeps(stack: LocalStack, clock: Clock = stack.deps.clock): RetentionDeps {
  const gmail = gmailReleaser(stack);
  const graph = graphReleaser(stack);
  const releaseProvider = async (mailbox: MailboxRecord) => {
    if (mailbox.provider === 'gmail' && gmail) await gmail(mailbox);
    if (mailbox.provider === 'graph' && graph) await graph(mailbox);
  };
  return { repo: stack.deps.repo, retention: stack.retention, blobs: stack.deps.blobs, clock, releaseProvider };
}

export async function mailboxesCommand(stack: LocalStack, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      json: { type: 'boolean', default: false },
      'retention-days': { type: 'string' },
      'refresh-token-file': { type: 'string' },
      'azure-tenant': { type: 'string' },
      address: { type: 'string' },
      'user-id': { type: 'string' },
    },
  });
  const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
  if (sub === 'list') {
    const mailboxes = await stack.deps.repo.listMailboxes(tenantId);
    if (values.json) printJsonLine(mailboxes.map(mailboxView));
    else
      printTable(
        ['MAILBOX', 'PROVIDER', 'STATUS', 'LAST SYNC', 'ISSUE', 'PURGE BY', 'PURGED'],
        mailboxes.map((m) => [m.mailboxId, m.provider, m.status, m.connection?.lastSyncedAt ?? '', m.connection?.lastIssue?.code ?? '', m.purgeBy ?? '', m.purgedAt ?? '']),
      );
    return 0;
  }
  const mailboxId = safeId('mailbox', positionals[0]);
  if (sub === 'connect-gmail') return connectGmailCommand(stack, tenantId, mailboxId, values['refresh-token-file'], values.json);
  if (sub === 'connect-graph') {
    return connectGraphCommand(stack, { tenantId, mailboxId }, { azureTenant: values['azure-tenant'], address: values.address, userId: values['user-id'] }, values.json);
  }
  if (sub === 'sync') {
    const mailbox = await stack.deps.repo.getMailbox(tenantId, mailboxId);
    if (mailbox?.provider !== 'graph') return syncGmailCommand(stack, tenantId, mailboxId, values.json);
    const report = await syncGraph(stack, { tenantId, mailboxId });
    if (values.json) printJsonLine({ mailboxId, ...report });
    else process.stdout.write(`mailbox ${mailboxId}: ${report.outcome}${report.mode ? ` (${report.mode})` : ''}, ${report.added} new message(s)\n`);
    return report.outcome === 'synced' ? 0 : 1;
  }
  if (sub === 'disconnect') {
    const days = values['retention-days'] === undefined ? undefined : Number(values['retention-days']);
    const mailbox = await disconnectMailbox(retentionDeps(stack), tenantId, mailboxId, days);
    if (values.json) printJsonLine(mailboxView(mailbox));
    else process.stdout.write(`mailbox ${mailboxId} disconnected; its data is hidden now and deleted by ${mailbox.purgeBy}\n`);
    return 0;
  }
  if (sub === 'erase') {
    const removed = await eraseMailbox(retentionDeps(stack), tenantId, mailboxId);
    if (values.json) printJsonLine({ mailboxId, ...removed });
    else process.stdout.write(`mailbox ${mailboxId} erased: ${removed.items} items and ${removed.objects} objects deleted\n`);
    return 0;
  }
  throw new UsageError('mailboxes takes "list", "connect-gmail ID", "connect-graph ID", "sync ID", "disconnect ID" or "erase ID"');
}

export async function purgeCommand(stack: LocalStack, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      now: { type: 'string' },
      json: { type: 'boolean', default: false },
      tenant: { type: 'string' },
      mailbox: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'grace-hours': { type: 'string' },
    },
  });
  if (sub === 'run') {
    const now = asOf(stack, values.now);
    const clock: Clock = { now: () => new Date(now) };
    const deps = retentionDeps(stack, clock);
    const expired = await expireItems({ ...stack.dynamo, now, deliver: makePurgeStreamHandler(deps) });
    const sweep = await sweepDueMailboxes(deps);
    const orphans = await sweepOrphanObjects(deps);
    const report = { now: now.toISOString(), expiredItems: expired, sweep, orphans };
    if (values.json) printJsonLine(report);
    else
      process.stdout.write(
        `as of ${report.now}: ${expired} expired item(s) deleted with their objects; backstop purged ${sweep.mailboxes} mailbox(es), ${sweep.items} item(s), ${sweep.objects} object(s); ` +
          `${sweep.rechecks} recheck(s) found ${sweep.lateWrites} late write(s); ${sweep.tenants} closed account(s) lost ${sweep.tenantRecords} record(s); ` +
          `${orphans.objects} orphan object(s) deleted\n`,
      );
    return 0;
  }
  if (sub === 'orphans') {
    // Objects of live mailboxes whose ingestion never completed and that nothing names.
    const now = asOf(stack, values.now);
    const graceHours = values['grace-hours'] === undefined ? ORPHAN_GRACE_HOURS : Number(values['grace-hours']);
    // Every tenant unless one is named; one mailbox of it with --mailbox.
    const scope =
      values.tenant === undefined && values.mailbox === undefined
        ? undefined
        : { tenantId: safeId('tenant', values.tenant, DEFAULT_TENANT), ...(values.mailbox === undefined ? {} : { mailboxId: safeId('mailbox', values.mailbox) }) };
    const dryRun = values['dry-run'];
    const report = await sweepOrphanObjects(retentionDeps(stack, { now: () => new Date(now) }), { graceHours, dryRun, ...(scope ? { scope } : {}) });
    if (values.json) printJsonLine({ now: now.toISOString(), graceHours, dryRun, ...report });
    else
      process.stdout.write(
        `as of ${now.toISOString()} (grace ${graceHours} h): ${report.mailboxes} live mailbox(es) looked at, ${report.skipped} left to retention; ` +
          `${report.objects} orphan object(s) of ${report.ingestions} unfinished ingestion(s) (raw ${report.byKind.raw}, body ${report.byKind.body}, attachments ${report.byKind.att}) ${dryRun ? 'found, none deleted (dry run)' : 'deleted'}\n`,
      );
    return 0;
  }
  if (sub === 'status') {
    const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
    const due = (await stack.deps.repo.listMailboxes(tenantId)).filter((m) => m.purgeBy);
    if (values.json) printJsonLine(due.map(({ mailboxId, disconnectedAt, purgeBy, purgedAt }) => ({ mailboxId, disconnectedAt, purgeBy, purgedAt: purgedAt ?? null })));
    else printTable(['MAILBOX', 'DISCONNECTED', 'PURGE BY', 'PURGED'], due.map((m) => [m.mailboxId, m.disconnectedAt ?? '', m.purgeBy ?? '', m.purgedAt ?? '']));
    return 0;
  }
  if (sub === 'reapply') {
    // After a table restore. Locally there is no TTL or stream to re-enable (dynalite has neither);
    // in AWS the restore runbook re-enables them first (README).
    const report = await reapplyTombstones({ ...retentionDeps(stack), keys: stack.deps.keys });
    if (values.json) printJsonLine(report);
    else {
      const erasures = report.requesterErasures;
      process.stdout.write(
        `${report.tombstones} tombstone(s) re-applied: ${report.items} restored item(s) and ${report.objects} object(s) deleted again; ` +
          `${erasures.erasures} requester erasure(s) replayed: ${erasures.deleted} message(s) deleted, ${erasures.redacted} redacted, ${erasures.suppressed} automatic message(s) deleted, ${erasures.skipped} left to their mailbox's purge\n`,
      );
    }
    return 0;
  }
  throw new UsageError('purge takes "run [--now ISO_TIME]", "orphans [--now ISO_TIME] [--tenant T] [--mailbox ID] [--grace-hours H] [--dry-run]", "status" or "reapply"');
}

function asOf(stack: LocalStack, value: string | undefined): Date {
  const now = value === undefined ? stack.deps.clock.now() : new Date(value);
  if (Number.isNaN(now.getTime())) throw new UsageError('--now takes an ISO 8601 time');
  return now;
}

export async function tenantsCommand(stack: LocalStack, argv: string[]): Promise<number> {
  const [sub, id, ...rest] = argv;
  if (sub === 'create' || sub === 'invite' || sub === 'list') return tenantConsentCommand(stack, argv);
  const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } } });
  if (sub === 'close') {
    const tenantId = safeId('tenant', id);
    const result = await closeTenant({ ...retentionDeps(stack), tenantKeys: stack.tenantKeys }, tenantId);
    if (values.json) printJsonLine({ tenantId, ...result });
    else
      process.stdout.write(
        `tenant ${tenantId} closed: ${result.mailboxes} mailbox(es) disconnected, keys destroyed (${result.keysDestroyedBy}); every copy of its data is unreadable; ` +
          `its access log, restrictions and consent records go by ${result.recordsPurgeBy}\n`,
      );
    return 0;
  }
  if (sub === 'erase') {
    const tenantId = safeId('tenant', id);
    const result = await eraseTenant({ ...retentionDeps(stack), tenantKeys: stack.tenantKeys }, tenantId);
    if (values.json) printJsonLine({ tenantId, ...result });
    else process.stdout.write(`tenant ${tenantId} erased: ${result.mailboxes} mailbox(es), ${result.items} item(s) and ${result.objects} object(s) deleted now, keys destroyed (${result.keysDestroyedBy})\n`);
    return 0;
  }
  throw new UsageError('tenants takes "create NAME", "list", "invite TENANT_ID", "invite revoke INVITE_ID", "close ID" or "erase ID"');
}
