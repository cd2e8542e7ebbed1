// Data-subject requests, run by the client admin or the operator for one end customer.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import yazl from 'yazl';
import { eraseRequester, exportRequester, rectifyRequester, restrictRequester } from '../domain/requesters.js';
import type { LocalStack } from '../local/stack.js';
import { DEFAULT_TENANT, operatorAccessor } from './commands.js';
import { safeId } from './ids.js';
import { printJsonLine, UsageError } from './output.js';

export async function requestersCommand(stack: LocalStack, argv: string[]): Promise<number> {
  const [sub, email, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      tenant: { type: 'string' },
      'request-ref': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      name: { type: 'string' },
      'new-email': { type: 'string' },
    },
  });
  if (!sub || !email || !email.includes('@')) throw new UsageError('requesters takes export|rectify|restrict|unrestrict|erase EMAIL --request-ref REF');
  const requestRef = values['request-ref'];
  if (!requestRef) throw new UsageError('--request-ref is required: the reference of the verified request');
  const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
  const accessor = operatorAccessor(`data-subject request ${requestRef}`);
  const deps = stack.deps;

  if (sub === 'export') {
    if (!values.out) throw new UsageError('requesters export needs --out FILE.zip');
    const { document, files } = await exportRequester(deps, tenantId, email, requestRef, accessor);
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from(JSON.stringify(document, null, 2)), 'export.json');
    // Files stream into the archive one after another; nothing is held whole in memory.
    for (const file of files) zip.addReadStream(await file.open(), file.path);
    zip.end();
    const partial = `${values.out}.partial`;
    try {
      await pipeline(zip.outputStream, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, values.out);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    const messages = document.tickets.reduce((n, t) => n + t.messages.length, 0);
    if (values.json) printJsonLine({ out: values.out, tickets: document.tickets.length, messages, suppressed: document.suppressed.length, files: files.length });
    else process.stdout.write(`exported ${messages} message(s) in ${document.tickets.length} ticket(s), ${document.suppressed.length} automatic message(s) and ${files.length} file(s) to ${values.out}\n`);
    return 0;
  }
  if (sub === 'restrict' || sub === 'unrestrict') {
    await restrictRequester(deps, tenantId, email, sub === 'restrict', requestRef, accessor);
    process.stdout.write(sub === 'restrict' ? 'restricted: kept, hidden from agents until lifted\n' : 'restriction lifted\n');
    return 0;
  }
  if (sub === 'rectify') {
    if (values.name === undefined && values['new-email'] === undefined) throw new UsageError('rectify needs --name N and/or --new-email E');
    if (values['new-email'] !== undefined && !values['new-email'].includes('@')) throw new UsageError('--new-email must be an address');
    const correction = { ...(values.name !== undefined ? { name: values.name } : {}), ...(values['new-email'] !== undefined ? { newEmail: values['new-email'] } : {}) };
    const result = await rectifyRequester(deps, tenantId, email, correction, requestRef, accessor);
    if (values.json) printJsonLine(result);
    else process.stdout.write(`rectified in ${result.messages} message(s) and ${result.tickets} ticket(s)\n`);
    return 0;
  }
  if (sub === 'erase') {
    const result = await eraseRequester(deps, tenantId, email, requestRef, accessor);
    if (values.json) printJsonLine(result);
    else process.stdout.write(`erased: ${result.deleted} message(s) deleted, ${result.redacted} redacted, ${result.suppressed} automatic message(s) deleted, ${result.ticketsDeleted} ticket(s) deleted\n`);
    return 0;
  }
  throw new UsageError('requesters takes export|rectify|restrict|unrestrict|erase EMAIL --request-ref REF');
}
