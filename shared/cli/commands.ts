// The operator commands. Each parses its arguments, calls one use-case and prints the result.
import { open, rename, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { DomainError } from '../domain/errors.js';
import { ingestMessage, type IngestDeps, type IngestResult } from '../domain/ingest.js';
import type { MailboxRecord } from '../domain/model.js';
import type { Accessor } from '../domain/audit.js';
import type { AuditLog } from '../domain/ports.js';
import { userInfo } from 'node:os';
import { listTickets, readAttachment, rescanHeldAttachments, showTicket } from '../domain/tickets.js';
import { safeId } from './ids.js';
import { printJsonLine, printTable, UsageError } from './output.js';

export type CommandDeps = IngestDeps & { audit: AuditLog };

/** Who reads through the CLI, and why: the operator's account and the stated reason. */
export function operatorAccessor(reason: string | undefined): Accessor {
  return { actor: `operator:${userInfo().username}`, reason: reason ?? 'operator CLI' };
}
type Args = string[];

export const DEFAULT_TENANT = 'default';
export const DEFAULT_MAILBOX = 'default';

export async function ingestCommand(deps: CommandDeps, argv: Args): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, mailbox: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new UsageError('ingest needs at least one FILE');
  const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
  const mailboxId = safeId('mailbox', values.mailbox, DEFAULT_MAILBOX);
  const mailbox = await ensureLocalMailbox(deps, tenantId, mailboxId);

  let failures = 0;
  const rows: string[][] = [];
  for (const source of positionals) {
    const line = await ingestFile(deps, source, mailbox);
    if (line.status === 'error') failures++;
    if (values.json) printJsonLine(line);
    else rows.push(tableRow(line));
  }
  if (!values.json) printTable(['FILE', 'STATUS', 'TICKET', 'FROM', 'SUBJECT', 'ATTACHMENTS', 'NOTICES'], rows);
  return failures > 0 ? 1 : 0;
}

type IngestLine = { source: string } & (
  | IngestResult
  | { status: 'error'; ticketId: null; messageId: null; subject: null; from: null; attachments: []; notices: []; error: string }
);

async function ingestFile(deps: CommandDeps, source: string, mailbox: MailboxRecord): Promise<IngestLine> {
  let handle;
  try {
    handle = await open(source, 'r');
    if (!(await handle.stat()).isFile()) throw new Error('not a regular file');
  } catch (error) {
    await handle?.close();
    return errorLine(source, `cannot read file: ${describeFsError(error)}`);
  }
  try {
    const { tenantId, mailboxId } = mailbox;
    const r = await ingestMessage(deps, handle.createReadStream(), { tenantId, mailboxId, mailbox, receivedAt: deps.clock.now() });
    // The documented field order, for people reading the JSON lines.
    return {
      source,
      status: r.status,
      ticketId: r.ticketId,
      messageId: r.messageId,
      internetMessageId: r.internetMessageId,
      subject: r.subject,
      from: r.from,
      attachments: r.attachments,
      notices: r.notices,
      ...(r.reason ? { reason: r.reason } : {}),
    };
  } catch (error) {
    return errorLine(source, error instanceof DomainError && error.exposeMessage ? error.message : 'ingestion failed; see the operator log');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function errorLine(source: string, error: string): IngestLine {
  return { source, status: 'error', ticketId: null, messageId: null, subject: null, from: null, attachments: [], notices: [], error };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

function tableRow(line: IngestLine): string[] {
  if (line.status === 'error') return [line.source, 'error', '', '', line.error, '', ''];
  const attachments = line.attachments.map((a) => `${a.filename} (${a.scan})`).join(', ');
  const status = line.reason ? `${line.status} (${line.reason})` : line.status;
  return [line.source, status, line.ticketId ?? '', line.from.address, line.subject, attachments, line.notices.map((n) => n.code).join(', ')];
}

/** Local ingestion creates its mailbox on first use; connected mailboxes come from the connectors. */
async function ensureLocalMailbox(deps: CommandDeps, tenantId: string, mailboxId: string): Promise<MailboxRecord> {
  const existing = await deps.repo.getMailbox(tenantId, mailboxId);
  if (existing) return existing;
  const mailbox: MailboxRecord = { tenantId, mailboxId, provider: 'local', status: 'connected', createdAt: deps.clock.now().toISOString() };
  await deps.repo.putMailbox(mailbox);
  return mailbox;
}

export async function ticketsCommand(deps: CommandDeps, argv: Args): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, mailbox: { type: 'string' }, json: { type: 'boolean', default: false }, reason: { type: 'string' } },
  });
  const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
  const accessor = operatorAccessor(values.reason);
  if (sub === 'list') {
    const mailboxId = values.mailbox === undefined ? undefined : safeId('mailbox', values.mailbox);
    const tickets = await listTickets(deps, tenantId, accessor, mailboxId);
    if (values.json) printJsonLine(tickets);
    else printTable(['TICKET', 'MAILBOX', 'LAST ACTIVITY', 'FROM', 'SUBJECT'], tickets.map((t) => [t.ticketId, t.mailboxId, t.lastActivityAt, t.requester.address, t.subject]));
    return 0;
  }
  if (sub === 'show') {
    const [ticketId] = positionals;
    if (!ticketId) throw new UsageError('tickets show needs a ticket ID');
    const ticket = await showTicket(deps, tenantId, ticketId, accessor);
    if (values.json) {
      printJsonLine(ticket);
      return 0;
    }
    process.stdout.write(`Ticket ${ticket.ticketId} · ${ticket.subject}\nRequester: ${formatAddress(ticket.requester)} · mailbox ${ticket.mailboxId}\n`);
    for (const m of ticket.messages) {
      process.stdout.write(`\n── ${m.receivedAt} · ${formatAddress(m.from)} · ${m.subject}\n${m.text.trim()}\n`);
      for (const a of m.attachments) process.stdout.write(`  📎 ${a.filename} · ${a.contentType} · ${a.size} bytes · ${a.scan} · id ${a.id}\n`);
      for (const n of m.notices) process.stdout.write(`  ⚠ ${n.code}: ${n.detail}\n`);
    }
    return 0;
  }
  throw new UsageError('tickets takes "list" or "show ID"');
}

export async function attachmentsCommand(deps: CommandDeps, argv: Args): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false }, reason: { type: 'string' } },
  });
  const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
  if (sub === 'get') {
    const [attachmentId] = positionals;
    if (!attachmentId) throw new UsageError('attachments get needs an attachment ID');
    if (!values.out) throw new UsageError('attachments get needs --out FILE');
    const { summary, content } = await readAttachment(deps, tenantId, attachmentId, operatorAccessor(values.reason));
    // Written beside the target and renamed, so a failed download never leaves a partial file.
    const partial = `${values.out}.partial`;
    try {
      await pipeline(content, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, values.out);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    process.stderr.write(`saved ${summary.filename} (${summary.size} bytes, ${summary.scan}) to ${values.out}\n`);
    return 0;
  }
  if (sub === 'rescan') {
    const results = await rescanHeldAttachments(deps, tenantId);
    if (values.json) printJsonLine(results);
    else printTable(['ATTACHMENT', 'SCAN'], results.map((r) => [r.attachmentId, r.scan]));
    return 0;
  }
  throw new UsageError('attachments takes "get ID --out FILE" or "rescan"');
}

function formatAddress(a: { address: string; name: string }): string {
  return a.name ? `${a.name} <${a.address}>` : a.address;
}
