// The Gmail API v1 resources the fake serves, in the REST wire format of the API reference:
// users.getProfile, users.history.list, users.messages.list / get / send / import (JSON and /upload/
// media or multipart), users.messages.attachments.get, users.threads.get, users.watch and users.stop. Every handler works on
// one authenticated mailbox and returns a Reply; the server decides when to write it (fault delays).
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { googleError, invalidArgument, notFound } from './google-errors.js';
import { headerValue, parseHeaders, parseMimeTree, snippetOf, withMessageId, type MimeNode } from './fake-gmail-mime.js';
import { compileQuery } from './fake-gmail-query.js';
import type { HistoryRecord, HistoryType, Mailbox, StoredMessage } from './fake-gmail-store.js';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Serialized as JSON; absent for an empty body. */
  json?: unknown;
  /** Writes a large body itself, chunk by chunk, honouring backpressure. */
  stream?: (res: ServerResponse) => Promise<void>;
}

export interface ApiRequest {
  mailbox: Mailbox;
  method: string;
  /** The path after /gmail/v1/users/{userId}/, split on '/'. */
  segments: string[];
  upload: boolean;
  query: URLSearchParams;
  contentType: string;
  body: Buffer;
}

export interface RouteDeps {
  replaceMessageIdOnSend: boolean;
  /** Called after the mailbox changed, with the message the change touched. */
  changed(mailbox: Mailbox, message: StoredMessage): void;
}

const WATCH_DAYS = 7;
const HISTORY_TYPES: readonly HistoryType[] = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];
const HISTORY_FIELD: Record<HistoryType, string> = { messageAdded: 'messagesAdded', messageDeleted: 'messagesDeleted', labelAdded: 'labelsAdded', labelRemoved: 'labelsRemoved' };
/** Raw bodies are base64url-encoded and written in slices of this many input bytes (a multiple of 3). */
const RAW_SLICE = 3 * 256 * 1024;

const ok = (json: unknown): Reply => ({ status: 200, json });
const fail = (body: ReturnType<typeof googleError>): Reply => ({ status: body.error.code, json: body });

export function routeApi(request: ApiRequest, deps: RouteDeps): Reply {
  const { method, segments } = request;
  const [resource, id, sub, subId] = segments;
  if (method === 'GET' && resource === 'profile' && segments.length === 1) return profile(request.mailbox);
  if (method === 'GET' && resource === 'history' && segments.length === 1) return listHistory(request);
  if (method === 'POST' && resource === 'watch' && segments.length === 1) return watch(request);
  if (method === 'POST' && resource === 'stop' && segments.length === 1) {
    request.mailbox.watch = undefined;
    return { status: 204 };
  }
  if (resource === 'messages') {
    if (method === 'GET' && segments.length === 1) return listMessages(request);
    if (method === 'POST' && id === 'send' && segments.length === 2) return send(request, deps);
    if (method === 'POST' && id === 'import' && segments.length === 2) return importMessage(request, deps);
    if (method === 'GET' && id && segments.length === 2) return getMessage(request, id);
    if (method === 'GET' && id && sub === 'attachments' && subId && segments.length === 4) return getAttachment(request.mailbox, id, subId);
  }
  if (method === 'GET' && resource === 'threads' && id && segments.length === 2) return getThread(request, id);
  return fail(notFound());
}

function profile(mailbox: Mailbox): Reply {
  return ok({ emailAddress: mailbox.email, messagesTotal: mailbox.messages.size, threadsTotal: mailbox.threadCount(), historyId: String(mailbox.historyId) });
}

function pageSize(query: URLSearchParams): number | Reply {
  const raw = query.get('maxResults');
  if (raw === null) return 100;
  if (!/^\d+$/.test(raw)) return fail(invalidArgument(`Invalid value at 'max_results' (TYPE_UINT32), "${raw}"`, 'maxResults'));
  // Gmail caps the page at 500 rather than refusing a larger maxResults.
  return Math.min(Math.max(Number(raw), 1), 500);
}

/** Repeated query parameters arrive as `name=a&name=b` from the Node client; `name[]` is accepted too. */
const repeated = (query: URLSearchParams, name: string) => [...query.getAll(name), ...query.getAll(`${name}[]`)];

function listHistory({ mailbox, query }: ApiRequest): Reply {
  const startRaw = query.get('startHistoryId');
  if (!startRaw) return fail(googleError(400, 'Required parameter: startHistoryId', 'required', { location: 'startHistoryId', locationType: 'parameter' }));
  if (!/^\d{1,20}$/.test(startRaw)) return fail(invalidArgument(`Invalid value at 'start_history_id' (TYPE_UINT64), "${startRaw}"`, 'startHistoryId'));
  const types = repeated(query, 'historyTypes');
  const unknownType = types.find((t) => !HISTORY_TYPES.includes(t as HistoryType));
  if (unknownType) return fail(invalidArgument(`Invalid value at 'history_types' (type.googleapis.com/gmail.v1.HistoryType), "${unknownType}"`, 'historyTypes'));
  const size = pageSize(query);
  if (typeof size !== 'number') return size;
  const pageToken = query.get('pageToken');
  const after = pageToken ? decodeCursor(pageToken) : undefined;
  if (pageToken && (after?.length !== 1 || !/^\d+$/.test(String(after[0])))) return fail(invalidArgument('Invalid pageToken', 'pageToken'));

  const records = mailbox.historySince(BigInt(startRaw));
  if (!records) return fail(notFound());
  const labelId = query.get('labelId');
  const matching = records.filter(
    (r) =>
      (!after || r.id > BigInt(after[0] as string)) &&
      (types.length === 0 || types.includes(r.type)) &&
      (!labelId || r.message.labelIds.includes(labelId) || (r.labelIds ?? []).includes(labelId)),
  );
  const page = matching.slice(0, size);
  const last = page.at(-1);
  return ok({
    ...(page.length > 0 ? { history: page.map(historyJson) } : {}),
    ...(last && matching.length > size ? { nextPageToken: encodeCursor([String(last.id)]) } : {}),
    historyId: String(mailbox.historyId),
  });
}

function historyJson(record: HistoryRecord) {
  const { id, threadId } = record.message;
  const change = record.labelIds ? { message: record.message, labelIds: record.labelIds } : { message: record.message };
  return { id: String(record.id), messages: [{ id, threadId }], [HISTORY_FIELD[record.type]]: [change] };
}

function listMessages({ mailbox, query }: ApiRequest): Reply {
  const compiled = compileQuery(query.get('q') ?? '');
  if ('error' in compiled) return fail(invalidArgument(`Invalid query: ${compiled.error}`, 'q'));
  const size = pageSize(query);
  if (typeof size !== 'number') return size;
  const labelIds = repeated(query, 'labelIds');
  const spamAndTrash = query.get('includeSpamTrash') === 'true' || compiled.reachesSpamOrTrash;
  const now = Date.now();
  const matching = [...mailbox.messages.values()]
    .filter((m) => spamAndTrash || !m.labelIds.some((l) => l === 'SPAM' || l === 'TRASH'))
    .filter((m) => labelIds.every((l) => m.labelIds.includes(l)) && compiled.matches(m, now))
    .sort(newestFirst);
  const pageToken = query.get('pageToken');
  let start = 0;
  if (pageToken) {
    const cursor = decodeCursor(pageToken);
    if (cursor?.length !== 2) return fail(invalidArgument('Invalid pageToken', 'pageToken'));
    const [date, id] = cursor as [number, string];
    start = matching.findIndex((m) => newestFirst(m, { internalDate: date, id }) > 0);
    if (start < 0) start = matching.length;
  }
  const page = matching.slice(start, start + size);
  const last = page.at(-1);
  return ok({
    ...(page.length > 0 ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
    ...(last && start + size < matching.length ? { nextPageToken: encodeCursor([last.internalDate, last.id]) } : {}),
    resultSizeEstimate: matching.length,
  });
}

function newestFirst(a: Pick<StoredMessage, 'internalDate' | 'id'>, b: Pick<StoredMessage, 'internalDate' | 'id'>): number {
  if (a.internalDate !== b.internalDate) return b.internalDate - a.internalDate;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const encodeCursor = (values: Array<string | number>) => Buffer.from(JSON.stringify(values)).toString('base64url');

function decodeCursor(token: string): unknown[] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function getMessage({ mailbox, query }: ApiRequest, id: string): Reply {
  const format = (query.get('format') ?? 'full').toLowerCase();
  if (!['minimal', 'metadata', 'full', 'raw'].includes(format)) return fail(invalidArgument(`Invalid value at 'format' (type.googleapis.com/gmail.v1.Format), "${format}"`, 'format'));
  const message = mailbox.get(id);
  if (!message) return fail(notFound());
  if (format !== 'raw') return ok(messageJson(message, format, query));
  return { status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' }, stream: (res) => writeRaw(res, messageJson(message, 'minimal', query), message.raw) };
}

/**
 * users.threads.get: the thread's messages oldest first, each as messages.get would give it in the same
 * format (`raw` is not a thread format); 404 when no message of the mailbox is in the thread.
 */
function getThread({ mailbox, query }: ApiRequest, threadId: string): Reply {
  const format = (query.get('format') ?? 'full').toLowerCase();
  if (!['minimal', 'metadata', 'full'].includes(format)) return fail(invalidArgument(`Invalid value at 'format' (type.googleapis.com/gmail.v1.ThreadFormat), "${format}"`, 'format'));
  const messages = [...mailbox.messages.values()].filter((m) => m.threadId === threadId).sort((a, b) => newestFirst(b, a));
  if (messages.length === 0) return fail(notFound());
  const historyId = messages.reduce((max, m) => (m.historyId > max ? m.historyId : max), 0n);
  return ok({ id: threadId, historyId: String(historyId), messages: messages.map((m) => messageJson(m, format, query)) });
}

function messageJson(message: StoredMessage, format: string, query: URLSearchParams): Record<string, unknown> {
  const resource = {
    id: message.id,
    threadId: message.threadId,
    ...(message.labelIds.length > 0 ? { labelIds: message.labelIds } : {}),
    snippet: snippetOf(message.raw),
    sizeEstimate: message.raw.length,
    historyId: String(message.historyId),
    internalDate: String(message.internalDate),
  };
  if (format === 'metadata') {
    const wanted = repeated(query, 'metadataHeaders').map((h) => h.toLowerCase());
    const headers = wanted.length === 0 ? message.headers : message.headers.filter((h) => wanted.includes(h.name.toLowerCase()));
    const mimeType = (headerValue(message.headers, 'content-type') ?? 'text/plain').split(';')[0]?.trim().toLowerCase();
    return { ...resource, payload: { partId: '', mimeType, filename: '', headers } };
  }
  if (format === 'full') return { ...resource, payload: partJson(parseMimeTree(message.raw)) };
  return resource;
}

/** format=full: leaf bodies inline (unpadded base64url), named parts by attachmentId, as Gmail does. */
function partJson(node: MimeNode): unknown {
  const base = { partId: node.partId, mimeType: node.mimeType, filename: node.filename, headers: node.headers };
  if (node.parts) return { ...base, body: { size: 0 }, parts: node.parts.map(partJson) };
  const content = node.content ?? Buffer.alloc(0);
  if (node.filename) return { ...base, body: { attachmentId: attachmentIdFor(node.partId), size: content.length } };
  return { ...base, body: { size: content.length, ...(content.length > 0 ? { data: content.toString('base64url') } : {}) } };
}

const attachmentIdFor = (partId: string) => `ANGjdJ${Buffer.from(`part:${partId}`).toString('base64url')}`;

function getAttachment(mailbox: Mailbox, messageId: string, attachmentId: string): Reply {
  const message = mailbox.get(messageId);
  if (!message) return fail(notFound());
  const find = (node: MimeNode): MimeNode | undefined =>
    node.filename && attachmentIdFor(node.partId) === attachmentId ? node : node.parts?.map(find).find((n) => n !== undefined);
  const part = find(parseMimeTree(message.raw));
  if (!part?.content) return fail(invalidArgument('Invalid attachment token', 'id'));
  return ok({ size: part.content.length, data: part.content.toString('base64url') });
}

/**
 * Streams `{...resource, "raw": "<base64url>"}` without building the encoded string whole. Gmail's
 * `raw` is URL-safe base64 WITH `=` padding (unlike part bodies and attachments, which are unpadded).
 */
async function writeRaw(res: ServerResponse, resource: object, raw: Buffer): Promise<void> {
  const head = `${JSON.stringify(resource).slice(0, -1)},"raw":"`;
  const padding = '='.repeat((3 - (raw.length % 3)) % 3);
  const tail = `${padding}"}`;
  const encodedLength = Math.ceil((raw.length * 4) / 3);
  res.setHeader('content-length', Buffer.byteLength(head) + encodedLength + tail.length);
  if (!(await write(res, head))) return;
  for (let offset = 0; offset < raw.length; offset += RAW_SLICE) {
    if (!(await write(res, raw.subarray(offset, offset + RAW_SLICE).toString('base64url')))) return;
  }
  res.end(tail);
}

/** Writes, waiting for the socket to drain; false when the client has gone. */
async function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
  return !res.destroyed;
}

function watch({ mailbox, body }: ApiRequest): Reply {
  const request = parseJson(body) as { topicName?: unknown; labelIds?: unknown; labelFilterBehavior?: unknown; labelFilterAction?: unknown } | undefined;
  const topicName = request?.topicName;
  if (typeof topicName !== 'string' || !/^projects\/[^/]+\/topics\/[^/]+$/.test(topicName)) {
    return fail(invalidArgument('Invalid topicName does not match projects/SOME-ANDROID-PROJECT/topics/*', 'topicName'));
  }
  const labelIds = Array.isArray(request?.labelIds) ? request.labelIds.filter((l): l is string => typeof l === 'string') : [];
  // labelFilterBehavior replaces the deprecated labelFilterAction; when set, the action is ignored.
  const behavior = String(request?.labelFilterBehavior ?? request?.labelFilterAction ?? 'include').toLowerCase();
  const expiration = Date.now() + WATCH_DAYS * 86_400_000;
  const historyId = String(mailbox.historyId);
  mailbox.watch = { topicName, labelIds, labelFilterBehavior: behavior === 'exclude' ? 'exclude' : 'include', expiration, historyId };
  return ok({ historyId, expiration: String(expiration) });
}

/** The message resource of a send or import, and its RFC 822 bytes: `raw` in JSON, or the /upload/ media. */
interface MessageMetadata {
  raw?: unknown;
  threadId?: unknown;
  labelIds?: unknown;
}

function messageFromRequest(request: ApiRequest): { raw?: Buffer; metadata?: MessageMetadata } {
  if (request.upload) return uploadedMessage(request);
  const metadata = parseJson(request.body) as MessageMetadata | undefined;
  // The client sends base64url; Node's base64 decoder takes either alphabet, padded or not.
  return { metadata, ...(typeof metadata?.raw === 'string' ? { raw: Buffer.from(metadata.raw, 'base64') } : {}) };
}

const MISSING_RAW = "'raw' RFC822 payload message string or uploading message via /upload/* URL required";

function send(request: ApiRequest, deps: RouteDeps): Reply {
  const { raw, metadata } = messageFromRequest(request);
  if (!raw || raw.length === 0) return fail(invalidArgument(MISSING_RAW));
  const threadId = typeof metadata?.threadId === 'string' && metadata.threadId !== '' ? metadata.threadId : undefined;
  if (threadId && !request.mailbox.threadExists(threadId)) return fail(notFound());

  // Gmail keeps the client's Message-ID and adds its own only when there is none.
  const hasMessageId = headerValue(parseHeaders(raw), 'message-id') !== undefined;
  const stored = deps.replaceMessageIdOnSend || !hasMessageId ? withMessageId(raw, `<${gmailStyleId()}@mail.gmail.com>`) : raw;
  // A sent message starts its own thread unless the caller names one (Gmail does not thread sends by headers).
  const message = request.mailbox.add(stored, { labelIds: ['SENT'], inferThread: false, ...(threadId ? { threadId } : {}) });
  request.mailbox.sent.push({ id: message.id, threadId: message.threadId, raw: stored, messageId: headerValue(message.headers, 'message-id') });
  deps.changed(request.mailbox, message);
  return ok({ id: message.id, threadId: message.threadId, labelIds: ['SENT'] });
}

/**
 * users.messages.import: the message lands in this mailbox only, as if received over SMTP — threaded
 * like delivered mail (by In-Reply-To / References), with exactly the labels asked for (none: archived,
 * outside the inbox), dated now unless `internalDateSource=dateHeader`. A messageAdded change like
 * any delivery, so a watch covering it notifies.
 */
function importMessage(request: ApiRequest, deps: RouteDeps): Reply {
  const { raw, metadata } = messageFromRequest(request);
  if (!raw || raw.length === 0) return fail(invalidArgument(MISSING_RAW));
  const labelIds = Array.isArray(metadata?.labelIds) ? metadata.labelIds : [];
  const invalid = labelIds.find((label) => typeof label !== 'string' || !IMPORTABLE_LABEL.test(label));
  if (invalid !== undefined) return fail(invalidArgument(`Invalid label: ${String(invalid)}`));
  const source = request.query.get('internalDateSource') ?? 'receivedTime';
  if (source !== 'receivedTime' && source !== 'dateHeader') return fail(invalidArgument(`Invalid value at 'internal_date_source' (type.googleapis.com/gmail.v1.InternalDateSource), "${source}"`, 'internalDateSource'));
  const threadId = typeof metadata?.threadId === 'string' && metadata.threadId !== '' ? metadata.threadId : undefined;
  if (threadId && !request.mailbox.threadExists(threadId)) return fail(notFound());

  const dated = source === 'dateHeader' ? Date.parse(headerValue(parseHeaders(raw), 'date') ?? '') : Number.NaN;
  const message = request.mailbox.add(raw, {
    labelIds: labelIds as string[],
    ...(threadId ? { threadId } : {}),
    ...(Number.isNaN(dated) ? {} : { internalDate: new Date(dated) }),
  });
  deps.changed(request.mailbox, message);
  return ok({ id: message.id, threadId: message.threadId, ...(message.labelIds.length > 0 ? { labelIds: message.labelIds } : {}) });
}

/** System labels an import may set, and user labels (`Label_<n>`); Gmail answers anything else 400. */
const IMPORTABLE_LABEL = /^(INBOX|UNREAD|STARRED|IMPORTANT|SPAM|TRASH|CATEGORY_(PERSONAL|SOCIAL|PROMOTIONS|UPDATES|FORUMS)|Label_\d{1,20})$/;

/** /upload/…/messages/send|import: uploadType=media carries the RFC 822 bytes; multipart carries JSON then bytes. */
function uploadedMessage({ query, contentType, body }: ApiRequest): { raw?: Buffer; metadata?: MessageMetadata } {
  if (query.get('uploadType') !== 'multipart') return { raw: body };
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return {};
  const root = parseMimeTree(Buffer.concat([Buffer.from(`Content-Type: multipart/related; boundary="${boundary}"\r\n\r\n`), body]));
  const [metadataPart, mediaPart] = root.parts ?? [];
  return { metadata: metadataPart?.content ? (parseJson(metadataPart.content) as MessageMetadata) : undefined, raw: mediaPart?.content };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

const gmailStyleId = () => `CA${randomBytes(24).toString('base64url')}`;
