// Item keys. Every key starts with the tenant id and holds only opaque ids and HMACs.
//
//   entity          PK                                  SK                 GSIs
//   mailbox         T#t                                 MB#m               GSI1 PURGE#DUE / (recheckAt|purgeBy)#t#m (while a recheck or the purge is due)
//   closure         T#t                                 CLOSURE            GSI1 TENANT#PURGE#DUE / purgeBy#t (until the tenant's records are purged)
//   ticket          T#t#K#ticket                        TICKET             GSI1 T#t#MB#m#TICKETS / lastActivityAt#ticket
//   message         T#t#K#ticket                        M#message          GSI2 T#t#MB#m#MID#hmac / ticket#message, GSI3 T#t#MB#m#PT#hmac
//   attachment      T#t#K#ticket                        A#message#att      GSI1 T#t#ATT#att / ATT, GSI2 T#t#HELD / att (while held)
//   claim           T#t#MB#m#FP#hmac                    CLAIM
//   provider id     T#t#MB#m#PID#hmac                   CLAIM
//   requester link  T#t#RQ#hmac                         M#message
//   suppressed      T#t#MB#m#SUP                        M#message
//   reply intent    T#t#K#ticket                        R#token            (Graph drafts on their way out)
//   provider addr.  DIR#provider#hmac                   MAILBOX            (service-wide: a push names only the address)
// A connected provider mailbox sits in GSI1 CONNECTED#provider / t#m, which renewals and the safety sync walk.
// Every item of a mailbox carries MBX = T#t#MB#m (GSI4), which the purge walks.

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function assertSafeId(kind: string, id: string): string {
  if (!SAFE_ID.test(id)) throw new Error(`invalid ${kind} id`);
  return id;
}

export const tenantPk = (t: string) => `T#${assertSafeId('tenant', t)}`;
export const mailboxSk = (m: string) => `MB#${assertSafeId('mailbox', m)}`;
export const mbx = (t: string, m: string) => `${tenantPk(t)}#MB#${assertSafeId('mailbox', m)}`;
export const ticketPk = (t: string, ticketId: string) => `${tenantPk(t)}#K#${assertSafeId('ticket', ticketId)}`;
export const TICKET_SK = 'TICKET';
export const messageSk = (messageId: string) => `M#${assertSafeId('message', messageId)}`;
export const attachmentSk = (messageId: string, attachmentId: string) => `A#${messageId}#${assertSafeId('attachment', attachmentId)}`;
export const ticketsOfMailbox = (t: string, m: string) => `${mbx(t, m)}#TICKETS`;
export const attachmentLookup = (t: string, attachmentId: string) => `${tenantPk(t)}#ATT#${assertSafeId('attachment', attachmentId)}`;
export const heldAttachments = (t: string) => `${tenantPk(t)}#HELD`;
export const messageIdLookup = (t: string, m: string, hmac: string) => `${mbx(t, m)}#MID#${hmac}`;
export const providerThreadLookup = (t: string, m: string, hmac: string) => `${mbx(t, m)}#PT#${hmac}`;
export const claimPk = (t: string, m: string, hmac: string) => `${mbx(t, m)}#FP#${hmac}`;
export const providerIdPk = (t: string, m: string, hmac: string) => `${mbx(t, m)}#PID#${hmac}`;
export const CLAIM_SK = 'CLAIM';
export const requesterPk = (t: string, hmac: string) => `${tenantPk(t)}#RQ#${hmac}`;
export const suppressedPk = (t: string, m: string) => `${mbx(t, m)}#SUP`;
/** The deadline index of disconnected mailboxes (GSI1 on mailbox items; sort key purgeBy#tenant#mailbox). */
export const PURGE_DUE = 'PURGE#DUE';
/** A closed account's record, and the deadline index of closures whose tenant records await their purge. */
export const CLOSURE_SK = 'CLOSURE';
export const TENANT_PURGE_DUE = 'TENANT#PURGE#DUE';
/** One partition per tenant listing restricted requesters (SK = address HMAC). */
export const restrictionsPk = (t: string) => `${tenantPk(t)}#RESTRICTED`;
/** The service-wide directory entry of a provider address (a service-key HMAC, never the address). */
export const directoryPk = (provider: string, hmac: string) => `DIR#${provider}#${hmac}`;
export const DIRECTORY_SK = 'MAILBOX';
export const connectedOf = (provider: string) => `CONNECTED#${provider}`;
export const replyIntentSk = (token: string) => `R#${assertSafeId('reply', token)}`;
/** The tenant's access log (hash-chained records and the chain head). */
export const auditPk = (t: string) => `${tenantPk(t)}#AUDIT`;
/** The consent site's records of a tenant: the tenant itself (SK TENANT) and its invites (SK INV#id). */
export const consentPk = (t: string) => `${tenantPk(t)}#CONSENT`;
export const TENANT_SK = 'TENANT';
export const inviteSk = (inviteId: string) => `INV#${assertSafeId('invite', inviteId)}`;
/** GSI1 partitions: every tenant (operators list them), and an invite by id alone (revocation). */
export const TENANTS = 'TENANTS';
export const inviteLookup = (inviteId: string) => `INVITE#${assertSafeId('invite', inviteId)}`;
/** Admin sessions and one-time states, service-wide by the digest of the secret the browser holds. */
export const sessionPk = (hash: string) => `SESSION#${hash}`;
export const statePk = (hash: string) => `STATE#${hash}`;
