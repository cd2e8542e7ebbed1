// Just enough RFC 5322 / MIME for the fake Gmail: header lookup (threading, rfc822msgid:, metadata
// format), Message-ID rewriting on send, and the part tree of format=full. Header values are returned
// as stored, encoded-words and all, which is what Gmail's `payload.headers` carries.

export interface Header {
  name: string;
  value: string;
}

/** Headers are only looked for in the first megabyte: a message whose header block is larger is malformed. */
const MAX_HEADER_BYTES = 1024 * 1024;
const MAX_PART_DEPTH = 10;

/** Where the header block ends and the body starts (both equal to the length when there is no body). */
function headerBoundary(raw: Buffer): { headerEnd: number; bodyStart: number } {
  const window = raw.subarray(0, MAX_HEADER_BYTES);
  const crlf = window.indexOf('\r\n\r\n');
  const lf = window.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerEnd: lf, bodyStart: lf + 2 };
  return { headerEnd: window.length, bodyStart: raw.length };
}

export function parseHeaders(raw: Buffer): Header[] {
  const { headerEnd } = headerBoundary(raw);
  const unfolded = raw.subarray(0, headerEnd).toString('utf8').replace(/\r?\n(?=[ \t])/g, '');
  const headers: Header[] = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return headers;
}

export function headerValue(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/** The bracketless ids named in a Message-ID / In-Reply-To / References value. */
export function messageIdsIn(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);
  if (bracketed.length > 0) return bracketed;
  const bare = value.trim();
  return bare ? [bare] : [];
}

/** The message with its Message-ID header set to `messageId` (replaced in place, or added first). */
export function withMessageId(raw: Buffer, messageId: string): Buffer {
  const { headerEnd } = headerBoundary(raw);
  const head = raw.subarray(0, headerEnd).toString('latin1');
  const newline = head.includes('\r\n') || headerEnd === 0 ? '\r\n' : '\n';
  const line = `Message-ID: ${messageId}`;
  const existing = /^message-id:[^\n]*(\r?\n[ \t][^\n]*)*/im.exec(head);
  if (!existing) return Buffer.concat([Buffer.from(line + newline, 'latin1'), raw]);
  const start = existing.index;
  const end = start + existing[0].replace(/\r$/, '').length;
  return Buffer.concat([raw.subarray(0, start), Buffer.from(line, 'latin1'), raw.subarray(end)]);
}

interface ContentType {
  mimeType: string;
  params: Map<string, string>;
}

function parseContentType(value: string | undefined): ContentType {
  const [type = '', ...rest] = (value ?? 'text/plain').split(';');
  const params = new Map<string, string>();
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { mimeType: type.trim().toLowerCase() || 'text/plain', params };
}

export function decodeTransferEncoding(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable': {
      const text = body.toString('latin1').replace(/=\r?\n/g, '');
      return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
    }
    default:
      return body;
  }
}

/** One node of format=full's `payload`, before the fake turns leaf bodies into data or attachmentIds. */
export interface MimeNode {
  partId: string;
  mimeType: string;
  filename: string;
  headers: Header[];
  /** Transfer-decoded content of a leaf; undefined for a multipart container. */
  content?: Buffer;
  parts?: MimeNode[];
}

export function parseMimeTree(raw: Buffer, partId = '', depth = 0): MimeNode {
  const headers = parseHeaders(raw);
  const { bodyStart } = headerBoundary(raw);
  const body = raw.subarray(bodyStart);
  const type = parseContentType(headerValue(headers, 'content-type'));
  const disposition = parseContentType(headerValue(headers, 'content-disposition'));
  const filename = disposition.params.get('filename') ?? type.params.get('name') ?? '';
  const node: MimeNode = { partId, mimeType: type.mimeType, filename, headers };
  const boundary = type.params.get('boundary');
  if (type.mimeType.startsWith('multipart/') && boundary && depth < MAX_PART_DEPTH) {
    node.parts = splitMultipart(body, boundary).map((part, i) => parseMimeTree(part, partId === '' ? String(i) : `${partId}.${i}`, depth + 1));
    return node;
  }
  node.content = decodeTransferEncoding(body, headerValue(headers, 'content-transfer-encoding'));
  return node;
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let cursor = body.indexOf(delimiter);
  while (cursor >= 0) {
    const afterDelimiter = cursor + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString('latin1') === '--') break;
    const contentStart = body.indexOf('\n', afterDelimiter) + 1;
    if (contentStart <= 0) break;
    const next = body.indexOf(delimiter, contentStart);
    if (next < 0) break;
    // The line break before the next delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    let contentEnd = next;
    if (body[contentEnd - 1] === 0x0a) contentEnd -= 1;
    if (body[contentEnd - 1] === 0x0d) contentEnd -= 1;
    parts.push(body.subarray(contentStart, Math.max(contentStart, contentEnd)));
    cursor = next;
  }
  return parts;
}

function firstText(node: MimeNode): Buffer | undefined {
  if (node.content && node.mimeType === 'text/plain' && !node.filename) return node.content;
  for (const part of node.parts ?? []) {
    const found = firstText(part);
    if (found) return found;
  }
  return undefined;
}

/** Gmail's snippet: the start of the text, whitespace collapsed, HTML-escaped. Big messages get none. */
export function snippetOf(raw: Buffer): string {
  if (raw.length > 5 * 1024 * 1024) return '';
  const text = firstText(parseMimeTree(raw))?.subarray(0, 4096).toString('utf8') ?? '';
  const collapsed = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return collapsed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
