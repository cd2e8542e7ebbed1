// The MIME side of the fake Graph mailbox: what Exchange derives from a delivered message's headers
// (subject, from, recipients, internetMessageId, body, preview) and the MIME it writes for a sent
// draft. Header lookup and the part tree are shared with the fake Gmail.
import { headerValue, messageIdsIn, parseHeaders, parseMimeTree, type Header, type MimeNode } from './fake-gmail-mime.js';

export type { Header } from './fake-gmail-mime.js';

export interface Recipient {
  emailAddress: { name: string; address: string };
}

export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}

export interface MimeSummary {
  headers: Header[];
  subject: string;
  from: Recipient | undefined;
  sender: Recipient | undefined;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  internetMessageId: string | undefined;
  inReplyTo: string | undefined;
  references: string | undefined;
  sentDateTime: Date | undefined;
  body: ItemBody;
  bodyPreview: string;
  hasAttachments: boolean;
}

/** Bodies are only extracted from messages up to this size; bigger ones get an empty body (the fake's limit, not Graph's). */
const MAX_BODY_PARSE_BYTES = 16 * 1024 * 1024;

/** RFC 2047 encoded-words (`=?utf-8?B?…?=` / `?Q?`), as Exchange decodes them into subject and names. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_whole, charset: string, encoding: string, text: string) => {
      const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
      const decoder = /^utf-?8$/i.test(charset) ? 'utf8' : 'latin1';
      return bytes.toString(decoder);
    });
}

/** An RFC 5322 address list: commas outside quotes, comments and angle brackets separate mailboxes. */
export function parseAddressList(value: string | undefined): Recipient[] {
  if (!value) return [];
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (const ch of value) {
    if (ch === '"' && comment === 0) quoted = !quoted;
    else if (!quoted && ch === '(') comment += 1;
    else if (!quoted && ch === ')' && comment > 0) comment -= 1;
    else if (!quoted && comment === 0 && ch === '<') angle += 1;
    else if (!quoted && comment === 0 && ch === '>' && angle > 0) angle -= 1;
    if (ch === ',' && !quoted && angle === 0 && comment === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean).map(parseMailbox).filter((r): r is Recipient => r !== undefined);
}

function parseMailbox(text: string): Recipient | undefined {
  const angle = /^(.*)<([^<>]+)>\s*$/.exec(text);
  if (angle) {
    const name = decodeWords((angle[1] ?? '').trim().replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1'));
    return { emailAddress: { name: name || (angle[2] ?? '').trim(), address: (angle[2] ?? '').trim() } };
  }
  const bare = text.replace(/\(.*?\)/g, '').trim();
  return bare.includes('@') ? { emailAddress: { name: bare, address: bare } } : undefined;
}

export function summarizeMime(raw: Buffer): MimeSummary {
  const headers = parseHeaders(raw);
  const get = (name: string): string | undefined => headerValue(headers, name);
  const from = parseAddressList(get('from'))[0];
  const date = get('date');
  const sent = date ? new Date(date) : undefined;
  const tree = raw.length <= MAX_BODY_PARSE_BYTES ? parseMimeTree(raw) : undefined;
  const messageId = messageIdsIn(get('message-id'))[0];
  const html = tree && findLeaf(tree, 'text/html');
  const text = tree && findLeaf(tree, 'text/plain');
  const body: ItemBody = html ? { contentType: 'html', content: html.toString('utf8') } : { contentType: 'text', content: text?.toString('utf8') ?? '' };
  const plain = body.contentType === 'html' ? body.content.replace(/<style[\s\S]*?<\/style>|<[^>]+>/gi, ' ') : body.content;
  return {
    headers,
    subject: decodeWords(get('subject') ?? ''),
    from,
    sender: parseAddressList(get('sender'))[0] ?? from,
    toRecipients: parseAddressList(get('to')),
    ccRecipients: parseAddressList(get('cc')),
    bccRecipients: parseAddressList(get('bcc')),
    replyTo: parseAddressList(get('reply-to')),
    internetMessageId: messageId === undefined ? undefined : `<${messageId}>`,
    inReplyTo: get('in-reply-to'),
    references: get('references'),
    sentDateTime: sent && !Number.isNaN(sent.getTime()) ? sent : undefined,
    body,
    bodyPreview: plain.replace(/&nbsp;/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 255),
    hasAttachments: tree ? hasAttachment(tree) : false,
  };
}

function findLeaf(node: MimeNode, mimeType: string): Buffer | undefined {
  if (node.content && node.mimeType === mimeType && !node.filename) return node.content;
  for (const part of node.parts ?? []) {
    const found = findLeaf(part, mimeType);
    if (found) return found;
  }
  return undefined;
}

function hasAttachment(node: MimeNode): boolean {
  const disposition = headerValue(node.headers, 'content-disposition') ?? '';
  if (node.content && (node.filename || /^\s*attachment/i.test(disposition))) return true;
  return (node.parts ?? []).some(hasAttachment);
}

export interface OutgoingMessage {
  from: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  subject: string;
  body: ItemBody;
  internetMessageId: string;
  inReplyTo?: string | undefined;
  references?: string | undefined;
  /** Custom `x-` headers, in order. */
  headers: Header[];
  date: Date;
}

/** The MIME Exchange would put on the wire for a sent draft (single part, UTF-8, base64). */
export function buildSentMime(message: OutgoingMessage): Buffer {
  const lines: string[] = [
    `From: ${formatRecipient(message.from)}`,
    ...(message.toRecipients.length ? [`To: ${message.toRecipients.map(formatRecipient).join(', ')}`] : []),
    ...(message.ccRecipients.length ? [`Cc: ${message.ccRecipients.map(formatRecipient).join(', ')}`] : []),
    ...(message.replyTo.length ? [`Reply-To: ${message.replyTo.map(formatRecipient).join(', ')}`] : []),
    `Subject: ${encodeWord(message.subject)}`,
    `Date: ${message.date.toUTCString()}`,
    `Message-ID: ${message.internetMessageId}`,
    ...(message.inReplyTo ? [`In-Reply-To: ${message.inReplyTo}`] : []),
    ...(message.references ? [`References: ${message.references}`] : []),
    ...message.headers.map((h) => `${h.name}: ${h.value}`),
    'MIME-Version: 1.0',
    `Content-Type: ${message.body.contentType === 'html' ? 'text/html' : 'text/plain'}; charset="utf-8"`,
    'Content-Transfer-Encoding: base64',
  ];
  const encoded = Buffer.from(message.body.content, 'utf8').toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${encoded}`, 'utf8');
}

function formatRecipient(r: Recipient): string {
  const { name, address } = r.emailAddress;
  if (!name || name === address) return address;
  return `${/^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : encodeWord(name)} <${address}>`;
}

function encodeWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?utf-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}
