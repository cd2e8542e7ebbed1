// Step one of ingestion: one pass over the raw stream that keeps the raw message (encrypted),
// hashes it, parses it, and streams every attachment through the scanner and into the BlobStore
// at once. Memory stays flat in the size of the message.
import { createHash } from 'node:crypto';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { IngestLimits } from './limits.js';
import { MimeGuard } from './mime-guard.js';
import type { Notice, ScanStatus } from './model.js';
import { attachmentKey, rawKey } from './object-keys.js';
import { createMailParser, type AttachmentPart, type ParsedMail } from './parse.js';
import type { BlobStore, KeyService, Scanner, IdGenerator } from './ports.js';
import { detectRobot } from './robots.js';
import { Tee } from './tee.js';

/** RFC 5322 allows 998 bytes; DKIM and ARC lines run longer, nothing honest runs this long. */
const MAX_HEADER_LINE_BYTES = 16 * 1024;

export interface ReceiveDeps {
  blobs: BlobStore;
  keys: KeyService;
  scanner: Scanner;
  ids: IdGenerator;
  limits: IngestLimits;
}

export interface ReceivedAttachment {
  attachmentId: string;
  blobKey: string | null;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  inline: boolean;
  contentId: string | null;
  scan: ScanStatus;
  scanDetail?: string;
}

export interface Received {
  mail: ParsedMail;
  rawKey: string;
  rawSha256: string;
  attachments: ReceivedAttachment[];
  notices: Notice[];
  /** Every object this pass stored, so a duplicate can take them back. */
  storedKeys: string[];
}

export async function receive(
  deps: ReceiveDeps,
  raw: Readable,
  scope: { tenantId: string; mailboxId: string; ingestId: string },
): Promise<Received> {
  const { tenantId, mailboxId, ingestId } = scope;
  const { limits } = deps;
  const notices: Notice[] = [];
  const attachments: ReceivedAttachment[] = [];
  const storedKeys: string[] = [];
  let robot = false;
  let skippedForCount = 0;
  /** A BlobStore or scanner failure on an attachment: the message must not be recorded without it. */
  let storeFailure: AttachmentStoreFailed | undefined;

  const hash = createHash('sha256');
  const hashSink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });

  const key = rawKey(tenantId, mailboxId, ingestId);
  const encryptRaw = deps.keys.encryptStream({ tenantId, mailboxId, purpose: 'raw' });
  const rawStored = deps.blobs.put(key, encryptRaw);
  settledLater(rawStored);
  storedKeys.push(key);

  const parser = createMailParser(limits, {
    // Robots are recorded, never turned into tickets, so their attachments need not be kept.
    onHeaders: (mail) => {
      robot = detectRobot(mail) !== null;
    },
    onAttachment: async (part) => {
      if (robot) return drain(part.content);
      if (attachments.length >= limits.maxAttachments) {
        skippedForCount++;
        return drain(part.content);
      }
      let attachment;
      try {
        attachment = await storeAttachment(deps, part, { tenantId, mailboxId, ingestId });
      } catch (error) {
        if (error instanceof AttachmentStoreFailed) storeFailure ??= error;
        throw error;
      }
      attachments.push(attachment);
      if (attachment.blobKey) storedKeys.push(attachment.blobKey);
    },
  });

  const guard = new MimeGuard({
    maxNestingDepth: limits.maxNestingDepth,
    maxParts: limits.maxParts,
    maxHeaderLineBytes: Math.min(MAX_HEADER_LINE_BYTES, limits.maxHeaderBytes),
  });
  guard.pipe(parser.sink);
  const tee = new Tee(raw, limits.maxMessageBytes).attach(hashSink).attach(encryptRaw).attach(guard);

  let teeResult;
  try {
    teeResult = await tee.run();
  } catch (error) {
    // The source failed (a provider stream cut off): nothing is recorded, the caller retries.
    encryptRaw.destroy();
    await rawStored.catch(() => undefined);
    throw error;
  }
  let mail;
  try {
    await rawStored;
    await finished(hashSink);
    mail = await parser.result;
    // The parser turns a failing attachment into a notice; a storage failure is not one: recording
    // the message without that attachment would lose it, and its redelivery would fingerprint apart.
    if (storeFailure) throw storeFailure.cause;
  } catch (error) {
    // Nothing references this pass's objects yet: take them back (a crash leaves them to a retry),
    // once the attachments still in flight have landed.
    await parser.result;
    await deps.blobs.delete(storedKeys).catch(() => undefined);
    throw error;
  }

  if (teeResult.totalBytes > teeResult.deliveredBytes) {
    notices.push({
      code: 'message_truncated',
      detail: `the message has ${teeResult.totalBytes} bytes (limit ${limits.maxMessageBytes}); the rest after the limit was discarded`,
    });
  }
  if (skippedForCount > 0) {
    notices.push({
      code: 'too_many_attachments',
      detail: `${skippedForCount} attachment(s) past the limit of ${limits.maxAttachments} were not kept`,
    });
  }
  return { mail, rawKey: key, rawSha256: hash.digest('hex'), attachments, notices: [...guard.notices, ...mail.notices, ...notices], storedKeys };
}

async function storeAttachment(
  deps: ReceiveDeps,
  part: AttachmentPart,
  scope: { tenantId: string; mailboxId: string; ingestId: string },
): Promise<ReceivedAttachment> {
  const attachmentId = deps.ids.next();
  const blobKey = attachmentKey(scope.tenantId, scope.mailboxId, scope.ingestId, attachmentId);
  const encrypt = deps.keys.encryptStream({ tenantId: scope.tenantId, mailboxId: scope.mailboxId, purpose: 'attachment' });
  const stored = deps.blobs.put(blobKey, encrypt);
  settledLater(stored);
  const scanInput = new PassThrough();
  // If the part is cut off, the Tee destroys this copy with the cause, which tee.run() rejects
  // with below; a scanner that does not listen for errors must not crash the process over it.
  scanInput.on('error', () => undefined);
  const verdict = deps.scanner.scan(scanInput);
  settledLater(verdict);

  const tee = new Tee(part.content, deps.limits.maxAttachmentBytes).attach(encrypt).attach(scanInput);
  let teeResult;
  try {
    teeResult = await tee.run();
  } catch (error) {
    // The part was cut off (the parser gave up on it): the Tee destroyed both sinks, so the upload
    // and the scan fail as a consequence; the cause is what the caller gets, and nothing is kept.
    // The verdict is not awaited: a scanner may never settle on a destroyed input.
    await stored.catch(() => undefined);
    await deps.blobs.delete([blobKey]);
    throw error;
  }
  const { totalBytes, deliveredBytes } = teeResult;
  let scan;
  try {
    [scan] = await Promise.all([verdict, stored]);
  } catch (error) {
    await stored.catch(() => undefined);
    await deps.blobs.delete([blobKey]).catch(() => undefined);
    throw new AttachmentStoreFailed('an attachment could not be stored or scanned', { cause: error });
  }
  const { sha256 } = part.digest();
  const base = {
    attachmentId,
    filename: part.filename,
    contentType: part.contentType,
    size: totalBytes,
    sha256,
    inline: part.inline,
    contentId: part.contentId,
  };

  if (totalBytes > deliveredBytes) {
    await deps.blobs.delete([blobKey]);
    return { ...base, blobKey: null, scan: 'unscanned', scanDetail: 'size_limit' };
  }
  switch (scan.status) {
    case 'clean':
      return { ...base, blobKey, scan: 'clean' };
    case 'infected':
      // Infected bytes are not kept: the ticket records the signature, and the only copy left is
      // inside the encrypted raw message, which is never served while any part is not clean.
      await deps.blobs.delete([blobKey]);
      return { ...base, blobKey: null, scan: 'infected', scanDetail: scan.signature };
    case 'unscanned':
      return { ...base, blobKey, scan: 'unscanned', scanDetail: scan.reason };
    case 'pending':
      return { ...base, blobKey, scan: 'pending' };
  }
}

/** Marks a store or scan failure of an attachment (not a part cut off by the parser). */
class AttachmentStoreFailed extends Error {}

async function drain(stream: Readable): Promise<void> {
  stream.resume();
  await finished(stream);
}

/**
 * Marks a promise this pass awaits only once the stream has passed: an upload or a scan that fails
 * before then (a part refused mid-stream, clamd gone) is handled there, not reported by the runtime as
 * an unhandled rejection — which ends a Lambda invocation and would end a local server.
 */
function settledLater(promise: Promise<unknown>): void {
  promise.catch(() => undefined);
}
