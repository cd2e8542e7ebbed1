// Deterministic synthetic mail for the benchmark: attachment bytes come from a seeded SHA-256
// counter stream (incompressible, like real PDFs and images), produced on the fly so that even a
// 100 MB message never sits in the benchmark's own memory.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export function pseudoRandomBytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let offset = 0;
  for (let counter = 0; offset < length; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

export interface SyntheticOptions {
  id: string;
  attachmentBytes: number;
  seed?: string;
}

function head(id: string, boundary: string): string {
  return [
    'From: Bench Sender <sender@customer.example>',
    'To: support@helpdesk.example',
    `Subject: Benchmark message ${id}`,
    'Date: Tue, 24 Nov 2026 09:00:00 +0000',
    `Message-ID: <${id}@bench.customer.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Please find the report attached.',
    `--${boundary}`,
    'Content-Type: application/octet-stream',
    `Content-Disposition: attachment; filename="report-${id}.bin"`,
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
}

/** A message with one attachment of `attachmentBytes`, streamed in base64 lines of 76 chars. */
export function syntheticMessage({ id, attachmentBytes, seed = 'mail2ticket-bench' }: SyntheticOptions): Readable {
  const boundary = `bench-${id}`;
  const CHUNK = 57 * 1024; // a multiple of 57 bytes → whole 76-char base64 lines
  let produced = 0;
  let counter = 0;
  let stage: 'head' | 'body' | 'tail' | 'done' = 'head';
  return new Readable({
    read() {
      if (stage === 'head') {
        stage = 'body';
        this.push(head(id, boundary));
        return;
      }
      if (stage === 'body') {
        const size = Math.min(CHUNK, attachmentBytes - produced);
        if (size <= 0) {
          stage = 'tail';
        } else {
          const bytes = pseudoRandomBytes(`${seed}:${counter++}`, size);
          produced += size;
          this.push(`${bytes.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '')}\r\n`);
          return;
        }
      }
      if (stage === 'tail') {
        stage = 'done';
        this.push(`--${boundary}--\r\n`);
        return;
      }
      this.push(null);
    },
  });
}
