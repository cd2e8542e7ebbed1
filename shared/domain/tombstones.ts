// Tombstones: one small record per purged mailbox — ids and dates only, no personal data — kept in
// the object store, outside the table's backups. After a table restore, `reapplyTombstones` purges
// again whatever the restore brought back, so a backup can never resurrect deleted mail.
import type { MailboxRecord } from './model.js';
import type { BlobStore } from './ports.js';

export const TOMBSTONE_PREFIX = 'tombstones/';

export interface MailboxTombstone {
  kind: 'mailbox';
  tenantId: string;
  mailboxId: string;
  disconnectedAt: string | null;
  purgeBy: string | null;
  purgedAt: string;
}

export function tombstoneKey(tenantId: string, mailboxId: string): string {
  return `${TOMBSTONE_PREFIX}t/${tenantId}/m/${mailboxId}.json`;
}

export async function writeTombstone(blobs: BlobStore, mailbox: MailboxRecord, purgedAt: string): Promise<void> {
  const tombstone: MailboxTombstone = {
    kind: 'mailbox',
    tenantId: mailbox.tenantId,
    mailboxId: mailbox.mailboxId,
    disconnectedAt: mailbox.disconnectedAt ?? null,
    purgeBy: mailbox.purgeBy ?? null,
    purgedAt,
  };
  await blobs.put(tombstoneKey(mailbox.tenantId, mailbox.mailboxId), Buffer.from(JSON.stringify(tombstone)));
}

export async function* listTombstones(blobs: BlobStore): AsyncIterable<MailboxTombstone> {
  for await (const { key } of blobs.list(TOMBSTONE_PREFIX)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
    yield JSON.parse(Buffer.concat(chunks).toString('utf8')) as MailboxTombstone;
  }
}
