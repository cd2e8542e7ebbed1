// Which message properties a client may write, and how Graph refuses the rest (message-update and the
// message resource): unknown properties fail the body read; subject, body, internetMessageId and
// headers only change on drafts; internetMessageHeaders take custom `x-` names only, so In-Reply-To
// and References can't be set that way. Threading for a reply comes from createReply itself, or from
// the MAPI properties PidTagInReplyToId (`String 0x1042`) and PidTagInternetReferences
// (`String 0x1039`) written as singleValueExtendedProperties.
import { fail, type Failure } from './fake-graph-json.js';
import type { Header, ItemBody, Recipient } from './fake-graph-mime.js';
import type { StoredMessage } from './fake-graph-store.js';

export interface MessagePatch {
  subject?: string;
  body?: ItemBody;
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  bccRecipients?: Recipient[];
  replyTo?: Recipient[];
  from?: Recipient;
  sender?: Recipient;
  importance?: StoredMessage['importance'];
  isRead?: boolean;
  categories?: string[];
  headers?: Header[];
  extendedProperties?: Array<[string, string]>;
  internetMessageId?: string;
}

export type PatchTarget = Pick<StoredMessage, 'subject' | 'body' | 'bodyPreview' | 'toRecipients' | 'ccRecipients' | 'bccRecipients' | 'replyTo' | 'from' | 'sender' | 'importance' | 'isRead' | 'categories' | 'headers' | 'extendedProperties' | 'internetMessageId'>;

/** Writable on message (message-update), plus what a draft can carry from creation. */
const WRITABLE = new Set([
  'subject', 'body', 'toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo', 'from', 'sender', 'importance', 'isRead', 'categories', 'internetMessageHeaders',
  'singleValueExtendedProperties', 'internetMessageId', 'flag', 'inferenceClassification', 'isDeliveryReceiptRequested', 'isReadReceiptRequested', '@odata.type',
]);
const DRAFT_ONLY = new Set(['subject', 'body', 'internetMessageId', 'internetMessageHeaders', 'replyTo']);

export function validatePatch(input: Record<string, unknown>, isDraft: boolean): MessagePatch | Failure {
  const patch: MessagePatch = {};
  for (const [key, value] of Object.entries(input)) {
    if (!WRITABLE.has(key)) {
      return fail(400, 'RequestBodyRead', `The property '${key}' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type.`);
    }
    if (!isDraft && DRAFT_ONLY.has(key)) return fail(400, 'ErrorInvalidPropertyUpdateSentMessage', 'Update operation is invalid for property of a sent message.');
    switch (key) {
      case 'subject':
      case 'internetMessageId':
        if (typeof value !== 'string') return badValue(key);
        patch[key] = value;
        break;
      case 'body': {
        const body = value as { contentType?: unknown; content?: unknown } | null;
        if (typeof body !== 'object' || body === null || typeof body.content !== 'string') return badValue(key);
        const type = typeof body.contentType === 'string' ? body.contentType.toLowerCase() : 'text';
        if (type !== 'text' && type !== 'html') return badValue(key);
        patch.body = { contentType: type, content: body.content };
        break;
      }
      case 'toRecipients':
      case 'ccRecipients':
      case 'bccRecipients':
      case 'replyTo': {
        const list = recipients(value);
        if (!list) return fail(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid.");
        patch[key] = list;
        break;
      }
      case 'from':
      case 'sender': {
        const one = recipients([value])?.[0];
        if (!one) return badValue(key);
        patch[key] = one;
        break;
      }
      case 'importance':
        if (typeof value !== 'string' || !['low', 'normal', 'high'].includes(value.toLowerCase())) return badValue(key);
        patch.importance = value.toLowerCase() as MessagePatch['importance'];
        break;
      case 'isRead':
        if (typeof value !== 'boolean') return badValue(key);
        patch.isRead = value;
        break;
      case 'categories':
        if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) return badValue(key);
        patch.categories = value as string[];
        break;
      case 'internetMessageHeaders': {
        if (!Array.isArray(value)) return badValue(key);
        const headers: Header[] = [];
        for (const h of value as Array<{ name?: unknown; value?: unknown }>) {
          if (typeof h?.name !== 'string' || typeof h.value !== 'string') return badValue(key);
          if (!/^x-/i.test(h.name)) {
            return fail(400, 'InvalidInternetMessageHeader', `The internet message header name '${h.name}' should start with 'x-' or 'X-'.`);
          }
          headers.push({ name: h.name, value: h.value });
        }
        patch.headers = headers;
        break;
      }
      case 'singleValueExtendedProperties': {
        if (!Array.isArray(value)) return badValue(key);
        const properties: Array<[string, string]> = [];
        for (const p of value as Array<{ id?: unknown; value?: unknown }>) {
          if (typeof p?.id !== 'string' || typeof p.value !== 'string') return badValue(key);
          properties.push([normalizePropertyId(p.id), p.value]);
        }
        patch.extendedProperties = properties;
        break;
      }
      default:
        // flag, inferenceClassification, receipt requests, @odata.type: accepted, not modelled.
        break;
    }
  }
  return patch;
}

export function applyPatch(target: PatchTarget, patch: MessagePatch): void {
  if (patch.subject !== undefined) target.subject = patch.subject;
  if (patch.body !== undefined) {
    target.body = patch.body;
    const plain = patch.body.contentType === 'html' ? patch.body.content.replace(/<[^>]+>/g, ' ') : patch.body.content;
    target.bodyPreview = plain.replace(/\s+/g, ' ').trim().slice(0, 255);
  }
  if (patch.toRecipients) target.toRecipients = patch.toRecipients;
  if (patch.ccRecipients) target.ccRecipients = patch.ccRecipients;
  if (patch.bccRecipients) target.bccRecipients = patch.bccRecipients;
  if (patch.replyTo) target.replyTo = patch.replyTo;
  if (patch.from) target.from = patch.from;
  if (patch.sender) target.sender = patch.sender;
  if (patch.importance) target.importance = patch.importance;
  if (patch.isRead !== undefined) target.isRead = patch.isRead;
  if (patch.categories) target.categories = patch.categories;
  if (patch.headers) target.headers = patch.headers;
  if (patch.internetMessageId !== undefined) target.internetMessageId = patch.internetMessageId;
  for (const [id, value] of patch.extendedProperties ?? []) target.extendedProperties.set(id, value);
}

function recipients(value: unknown): Recipient[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list: Recipient[] = [];
  for (const item of value as Array<{ emailAddress?: { address?: unknown; name?: unknown } } | null>) {
    const address = item?.emailAddress?.address;
    if (typeof address !== 'string' || !address.includes('@')) return undefined;
    const name = typeof item?.emailAddress?.name === 'string' ? item.emailAddress.name : address;
    list.push({ emailAddress: { name, address } });
  }
  return list;
}

/** `String 0x1042` and `string 0x1042` name the same MAPI property. */
function normalizePropertyId(id: string): string {
  const m = /^(\w+)\s+0x([0-9a-f]+)$/i.exec(id.trim());
  if (!m) return id.trim();
  const type = (m[1] as string).charAt(0).toUpperCase() + (m[1] as string).slice(1).toLowerCase();
  return `${type} 0x${(m[2] as string).padStart(4, '0').toLowerCase()}`;
}

function badValue(key: string): Failure {
  return fail(400, 'RequestBodyRead', `Cannot convert the literal value of property '${key}' to the expected type.`);
}
