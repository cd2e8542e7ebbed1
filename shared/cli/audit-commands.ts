// The access log: `audit list` shows who read what and why; `audit verify` checks the hash chain.
import { parseArgs } from 'node:util';
import { verifyAuditChain } from '../domain/audit.js';
import type { LocalStack } from '../local/stack.js';
import { DEFAULT_TENANT } from './commands.js';
import { safeId } from './ids.js';
import { printJsonLine, printTable, UsageError } from './output.js';

export async function auditCommand(stack: LocalStack, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const tenantId = safeId('tenant', values.tenant, DEFAULT_TENANT);
  const records = await stack.deps.audit.list(tenantId);
  if (sub === 'list') {
    if (values.json) printJsonLine(records);
    else printTable(['AT', 'ACTOR', 'ACTION', 'OUTCOME', 'IDS', 'REASON'], records.map((r) => [r.at, r.actor, r.action, r.outcome, r.subjectIds.join(' '), r.reason]));
    return 0;
  }
  if (sub === 'verify') {
    const result = verifyAuditChain(records);
    if (values.json) printJsonLine(result);
    else process.stdout.write(result.ok ? `audit chain intact: ${result.count} record(s)\n` : `audit chain BROKEN at record ${result.brokenAt} (of ${result.count})\n`);
    return result.ok ? 0 : 1;
  }
  throw new UsageError('audit takes "list" or "verify"');
}
