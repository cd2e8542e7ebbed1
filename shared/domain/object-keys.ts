// BlobStore key layout. Keys hold only opaque ids: tenant, mailbox, ingestion and attachment ids.
// Everything of a mailbox shares one prefix, so a purge can list and delete it.

export function mailboxPrefix(tenantId: string, mailboxId: string): string {
  return `t/${tenantId}/m/${mailboxId}/`;
}

export function rawKey(tenantId: string, mailboxId: string, ingestId: string): string {
  return `${mailboxPrefix(tenantId, mailboxId)}raw/${ingestId}`;
}

export function bodyKey(tenantId: string, mailboxId: string, ingestId: string): string {
  return `${mailboxPrefix(tenantId, mailboxId)}body/${ingestId}`;
}

export function attachmentKey(tenantId: string, mailboxId: string, ingestId: string, attachmentId: string): string {
  return `${mailboxPrefix(tenantId, mailboxId)}att/${ingestId}/${attachmentId}`;
}
