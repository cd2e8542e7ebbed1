// One measurement per fresh process: peak RSS growth while ingesting one message whose single
// attachment has the given size in MB. Prints {"growthMb": …} on its last line.
import type { Readable } from 'node:stream';
import { ingestMessage } from '../shared/domain/ingest.js';
import type { MailboxRecord } from '../shared/domain/model.js';
import { withStackServer } from './stack-server.js';
import { syntheticMessage } from './synthetic.js';

const megabytes = Number(process.argv[2]);
await withStackServer(async (stack) => {
  const mailbox: MailboxRecord = { tenantId: 'bench', mailboxId: 'rss', provider: 'local', status: 'connected', createdAt: new Date().toISOString() };
  await stack.deps.repo.putMailbox(mailbox);
  const ingest = (stream: Readable) => ingestMessage(stack.deps, stream, { tenantId: 'bench', mailboxId: 'rss', mailbox, receivedAt: new Date() });
  // Warm every code path (parser, scanner, encryption, multipart upload) on a small message first.
  await ingest(syntheticMessage({ id: `warm-${process.pid}`, attachmentBytes: 6 * 1024 * 1024 }));
  if (!global.gc) throw new Error('run with --expose-gc: the baseline is taken after a full collection');
  global.gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const result = await ingest(syntheticMessage({ id: `rss-${megabytes}-${process.pid}`, attachmentBytes: megabytes * 1024 * 1024 }));
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  if (result.attachments[0]?.size !== megabytes * 1024 * 1024) throw new Error('the attachment did not arrive whole');
  process.stdout.write(`${JSON.stringify({ growthMb: (peak - baseline) / (1024 * 1024), scan: result.attachments[0]?.scan })}\n`);
});
