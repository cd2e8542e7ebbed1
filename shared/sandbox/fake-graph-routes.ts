// The mailbox half of the fake Graph: /users/{id}/messages, /mailFolders/{id}/messages(/delta),
// $value, createReply(All), PATCH of drafts, send, move, delete; and GET /organization (the token's
// directory and its verified domains). Each route returns a Reply or a Failure; the server writes
// Graph's error JSON around failures.
import { deltaPage, parseDeltaOptions } from './fake-graph-delta.js';
import { fail, folderJson, isFailure, itemNotFound, messageJson, removedJson, unknownProperty, type Failure, type Outcome } from './fake-graph-json.js';
import { buildSentMime, type Recipient } from './fake-graph-mime.js';
import { newInternetMessageId, type Folder, type Mailbox, type StoredMessage } from './fake-graph-store.js';
import { applyPatch, validatePatch } from './fake-graph-patch.js';
import type { AccessTokenClaims, OrganizationRecord } from './fake-identity.js';

export interface MailRequest {
  mailbox: Mailbox;
  method: string;
  /** The path after /users/{id}/, parenthesised keys split out: mailFolders('inbox') → mailFolders, inbox. */
  tokens: string[];
  /** The user segment as the client wrote it, for next/delta links. */
  userRef: string;
  query: URLSearchParams;
  body: Buffer;
  contentType: string;
  /** Prefer: IdType="ImmutableId". */
  immutable: boolean;
  /** Prefer: odata.maxpagesize=N. */
  maxPageSize: number | undefined;
  roles: string[];
  /** The service root the client used, e.g. https://127.0.0.1:1234/v1.0. */
  root: string;
  hasContentLength: boolean;
}

export interface MailServices {
  sendDelayMs: number;
  later(ms: number, task: () => void): void;
  recordSent(mailbox: Mailbox, message: StoredMessage, mime: Buffer): void;
}

const READ_ROLES = ['Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'];
const CONTENT_ROLES = ['Mail.Read', 'Mail.ReadWrite'];
const WRITE_ROLES = ['Mail.ReadWrite'];
const SEND_ROLES = ['Mail.Send'];
const DEFAULT_PAGE_SIZE = 10;

export function routeMail(req: MailRequest, services: MailServices): Outcome {
  const t = req.tokens;
  const { mailbox } = req;
  let folder: Folder | undefined;
  let i = 0;
  if (is(t[0], 'mailFolders')) {
    if (t.length === 1) return fail(501, 'NotImplemented', 'fake-graph: listing mail folders is not implemented');
    folder = mailbox.folder(t[1] as string);
    if (!folder) return fail(404, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    if (t.length === 2) return req.method === 'GET' ? need(req, READ_ROLES) ?? { status: 200, json: withContext(req, 'mailFolders/$entity', folderJson(mailbox, folder)) } : notAllowed(req);
    i = 2;
  }
  if (!is(t[i], 'messages')) return fail(400, 'BadRequest', `Resource not found for the segment '${t[i] ?? ''}'.`);
  const rest = t.slice(i + 1);
  if (rest.length === 0) {
    if (req.method === 'GET') return need(req, READ_ROLES) ?? listMessages(req, folder);
    if (req.method === 'POST') return need(req, WRITE_ROLES) ?? createDraft(req, folder);
    return notAllowed(req);
  }
  if (rest.length === 1 && is(rest[0], 'delta')) {
    if (req.method !== 'GET') return notAllowed(req);
    if (!folder) return fail(400, 'ErrorInvalidRequest', 'fake-graph: messages delta is per folder: /users/{id}/mailFolders/{id}/messages/delta');
    return need(req, READ_ROLES) ?? delta(req, folder);
  }
  const message = mailbox.find(rest[0] as string);
  if (!message || mailbox.inTransit.has(message.immutableId)) return itemNotFound();
  const action = rest[1];
  if (rest.length === 1) {
    if (req.method === 'GET') return need(req, READ_ROLES) ?? getMessage(req, message);
    if (req.method === 'PATCH') return need(req, WRITE_ROLES) ?? patchMessage(req, message);
    if (req.method === 'DELETE') return need(req, WRITE_ROLES) ?? (mailbox.remove(message), { status: 204 });
    return notAllowed(req);
  }
  if (rest.length === 2 && action === '$value') {
    if (req.method !== 'GET') return notAllowed(req);
    return need(req, CONTENT_ROLES) ?? { status: 200, bytes: { contentType: 'text/plain', data: message.raw ?? draftMime(message) } };
  }
  if (rest.length === 2 && req.method === 'POST') {
    if (is(action, 'createReply') || is(action, 'createReplyAll')) return need(req, WRITE_ROLES) ?? createReply(req, message, is(action, 'createReplyAll'));
    if (is(action, 'send')) return need(req, SEND_ROLES) ?? send(req, message, services);
    if (is(action, 'move')) return need(req, WRITE_ROLES) ?? move(req, message);
  }
  return fail(400, 'BadRequest', `Resource not found for the segment '${action ?? ''}'.`);
}

function getMessage(req: MailRequest, message: StoredMessage): Outcome {
  if (req.query.has('$expand')) return fail(501, 'NotImplemented', 'fake-graph: $expand on messages is not implemented');
  const select = selectOf(req.query);
  const bad = unknownProperty(select);
  if (bad) return fail(400, 'RequestBroker--ParseUri', `Could not find a property named '${bad}' on type 'microsoft.graph.message'.`);
  return { status: 200, json: withContext(req, 'messages/$entity', messageJson(message, { immutable: req.immutable, select })) };
}

function listMessages(req: MailRequest, folder: Folder | undefined): Outcome {
  const select = selectOf(req.query);
  const bad = unknownProperty(select);
  if (bad) return fail(400, 'RequestBroker--ParseUri', `Could not find a property named '${bad}' on type 'microsoft.graph.message'.`);
  const predicate = parseListFilter(req.query.get('$filter'));
  if (isFailure(predicate)) return predicate;
  const orderBy = (req.query.get('$orderby') ?? 'receivedDateTime desc').trim();
  const order = /^(receivedDateTime|sentDateTime|createdDateTime)(?:\s+(asc|desc))?$/i.exec(orderBy);
  if (!order) return fail(501, 'NotImplemented', `fake-graph: $orderby '${orderBy}' is not implemented`);
  const key = order[1]?.toLowerCase() === 'sentdatetime' ? 'sentDateTime' : order[1]?.toLowerCase() === 'createddatetime' ? 'createdDateTime' : 'receivedDateTime';
  const direction = order[2]?.toLowerCase() === 'asc' ? 1 : -1;
  const all = (folder ? req.mailbox.inFolder(folder.id) : [...req.mailbox.messages.values()].filter((m) => !req.mailbox.inTransit.has(m.immutableId))).filter(predicate);
  all.sort((a, b) => direction * ((a[key]?.getTime() ?? 0) - (b[key]?.getTime() ?? 0)));
  const top = Math.min(Number(req.query.get('$top') ?? req.maxPageSize ?? DEFAULT_PAGE_SIZE) || DEFAULT_PAGE_SIZE, 1000);
  const skip = Number(req.query.get('$skip') ?? 0) || 0;
  const page = all.slice(skip, skip + top);
  const json: Record<string, unknown> = { '@odata.context': `${req.root}/$metadata#users('${req.userRef}')/messages`, value: page.map((m) => messageJson(m, { immutable: req.immutable, select })) };
  if (skip + top < all.length) {
    const next = new URLSearchParams(req.query);
    next.set('$skip', String(skip + top));
    json['@odata.nextLink'] = `${req.root}/users/${req.userRef}/${req.tokens.join('/')}?${next.toString()}`;
  }
  return { status: 200, json };
}

function delta(req: MailRequest, folder: Folder): Outcome {
  const options = parseDeltaOptions(req.query);
  if ('invalid' in options) return fail(400, 'ErrorInvalidUrlQuery', options.invalid);
  const skipToken = req.query.get('$skiptoken') ?? req.query.get('$skipToken') ?? undefined;
  const deltaToken = req.query.get('$deltatoken') ?? req.query.get('$deltaToken') ?? undefined;
  const top = Number(req.query.get('$top') ?? 0) || undefined;
  const pageSize = Math.min(req.maxPageSize ?? top ?? DEFAULT_PAGE_SIZE, 1000);
  const result = deltaPage(req.mailbox, folder.id, { options, pageSize, ...(skipToken ? { skipToken } : {}), ...(deltaToken ? { deltaToken } : {}) });
  const link = `${req.root}/users/${req.userRef}/mailFolders('${req.tokens[1] ?? folder.id}')/messages/delta`;
  if ('gone' in result) {
    if (result.gone === 'resyncRequired') {
      // A sync reset: 410 with a Location to start over (delta-query-overview, "Synchronization reset").
      return fail(410, 'resyncRequired', 'Resync required. The delta token is no longer valid, and the app must reset the sync state.', { location: `${link}?$deltatoken=` });
    }
    // What Exchange answers for a token its sync-state cache no longer holds.
    return fail(410, 'SyncStateNotFound', 'The sync state generation is not found. The delta token is expired and data must be synchronized again.');
  }
  const value = result.items.map((item) => {
    if ('removed' in item) return removedJson(req.immutable ? item.immutableId : item.regularId);
    const message = req.mailbox.messages.get(item.immutableId);
    return message ? messageJson(message, { immutable: req.immutable, select: result.options.select, inCollection: true }) : removedJson(item.immutableId);
  });
  const json: Record<string, unknown> = { '@odata.context': `${req.root}/$metadata#Collection(message)` };
  if (result.skipToken) json['@odata.nextLink'] = `${link}?$skiptoken=${result.skipToken}`;
  else json['@odata.deltaLink'] = `${link}?$deltatoken=${result.deltaToken ?? ''}`;
  json.value = value;
  return { status: 200, json, ...(req.maxPageSize ? { headers: { 'preference-applied': `odata.maxpagesize=${req.maxPageSize}` } } : {}) };
}

function patchMessage(req: MailRequest, message: StoredMessage): Outcome {
  const body = jsonBody(req);
  if (isFailure(body)) return body;
  const patch = validatePatch(body, message.isDraft);
  if (isFailure(patch)) return patch;
  applyPatch(message, patch);
  req.mailbox.touch(message);
  return { status: 200, json: withContext(req, 'messages/$entity', messageJson(message, { immutable: req.immutable })) };
}

function createDraft(req: MailRequest, folder: Folder | undefined): Outcome {
  if (!req.contentType.includes('json')) return fail(501, 'NotImplemented', 'fake-graph: creating a draft from MIME is not implemented');
  const body = jsonBody(req);
  if (isFailure(body)) return body;
  const patch = validatePatch(body, true);
  if (isFailure(patch)) return patch;
  const draft = req.mailbox.insert(draftFields(req.mailbox, (folder ?? req.mailbox.wellKnown('drafts')).id));
  applyPatch(draft, patch);
  return { status: 201, json: withContext(req, 'messages/$entity', messageJson(draft, { immutable: req.immutable })) };
}

function createReply(req: MailRequest, original: StoredMessage, all: boolean): Outcome {
  if (req.body.length > 0 && !req.contentType.includes('json')) return fail(501, 'NotImplemented', 'fake-graph: createReply with MIME content is not implemented');
  const body = req.body.length > 0 ? jsonBody(req) : {};
  if (isFailure(body)) return body;
  const comment = typeof body.comment === 'string' ? body.comment : undefined;
  const overrides = body.message === undefined ? {} : body.message;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) return fail(400, 'RequestBodyRead', "The parameter 'message' must be a message object.");
  if (comment !== undefined && 'body' in overrides) return fail(400, 'ErrorInvalidRequest', 'Specify either a comment or the body property of the message parameter, not both.');
  const patch = validatePatch(overrides as Record<string, unknown>, true);
  if (isFailure(patch)) return patch;
  const owner = ownerOf(req.mailbox);
  const self = (r: Recipient): boolean => r.emailAddress.address.toLowerCase() === req.mailbox.address;
  const replyTo = original.replyTo.length > 0 ? original.replyTo : original.from ? [original.from] : [];
  const draft = req.mailbox.insert({
    ...draftFields(req.mailbox, req.mailbox.wellKnown('drafts').id),
    conversationId: original.conversationId,
    subject: /^re:/i.test(original.subject) ? original.subject : `RE: ${original.subject}`,
    body: { contentType: 'html', content: comment === undefined ? '' : `<html><body>${escapeHtml(comment)}</body></html>` },
    toRecipients: replyTo,
    ccRecipients: all ? [...original.toRecipients, ...original.ccRecipients].filter((r) => !self(r)) : [],
    from: owner,
    sender: owner,
    // Exchange threads the reply itself: In-Reply-To is the parent, References the parent's chain plus the parent.
    inReplyTo: original.internetMessageId,
    references: [original.references, original.internetMessageId].filter(Boolean).join(' '),
  });
  applyPatch(draft, patch);
  return { status: 201, json: withContext(req, 'messages/$entity', messageJson(draft, { immutable: req.immutable })) };
}

function send(req: MailRequest, draft: StoredMessage, services: MailServices): Outcome {
  // message: send documents Content-Length: 0 as required.
  if (!req.hasContentLength) return fail(411, 'LengthRequired', 'Length Required');
  if (!draft.isDraft) return fail(400, 'ErrorInvalidRequest', 'fake-graph: only a draft can be sent.');
  if (draft.toRecipients.length + draft.ccRecipients.length + draft.bccRecipients.length === 0) {
    return fail(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid., A message can't be sent because it contains no recipients.");
  }
  const { mailbox } = req;
  // The draft leaves Drafts at once; its Sent Items copy appears when the send completes (outlook-immutable-id).
  mailbox.inTransit.add(draft.immutableId);
  const complete = (): void => {
    if (!mailbox.messages.has(draft.immutableId)) return;
    const now = new Date();
    draft.internetMessageId = draft.extendedProperties.get('String 0x1035') ?? draft.internetMessageId;
    draft.isDraft = false;
    draft.sentDateTime = now;
    draft.receivedDateTime = now;
    draft.raw = draftMime(draft, now);
    mailbox.inTransit.delete(draft.immutableId);
    mailbox.move(draft, mailbox.wellKnown('sentitems').id);
    services.recordSent(mailbox, draft, draft.raw);
  };
  if (services.sendDelayMs > 0) services.later(services.sendDelayMs, complete);
  else complete();
  return { status: 202 };
}

function move(req: MailRequest, message: StoredMessage): Outcome {
  const body = jsonBody(req);
  if (isFailure(body)) return body;
  const destination = typeof body.destinationId === 'string' ? req.mailbox.folder(body.destinationId) : undefined;
  if (!destination) return fail(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
  req.mailbox.move(message, destination.id);
  return { status: 201, json: withContext(req, 'messages/$entity', messageJson(message, { immutable: req.immutable })) };
}

/** The MIME of a draft as it would be sent: threading from createReply or the PidTagInReplyToId / PidTagInternetReferences properties. */
function draftMime(message: StoredMessage, date = message.lastModifiedDateTime): Buffer {
  const from = message.from ?? { emailAddress: { name: '', address: 'unknown@invalid' } };
  return buildSentMime({
    from,
    toRecipients: message.toRecipients,
    ccRecipients: message.ccRecipients,
    bccRecipients: message.bccRecipients,
    replyTo: message.replyTo,
    subject: message.subject,
    body: message.body,
    internetMessageId: message.internetMessageId,
    inReplyTo: message.extendedProperties.get('String 0x1042') ?? message.inReplyTo,
    references: message.extendedProperties.get('String 0x1039') ?? message.references,
    headers: message.headers,
    date,
  });
}

function draftFields(mailbox: Mailbox, folderId: string): Parameters<Mailbox['insert']>[0] {
  const owner = ownerOf(mailbox);
  const internetMessageId = newInternetMessageId();
  return {
    folderId,
    raw: undefined,
    conversationId: `AAQkAD${Buffer.from(internetMessageId).toString('base64url').slice(0, 40)}`,
    internetMessageId,
    receivedDateTime: new Date(),
    sentDateTime: undefined,
    isDraft: true,
    isRead: true,
    subject: '',
    body: { contentType: 'text', content: '' },
    bodyPreview: '',
    from: owner,
    sender: owner,
    toRecipients: [],
    ccRecipients: [],
    bccRecipients: [],
    replyTo: [],
    hasAttachments: false,
    inReplyTo: undefined,
    references: undefined,
    headers: [],
  };
}

function ownerOf(mailbox: Mailbox): Recipient {
  return { emailAddress: { name: mailbox.displayName, address: mailbox.address } };
}

type ListPredicate = (m: StoredMessage) => boolean;

/** The $filter clauses the adapters use; anything else is reported as unimplemented rather than guessed. */
function parseListFilter(filter: string | null): ListPredicate | Failure {
  if (filter === null || filter.trim() === '') return () => true;
  const predicates: ListPredicate[] = [];
  for (const clause of filter.split(/\s+and\s+/i)) {
    const m = /^\s*(\w+)\s+(eq|ne|ge|gt|le|lt)\s+(.+?)\s*$/i.exec(clause);
    if (!m) return fail(400, 'BadRequest', `Invalid filter clause: ${clause}`);
    const [, property = '', opRaw = '', literal = ''] = m;
    const op = opRaw.toLowerCase();
    const prop = property.toLowerCase();
    if (['internetmessageid', 'conversationid', 'subject'].includes(prop) && (op === 'eq' || op === 'ne')) {
      const quoted = /^'((?:[^']|'')*)'$/.exec(literal);
      if (!quoted) return fail(400, 'BadRequest', `Invalid filter clause: ${clause}`);
      const value = (quoted[1] ?? '').replace(/''/g, "'");
      const get = (msg: StoredMessage): string => (prop === 'internetmessageid' ? msg.internetMessageId : prop === 'conversationid' ? msg.conversationId : msg.subject);
      predicates.push((msg) => (get(msg) === value) === (op === 'eq'));
    } else if (['isdraft', 'isread', 'hasattachments'].includes(prop) && (op === 'eq' || op === 'ne') && /^(true|false)$/i.test(literal)) {
      const value = literal.toLowerCase() === 'true';
      const get = (msg: StoredMessage): boolean => (prop === 'isdraft' ? msg.isDraft : prop === 'isread' ? msg.isRead : msg.hasAttachments);
      predicates.push((msg) => (get(msg) === value) === (op === 'eq'));
    } else if (['receiveddatetime', 'sentdatetime', 'createddatetime'].includes(prop)) {
      const at = new Date(literal);
      if (Number.isNaN(at.getTime())) return fail(400, 'BadRequest', `Invalid filter clause: ${clause}`);
      const get = (msg: StoredMessage): number => (prop === 'receiveddatetime' ? msg.receivedDateTime : prop === 'sentdatetime' ? (msg.sentDateTime ?? msg.createdDateTime) : msg.createdDateTime).getTime();
      const compare: Record<string, (a: number) => boolean> = { eq: (a) => a === at.getTime(), ne: (a) => a !== at.getTime(), ge: (a) => a >= at.getTime(), gt: (a) => a > at.getTime(), le: (a) => a <= at.getTime(), lt: (a) => a < at.getTime() };
      predicates.push((msg) => (compare[op] as (a: number) => boolean)(get(msg)));
    } else {
      return fail(501, 'NotImplemented', `fake-graph: $filter clause '${clause}' is not implemented`);
    }
  }
  return (msg) => predicates.every((p) => p(msg));
}

function jsonBody(req: MailRequest): Record<string, unknown> | Failure {
  try {
    const parsed: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(400, 'RequestBodyRead', 'The request body must be a JSON object.');
    return parsed as Record<string, unknown>;
  } catch {
    return fail(400, 'RequestBodyRead', 'Invalid JSON. The request body could not be read.');
  }
}

function need(req: MailRequest, anyOf: string[]): Failure | undefined {
  return req.roles.some((r) => anyOf.includes(r)) ? undefined : fail(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
}

function notAllowed(req: MailRequest): Failure {
  return fail(405, 'BadRequest', `The HTTP method '${req.method}' is not allowed on this resource.`);
}

function selectOf(query: URLSearchParams): string[] | undefined {
  const select = query.get('$select');
  return select ? select.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

function withContext(req: MailRequest, entity: string, json: Record<string, unknown>): Record<string, unknown> {
  return { '@odata.context': `${req.root}/$metadata#users('${req.userRef}')/${entity}`, ...json };
}

function is(token: string | undefined, name: string): boolean {
  return token !== undefined && token.toLowerCase() === name.toLowerCase();
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface OrganizationRequest {
  method: string;
  /** The key after /organization, if any. */
  id: string | undefined;
  rest: string[];
  query: URLSearchParams;
  claims: AccessTokenClaims;
  organization: OrganizationRecord | undefined;
  root: string;
}

/** Delegated: User.Read is the least; application: Organization.Read.All (Graph's permissions reference). */
const ORGANIZATION_SCOPES = ['User.Read', 'Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const ORGANIZATION_ROLES = ['Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const ORGANIZATION_PROPERTIES = ['id', 'displayName', 'verifiedDomains'];

/** GET /organization (a collection of the token's own directory) and /organization/{id}; `$select` of id, displayName, verifiedDomains. */
export function routeOrganization(req: OrganizationRequest): Outcome {
  if (req.method !== 'GET') return fail(405, 'Request_BadRequest', `The HTTP method '${req.method}' is not allowed on this resource.`);
  const allowed = req.claims.delegated ? req.claims.scopes.some((s) => ORGANIZATION_SCOPES.includes(s)) : req.claims.roles.some((r) => ORGANIZATION_ROLES.includes(r));
  if (!allowed) return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  if (req.rest.length > 0) return fail(400, 'Request_BadRequest', `Resource not found for the segment '${req.rest[0] ?? ''}'.`);
  const select = selectOf(req.query);
  const unknown = select?.find((p) => !ORGANIZATION_PROPERTIES.some((known) => known.toLowerCase() === p.toLowerCase()));
  if (unknown) return fail(400, 'Request_BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.organization'.`);
  const org = req.organization;
  if (!org || (req.id !== undefined && req.id.toLowerCase() !== org.id)) return fail(404, 'Request_ResourceNotFound', `Resource '${req.id ?? ''}' does not exist or one of its queried reference-property objects are not present.`);
  const all: Record<string, unknown> = { id: org.id, displayName: org.displayName, verifiedDomains: org.verifiedDomains.map((d) => ({ ...d })) };
  // Directory objects answer exactly the selected properties.
  const json = select ? Object.fromEntries(ORGANIZATION_PROPERTIES.filter((p) => select.some((s) => s.toLowerCase() === p.toLowerCase())).map((p) => [p, all[p]])) : all;
  const projection = select ? `(${select.join(',')})` : '';
  if (req.id !== undefined) return { status: 200, json: { '@odata.context': `${req.root}/$metadata#organization${projection}/$entity`, ...json } };
  return { status: 200, json: { '@odata.context': `${req.root}/$metadata#organization${projection}`, value: [json] } };
}

/**
 * Splits an OData path into names and keys: `mailFolders('inbox')` → mailFolders, inbox;
 * `messages/microsoft.graph.delta()` → messages, delta. Segments arrive percent-decoded.
 */
export function pathTokens(segments: string[]): string[] {
  const tokens: string[] = [];
  for (const segment of segments) {
    const call = /^([^()]+)\((.*)\)$/.exec(segment);
    const name = (call ? call[1] : segment) as string;
    tokens.push(name.replace(/^microsoft\.graph\./i, ''));
    if (call && call[2] !== '') tokens.push((call[2] as string).replace(/^'(.*)'$/, '$1').replace(/''/g, "'"));
  }
  return tokens;
}
