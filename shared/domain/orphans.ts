// The orphan sweep: objects of a live mailbox that no record names. An ingestion stores its raw
// message (and attachments, and a large body) under its own ingestId before it claims the message
// and writes its items; a worker killed before the claim, a takeover or a duplicate whose clean-up
// delete failed, leaves objects behind that nothing will ever read. The retention purge only removes
// disconnected mailboxes, so these would stay for the mailbox's lifetime.
//
// Why it can never take an object a completed or still-completing ingestion needs:
// - Only objects older than the grace period count, and a whole ingestion's objects (one ingestId)
//   go or stay together. An ingestion writes objects only while its pass runs; every retry (a
//   redelivery, a takeover) stores its own under a new ingestId and never adopts an earlier pass's.
//   So a group whose newest object is older than any pass can live belongs to a pass that is over.
// - A group stays whenever a claim names its ingestId: the claim is written before any item points
//   at objects, and a takeover renames it to the new pass, so it names every completed ingestion
//   (message, unparsed message, robot) and every one that could still complete.
// - A group named by no claim is looked up in every item of the mailbox that can name an object
//   (message rawKey/bodyKey, attachment blobKey incl. held ones, robot rawKey) before it goes: a
//   restored table or a state no claim explains keeps the objects its items name.
// - Key kinds it does not know (anything but raw/, body/, att/) are never touched, nor mailboxes
//   that are missing, disconnected or purged (the retention purge owns those).
// After a table restore the restored table is what counts: objects of ingestions newer than the
// backup are named by nothing and go after the grace period (the provider sync brings the mail
// back under new objects from the restored cursor).
import { InvalidInput } from './errors.js';
import type { MailboxRecord } from './model.js';
import { mailboxPrefix } from './object-keys.js';
import type { BlobStore, Clock, RetentionRepository, TicketRepository } from './ports.js';

/**
 * How old an ingestion's newest object must be before the sweep looks at it. A pass lives at most a
 * worker timeout (15 min in AWS) and its claim lease is 120 s; the queues redeliver a failed job for
 * up to about 12 h (8 receives × 90 min visibility), each redelivery a new pass with new objects.
 * A day covers all of it with room for clock skew between the bucket and the sweeper.
 */
export const ORPHAN_GRACE_HOURS = 24;
/** Below this, a slow pass (a 15-minute worker, a suspended laptop) could lose its objects mid-flight. */
export const MIN_ORPHAN_GRACE_HOURS = 1;

/** Where every mailbox's objects live (object-keys.ts: t/<tenant>/m/<mailbox>/…). */
const MAILBOXES_ROOT = 't/';
const MAILBOX_KEY = /^t\/([^/]+)\/m\/([^/]+)\/(.*)$/;
const INGESTION_OBJECT = /^(raw|body)\/([^/]+)$|^att\/([^/]+)\/[^/]+$/;

export interface OrphanSweepDeps {
  repo: Pick<TicketRepository, 'getMailbox'>;
  retention: Pick<RetentionRepository, 'listClaimedIngestions' | 'listObjectReferences'>;
  blobs: BlobStore;
  clock: Clock;
}

export interface OrphanSweepOptions {
  graceHours?: number;
  /** One tenant, or one mailbox of it (the CLI); every mailbox with objects otherwise. */
  scope?: { tenantId: string; mailboxId?: string };
  /** Report what would go without deleting it. */
  dryRun?: boolean;
  /**
   * When to stop judging further mailboxes (epoch ms): a Lambda ends the run cleanly before its
   * timeout, and the report says it did not cover everything.
   */
  stopAt?: number;
}

export interface OrphanSweepReport {
  /** Live mailboxes looked at. */
  mailboxes: number;
  /** Mailboxes with objects left alone: missing, disconnected or purged (retention's). */
  skipped: number;
  /** Ingestions older than the grace period that nothing names. */
  ingestions: number;
  /** Their objects, deleted (or, in a dry run, that would be). */
  objects: number;
  byKind: { raw: number; body: number; att: number };
  /** False when the run stopped at `stopAt` before the listing's end. */
  complete: boolean;
}

interface Group {
  keys: string[];
  newest: number;
}

interface MailboxObjects {
  tenantId: string;
  mailboxId: string;
  groups: Map<string, Group>;
}

export async function sweepOrphanObjects(deps: OrphanSweepDeps, options: OrphanSweepOptions = {}): Promise<OrphanSweepReport> {
  const graceHours = options.graceHours ?? ORPHAN_GRACE_HOURS;
  if (!(graceHours >= MIN_ORPHAN_GRACE_HOURS)) throw new InvalidInput(`the orphan grace period is at least ${MIN_ORPHAN_GRACE_HOURS} h`);
  const cutoff = deps.clock.now().getTime() - graceHours * 3600 * 1000;
  const report: OrphanSweepReport = { mailboxes: 0, skipped: 0, ingestions: 0, objects: 0, byKind: { raw: 0, body: 0, att: 0 }, complete: true };
  const outOfTime = () => options.stopAt !== undefined && deps.clock.now().getTime() >= options.stopAt;
  const { scope } = options;
  const root = !scope ? MAILBOXES_ROOT : scope.mailboxId ? mailboxPrefix(scope.tenantId, scope.mailboxId) : `${MAILBOXES_ROOT}${scope.tenantId}/`;

  // A bucket lists in key order, so one mailbox's objects come together and are judged when the
  // listing moves on: memory holds one mailbox at a time. A store listing out of order only makes a
  // mailbox be judged more than once, each time on part of its objects, which is as safe.
  let current: MailboxObjects | undefined;
  for await (const { key, lastModified } of deps.blobs.list(root)) {
    const parsed = parseKey(key);
    if (!parsed) continue;
    if (current && (current.tenantId !== parsed.tenantId || current.mailboxId !== parsed.mailboxId)) {
      await sweepMailbox(deps, current, cutoff, report, options.dryRun ?? false);
      current = undefined;
      if (outOfTime()) {
        report.complete = false;
        return report;
      }
    }
    current ??= { tenantId: parsed.tenantId, mailboxId: parsed.mailboxId, groups: new Map() };
    const group = current.groups.get(parsed.ingestId) ?? { keys: [], newest: 0 };
    group.keys.push(key);
    group.newest = Math.max(group.newest, lastModified.getTime());
    current.groups.set(parsed.ingestId, group);
  }
  if (current) await sweepMailbox(deps, current, cutoff, report, options.dryRun ?? false);
  return report;
}

function parseKey(key: string): { tenantId: string; mailboxId: string; ingestId: string } | null {
  const mailbox = MAILBOX_KEY.exec(key);
  if (!mailbox) return null;
  const object = INGESTION_OBJECT.exec(mailbox[3] ?? '');
  const ingestId = object?.[2] ?? object?.[3];
  return ingestId ? { tenantId: mailbox[1] as string, mailboxId: mailbox[2] as string, ingestId } : null;
}

function isLive(mailbox: MailboxRecord | undefined): mailbox is MailboxRecord {
  return !!mailbox && mailbox.status !== 'disconnected' && !mailbox.purgeBy && !mailbox.purgedAt;
}

async function sweepMailbox(deps: OrphanSweepDeps, objects: MailboxObjects, cutoff: number, report: OrphanSweepReport, dryRun: boolean): Promise<void> {
  const { tenantId, mailboxId } = objects;
  if (!isLive(await deps.repo.getMailbox(tenantId, mailboxId))) {
    report.skipped++;
    return;
  }
  report.mailboxes++;
  const candidates = new Map([...objects.groups].filter(([, group]) => group.newest < cutoff));
  // Claims first: small, and usually they name every old group, so the message items are not read.
  let cursor: string | undefined;
  while (candidates.size > 0) {
    const page = await deps.retention.listClaimedIngestions(tenantId, mailboxId, cursor);
    for (const ingestId of page.ingestIds) candidates.delete(ingestId);
    if (!(cursor = page.cursor)) break;
  }
  cursor = undefined;
  while (candidates.size > 0) {
    const page = await deps.retention.listObjectReferences(tenantId, mailboxId, cursor);
    for (const key of page.objectKeys) {
      const named = parseKey(key);
      if (named && named.tenantId === tenantId && named.mailboxId === mailboxId) candidates.delete(named.ingestId);
      // A key of a layout this module does not parse: keep any group holding exactly that key.
      else for (const [ingestId, group] of candidates) if (group.keys.includes(key)) candidates.delete(ingestId);
    }
    if (!(cursor = page.cursor)) break;
  }
  if (candidates.size === 0) return;
  const keys = [...candidates.values()].flatMap((group) => group.keys);
  if (!dryRun) await deps.blobs.delete(keys);
  report.ingestions += candidates.size;
  report.objects += keys.length;
  for (const key of keys) {
    const kind = key.slice(mailboxPrefix(tenantId, mailboxId).length).split('/')[0];
    if (kind === 'raw' || kind === 'body' || kind === 'att') report.byKind[kind]++;
  }
}
