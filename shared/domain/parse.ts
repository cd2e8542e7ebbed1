// Streaming MIME parsing with mailparser's MailParser (never simpleParser: it buffers everything).
// Attachments are handed out one at a time as streams; the parser waits until each is consumed.
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { MailParser } from 'mailparser';
import type { AddressObject, AttachmentStream, HeaderValue, MessageText, StructuredHeader } from 'mailparser';
import type { IngestLimits } from './limits.js';
import { extractMessageIds, messageIdFromHeader } from './message-ids.js';
import type { Address, Notice } from './model.js';

export interface AttachmentPart {
  content: Readable;
  filename: string;
  contentType: string;
  inline: boolean;
  contentId: string | null;
  /** SHA-256 hex and size of the decoded bytes, known once `content` has ended. */
  digest(): { sha256: string; size: number };
}

export interface ParsedMail {
  /** Whether a header block could be read at all. */
  readable: boolean;
  subject: string;
  from: Address;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  date: string | null;
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  /** Raw header values by lower-case name, unfolded, for robot and loop detection. */
  rawHeaders: Map<string, string[]>;
  contentType: StructuredHeader | null;
  text: string;
  html: string | null;
  /** SHA-256 of each body part, for alias deduplication. */
  bodyPartHashes: string[];
  notices: Notice[];
}

export interface ParseHooks {
  /** Called once the top-level headers are known, before any attachment. */
  onHeaders?(mail: ParsedMail): void;
  /** Must consume `part.content` to its end. */
  onAttachment(part: AttachmentPart): Promise<void>;
}

/**
 * A writable to feed raw bytes into, and the promise of what was read. The promise never rejects
 * for bad input: a parser error becomes a notice on whatever was read before it.
 */
export function createMailParser(limits: IngestLimits, hooks: ParseHooks): { sink: Writable; result: Promise<ParsedMail> } {
  const parser = new MailParser({
    checksumAlgo: 'sha256',
    ignoreEmbedded: true, // a forwarded message/rfc822 stays one .eml attachment
    maxHeadSize: limits.maxHeaderBytes,
    // The MimeGuard in front ends the input at maxParts; this is only the parser's own backstop.
    maxChildNodes: limits.maxParts * 2 + 10,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
    // A root HTML part is turned into text within the same bound as a nested one (deriveTextFromHtml).
    maxHtmlLengthToParse: MAX_HTML_TO_TEXT_CHARS,
  });
  const mail = emptyMail();

  const result = new Promise<ParsedMail>((resolve) => {
    let settled = false;
    // mailparser can end while the last attachment handed out is still being consumed (when that
    // attachment is the whole message, say); what is read must include every one of them.
    const inFlight = new Map<Promise<void>, Readable>();
    let failed = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      void Promise.all(inFlight.keys())
        .then(() => deriveTextFromHtml(mail))
        .then(() => resolve(mail));
    };
    // mailparser emits 'headers', then 'headerLines': the hook waits for the raw lines (robot
    // detection reads them), or for the first part of a message that had none.
    let headersReported = false;
    const reportHeaders = () => {
      if (headersReported) return;
      headersReported = true;
      hooks.onHeaders?.(mail);
    };
    parser.on('headers', (headers: Map<string, HeaderValue>) => {
      readHeaders(mail, headers);
    });
    parser.on('headerLines', (lines: ReadonlyArray<{ key: string; line: string }>) => {
      for (const { key, line } of lines) {
        const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
        mail.rawHeaders.set(key, [...(mail.rawHeaders.get(key) ?? []), value]);
      }
      mail.date = parseDate(mail.rawHeaders.get('date')?.[0]);
      reportHeaders();
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      reportHeaders();
      if (data.type === 'text') {
        readText(mail, data);
        return;
      }
      const attachment = data;
      const part: AttachmentPart = {
        content: attachment.content,
        filename: attachment.filename ?? defaultFilename(attachment.contentType),
        contentType: attachment.contentType,
        inline: attachment.contentDisposition === 'inline' || Boolean(attachment.related && attachment.cid),
        contentId: attachment.cid ?? null,
        digest: () => ({ sha256: String(attachment.checksum ?? ''), size: attachment.size ?? 0 }),
      };
      const handled = hooks
        .onAttachment(part)
        .catch((error: unknown) => {
          if (!failed) parser.destroy(error instanceof Error ? error : new Error(String(error)));
        })
        .finally(() => {
          attachment.release?.();
          inFlight.delete(handled);
        });
      inFlight.set(handled, attachment.content);
    });
    parser.on('error', (error: Error) => {
      if (failed) return;
      failed = true;
      mail.notices.push(noticeForParserError(error, limits));
      // Keep the writer flowing so the raw copy and the hash still see every byte.
      parser.removeAllListeners('data');
      parser.resume();
      // An attachment whose part the parser never finished will not end by itself: it is cut off
      // (its consumer sees the error and keeps nothing of it), so the result does not wait forever.
      for (const content of inFlight.values()) {
        if (!(content as Readable & { writableEnded?: boolean }).writableEnded) content.destroy(new Error(`attachment cut off: ${error.message}`));
      }
      finish();
    });
    parser.on('end', finish);
    parser.on('close', finish);
  });
  return { sink: parser, result };
}

function emptyMail(): ParsedMail {
  return {
    readable: false,
    subject: '',
    from: { address: '', name: '' },
    to: [],
    cc: [],
    replyTo: [],
    date: null,
    messageId: null,
    inReplyTo: [],
    references: [],
    rawHeaders: new Map(),
    contentType: null,
    text: '',
    html: null,
    bodyPartHashes: [],
    notices: [],
  };
}

function readHeaders(mail: ParsedMail, headers: Map<string, HeaderValue>): void {
  // mailparser reads any bytes as some header block; mail is "readable" once it names at least one
  // of the fields every real message has.
  mail.readable = ['from', 'to', 'subject', 'date', 'message-id'].some((name) => headers.has(name));
  mail.subject = stringHeader(headers.get('subject'));
  mail.from = addresses(headers.get('from'))[0] ?? { address: '', name: '' };
  mail.to = addresses(headers.get('to'));
  mail.cc = addresses(headers.get('cc'));
  mail.replyTo = addresses(headers.get('reply-to'));
  // Not headers.get('date'): for a Date it cannot read, mailparser substitutes the wall-clock time,
  // which would make the same bytes a different message on every delivery. The raw header line
  // (read in 'headerLines', right after this) is parsed instead.
  mail.messageId = messageIdFromHeader(stringHeader(headers.get('message-id')));
  mail.inReplyTo = extractMessageIds(stringHeader(headers.get('in-reply-to')));
  const references = headers.get('references');
  mail.references = extractMessageIds(Array.isArray(references) ? references.map(String) : stringHeader(references));
  const contentType = headers.get('content-type');
  mail.contentType = isStructured(contentType) ? contentType : null;
}

function readText(mail: ParsedMail, data: MessageText & { textConversionError?: Error }): void {
  mail.text = data.text ?? '';
  mail.html = typeof data.html === 'string' && data.html !== '' ? data.html : null;
  if (data.textConversionError && mail.html !== null) textNotDerived(mail, data.textConversionError.message);
  for (const part of [data.text, data.html]) {
    if (typeof part === 'string' && part !== '') mail.bodyPartHashes.push(createHash('sha256').update(part).digest('hex'));
  }
}

/** HTML longer than this (in characters) is not turned into text: the text stays empty, the HTML is kept. */
export const MAX_HTML_TO_TEXT_CHARS = 2 * 1024 * 1024;

/**
 * mailparser turns HTML into text only when the HTML part is the whole message. HTML-only mail in
 * a multipart (multipart/mixed{html, pdf}, multipart/related{html, image}, multipart/alternative
 * {html}) would otherwise have no text at all. The HTML goes through mailparser once more, as the
 * root part of a message of its own, so the conversion is the very one a root HTML part gets
 * (html-to-text behind mailparser's nesting-depth guard), bounded in length.
 */
async function deriveTextFromHtml(mail: ParsedMail): Promise<void> {
  if (mail.text.trim() !== '' || mail.html === null || mail.notices.some((n) => n.code === 'text_not_derived')) return;
  if (mail.html.length > MAX_HTML_TO_TEXT_CHARS) return textNotDerived(mail, `HTML too long for parsing ${mail.html.length} characters`);
  const { text, error } = await htmlToText(mail.html);
  if (error) textNotDerived(mail, error);
  else mail.text = text;
}

/**
 * HTML that could not be turned into text (too long, nested too deep): the message keeps its HTML, and
 * the empty text is a notice rather than a silence (an image-only HTML body, empty text and no error,
 * is no such case).
 */
function textNotDerived(mail: ParsedMail, reason: string): void {
  mail.notices.push({ code: 'text_not_derived', detail: `no plain-text version: ${reason}; the HTML version is kept` });
}

/** Never rejects: HTML that cannot be converted leaves the text empty and says why. */
function htmlToText(html: string): Promise<{ text: string; error?: string }> {
  return new Promise((resolve) => {
    const parser = new MailParser({ maxHtmlLengthToParse: MAX_HTML_TO_TEXT_CHARS, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
    let result: { text: string; error?: string } = { text: '' };
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') result = data.textConversionError ? { text: '', error: data.textConversionError.message } : { text: data.text ?? '' };
      else data.release?.();
    });
    parser.on('error', (error: Error) => resolve({ text: '', error: error.message }));
    parser.on('end', () => resolve(result));
    const encoded = Buffer.from(html, 'utf8').toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');
    parser.end(Buffer.from(`Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${encoded}\r\n`));
  });
}

/** The Date header as ISO 8601, or null when absent or unreadable (never "now"). */
function parseDate(value: string | undefined): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function stringHeader(value: HeaderValue | undefined): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return '';
}

function isStructured(value: HeaderValue | undefined): value is StructuredHeader {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'value' in value && 'params' in value;
}

function addresses(value: HeaderValue | undefined): Address[] {
  if (value == null || typeof value !== 'object' || value instanceof Date) return [];
  const objects = (Array.isArray(value) ? value : [value]) as AddressObject[];
  const out: Address[] = [];
  for (const object of objects) {
    for (const entry of object.value ?? []) {
      // A group ("Team: a@x, b@y;") contributes its members.
      for (const member of entry.group ?? [entry]) {
        if (member.address) out.push({ address: member.address, name: member.name ?? '' });
      }
    }
  }
  return out;
}

function defaultFilename(contentType: string): string {
  return contentType === 'message/rfc822' ? 'forwarded-message.eml' : 'attachment';
}

function noticeForParserError(error: Error, limits: IngestLimits): Notice {
  const message = error.message.toLowerCase();
  if (message.includes('header')) {
    return { code: 'header_too_large', detail: `a header block exceeded ${limits.maxHeaderBytes} bytes; parsing stopped there` };
  }
  if (message.includes('child') || message.includes('nodes') || message.includes('parts')) {
    return { code: 'too_many_parts', detail: `the message has more than ${limits.maxParts} MIME parts; parsing stopped there` };
  }
  return { code: 'unparsed', detail: 'the MIME structure could not be parsed past this point; the raw message is kept' };
}
