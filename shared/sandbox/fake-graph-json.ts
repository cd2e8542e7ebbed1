// How the fake Graph answers: the reply/failure shapes its routes return, and the JSON of a message
// and a mail folder as Graph v1.0 writes them (`@odata.etag`, ISO dates without fractions, `$select`
// limiting the properties while `id` always comes back).
import type { Folder, Mailbox, StoredMessage } from './fake-graph-store.js';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  /** Raw bytes with their content type (`$value`). */
  bytes?: { contentType: string; data: Buffer };
}

/** A Graph error, written as `{ error: { code, message, innerError } }` by the server. */
export interface Failure {
  failure: true;
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export type Outcome = Reply | Failure;

export function fail(status: number, code: string, message: string, headers?: Record<string, string>): Failure {
  return { failure: true, status, code, message, ...(headers ? { headers } : {}) };
}

export function isFailure<T>(value: T | Failure): value is Failure {
  return typeof value === 'object' && value !== null && 'failure' in value && (value as Failure).failure === true;
}

export const itemNotFound = (): Failure => fail(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');

/** Graph writes DateTimeOffset values in UTC without fractional seconds. */
export function graphDate(date: Date | undefined): string | null {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

const DEFAULT_MESSAGE_PROPERTIES = [
  'createdDateTime', 'lastModifiedDateTime', 'changeKey', 'categories', 'receivedDateTime', 'sentDateTime', 'hasAttachments', 'internetMessageId', 'subject', 'bodyPreview',
  'importance', 'parentFolderId', 'conversationId', 'conversationIndex', 'isDeliveryReceiptRequested', 'isReadReceiptRequested', 'isRead', 'isDraft', 'webLink',
  'inferenceClassification', 'body', 'sender', 'from', 'toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo', 'flag',
];
/** Properties that exist on message but only come back when `$select`ed. */
const SELECT_ONLY_PROPERTIES = ['internetMessageHeaders', 'uniqueBody'];

/** Checks a `$select` list the way Graph's URI parser does; returns the offending name. */
export function unknownProperty(select: string[] | undefined): string | undefined {
  const known = new Set(['id', ...DEFAULT_MESSAGE_PROPERTIES, ...SELECT_ONLY_PROPERTIES].map((p) => p.toLowerCase()));
  return select?.find((p) => !known.has(p.toLowerCase()));
}

export function messageJson(message: StoredMessage, options: { immutable: boolean; select?: string[] | undefined; inCollection?: boolean }): Record<string, unknown> {
  const all: Record<string, unknown> = {
    createdDateTime: graphDate(message.createdDateTime),
    lastModifiedDateTime: graphDate(message.lastModifiedDateTime),
    changeKey: message.changeKey,
    categories: [...message.categories],
    receivedDateTime: graphDate(message.receivedDateTime),
    sentDateTime: message.isDraft ? null : graphDate(message.sentDateTime),
    hasAttachments: message.hasAttachments,
    internetMessageId: message.internetMessageId,
    subject: message.subject,
    bodyPreview: message.bodyPreview,
    importance: message.importance,
    parentFolderId: message.folderId,
    conversationId: message.conversationId,
    conversationIndex: Buffer.from(message.conversationId).subarray(0, 22).toString('base64'),
    isDeliveryReceiptRequested: null,
    isReadReceiptRequested: false,
    isRead: message.isRead,
    isDraft: message.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(message.regularId)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: 'focused',
    body: { ...message.body },
    sender: message.sender ?? null,
    from: message.from ?? null,
    toRecipients: message.toRecipients,
    ccRecipients: message.ccRecipients,
    bccRecipients: message.bccRecipients,
    replyTo: message.replyTo,
    flag: { flagStatus: 'notFlagged' },
    internetMessageHeaders: message.headers.length > 0 ? message.headers.map((h) => ({ name: h.name, value: h.value })) : null,
    uniqueBody: { ...message.body },
  };
  const wanted = options.select ?? DEFAULT_MESSAGE_PROPERTIES;
  const json: Record<string, unknown> = {};
  if (options.inCollection) json['@odata.type'] = '#microsoft.graph.message';
  json['@odata.etag'] = `W/"${message.changeKey}"`;
  json.id = options.immutable ? message.immutableId : message.regularId;
  for (const name of wanted) {
    const key = Object.keys(all).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key) json[key] = all[key];
  }
  return json;
}

export function removedJson(id: string): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.message', id, '@removed': { reason: 'deleted' } };
}

export function folderJson(mailbox: Mailbox, folder: Folder): Record<string, unknown> {
  const messages = mailbox.inFolder(folder.id);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: 'msgfolderroot',
    childFolderCount: 0,
    unreadItemCount: messages.filter((m) => !m.isRead).length,
    totalItemCount: messages.length,
    sizeInBytes: messages.reduce((sum, m) => sum + (m.raw?.length ?? 0), 0),
    isHidden: false,
  };
}
