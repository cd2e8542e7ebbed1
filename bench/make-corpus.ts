// Writes the checked-in benchmark corpus (bench/corpus/). Deterministic: rerunning rewrites the
// same bytes. Large attachments (1 MB and more) for the throughput ratio; plain mail for overhead.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { syntheticMessage } from './synthetic.js';

const dir = join(import.meta.dirname, 'corpus');
const MB = 1024 * 1024;

const large = [
  ['large-1', 1 * MB],
  ['large-2', 1.5 * MB],
  ['large-3', 2 * MB],
  ['large-4', 3 * MB],
] as const;
for (const [id, bytes] of large) {
  await pipeline(syntheticMessage({ id, attachmentBytes: Math.round(bytes) }), createWriteStream(join(dir, `${id}.eml`)));
}

const plainBodies = [
  'The printer on floor 3 shows error E-42 again since this morning. Could someone have a look?',
  'Hi,\r\n\r\nI was charged twice for invoice 2026-1187. Please refund the second payment.\r\n\r\nThanks,\r\nMaria',
  'Our VPN drops every 20 minutes when on the guest Wi-Fi. Logs available on request.',
];
for (const [i, body] of plainBodies.entries()) {
  const message = [
    `From: Customer ${i} <customer${i}@customer.example>`,
    'To: support@helpdesk.example',
    `Subject: Plain benchmark question ${i}`,
    'Date: Tue, 24 Nov 2026 09:00:00 +0000',
    `Message-ID: <plain-${i}@bench.customer.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
  await writeFile(join(dir, `plain-${i + 1}.eml`), message);
}
