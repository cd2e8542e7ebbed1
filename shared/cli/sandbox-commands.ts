// `sandbox send|outage|status`: drive the sandbox of the `npm start` running on the same data dir,
// through its loopback control routes (their addresses are in the data dir's stack.json). A mailbox
// address names its provider: the sandbox's Gmail or Microsoft 365 mailboxes, as stack.json lists
// them. The CLI holds no token: it hands over the message, and the npm start process delivers it
// into its fake provider (see shared/local/sandbox/{gmail,graph}-sandbox.ts).
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { LocalConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { MAX_SANDBOX_MESSAGE_BYTES } from '../local/sandbox/control.js';
import { SANDBOX_CONTROL_HEADER, type SandboxEndpoints, type SandboxMailbox } from '../local/sandbox/endpoints.js';
import { readRunningStack } from '../local/stack.js';
import { printJsonLine, UsageError } from './output.js';

/** No running sandbox to talk to, or it refused the request; the message says which and what to do. */
export class SandboxUnavailable extends DomainError {
  readonly code = 'sandbox_unavailable';
  readonly retryable = false;
}

const USAGE = 'sandbox takes "send FILE --mailbox ADDRESS [--json]", "outage --mailbox ADDRESS --minutes N", "revoke --mailbox ADDRESS" or "status [--json]"';

export async function sandboxCommand(config: LocalConfig, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { mailbox: { type: 'string' }, minutes: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (sub === 'send') return send(config, positionals, values.mailbox, values.json);
  if (sub === 'outage') return outage(config, values.mailbox, values.minutes, values.json);
  if (sub === 'status') return status(config, values.json);
  if (sub === 'revoke') return revoke(config, values.mailbox, values.json);
  throw new UsageError(USAGE);
}

/** `sandbox revoke --mailbox ADDRESS`: a Gmail mailbox's grant ends at the fake Google; its next sync asks for reconnection. */
async function revoke(config: LocalConfig, mailbox: string | undefined, json: boolean): Promise<number> {
  if (!mailbox) throw new UsageError('sandbox revoke needs --mailbox ADDRESS (a sandbox Gmail mailbox)');
  const sandbox = await runningSandbox(config);
  if (providerOf(sandbox, mailbox) !== 'gmail') throw new UsageError('sandbox revoke takes a Gmail mailbox (Microsoft 365 access is app-only: an admin removes it in Entra)');
  const result = (await control(sandbox, 'POST', `/gmail/revoke?mailbox=${encodeURIComponent(mailbox)}`)) as { mailbox: string };
  if (json) printJsonLine({ mailbox: result.mailbox, provider: 'gmail', revoked: true });
  else process.stdout.write(`${result.mailbox}: its grant is revoked at the fake Google; the next sync marks it "reauthorization required" — reconnect it on the consent page\n`);
  return 0;
}

/** `sandbox send FILE --mailbox ADDRESS`: mail arrives in the sandbox mailbox as if over SMTP. */
async function send(config: LocalConfig, files: string[], mailbox: string | undefined, json: boolean): Promise<number> {
  if (files.length !== 1) throw new UsageError('sandbox send takes one FILE.eml');
  if (!mailbox) throw new UsageError('sandbox send needs --mailbox ADDRESS (the sandbox mailbox npm start printed)');
  const raw = await readMessage(files[0] as string);
  const sandbox = await runningSandbox(config);
  const provider = providerOf(sandbox, mailbox);
  const result = (await control(sandbox, 'POST', `/${provider}/messages?mailbox=${encodeURIComponent(mailbox)}`, { contentType: 'message/rfc822', data: raw })) as {
    mailbox: string;
    providerMessageId: string;
    threadId: string;
  };
  if (json) printJsonLine({ mailbox: result.mailbox, provider, providerMessageId: result.providerMessageId, threadId: result.threadId });
  else if (provider === 'graph') process.stdout.write(`delivered to ${result.mailbox}: Microsoft 365 message ${result.providerMessageId} (conversation ${result.threadId})\n`);
  else process.stdout.write(`delivered to ${result.mailbox}: Gmail message ${result.providerMessageId} (thread ${result.threadId})\n`);
  return 0;
}

/** Which fake provider holds a sandbox mailbox; the message lists the sandbox's mailboxes when none does. */
function providerOf(sandbox: SandboxEndpoints, address: string): 'gmail' | 'graph' {
  const wanted = address.trim().toLowerCase();
  const holds = (mailboxes: SandboxMailbox[]) => mailboxes.some((m) => m.address === wanted);
  if (holds(sandbox.gmail.mailboxes)) return 'gmail';
  if (holds(sandbox.graph.mailboxes)) return 'graph';
  const known = [...sandbox.gmail.mailboxes.map((m) => `${m.address} (Gmail)`), ...sandbox.graph.mailboxes.map((m) => `${m.address} (Microsoft 365)`)];
  throw new SandboxUnavailable(`${address} is not a sandbox mailbox; the sandbox's are: ${known.join(', ') || 'none (see npm start\'s output)'}`);
}

/** `sandbox outage --mailbox ADDRESS --minutes N`: the mailbox's notifications (pushes, change notifications) are dropped for N minutes. */
async function outage(config: LocalConfig, mailbox: string | undefined, minutesText: string | undefined, json: boolean): Promise<number> {
  if (!mailbox) throw new UsageError('sandbox outage needs --mailbox ADDRESS');
  const minutes = Number(minutesText);
  if (minutesText === undefined || !/^\d{1,4}$/.test(minutesText) || minutes > 1440) throw new UsageError('sandbox outage needs --minutes N, 0 (ends an outage) to 1440');
  const sandbox = await runningSandbox(config);
  const provider = providerOf(sandbox, mailbox);
  const result = (await control(sandbox, 'POST', `/${provider}/outage`, { contentType: 'application/json', data: Buffer.from(JSON.stringify({ mailbox, minutes })) })) as {
    mailbox: string;
    provider: string;
    until: string | null;
  };
  const what = provider === 'graph' ? 'change notifications' : 'pushes';
  if (json) printJsonLine(result);
  else if (result.until === null) process.stdout.write(`outage over: ${what} for ${result.mailbox} are sent again\n`);
  else process.stdout.write(`${what} for ${result.mailbox} are dropped until ${result.until}; the safety sync still brings its mail in\n`);
  return 0;
}

/** `sandbox status`: what the sandbox and the connector counted since npm start started. */
async function status(config: LocalConfig, json: boolean): Promise<number> {
  const sandbox = await runningSandbox(config);
  const stats = (await control(sandbox, 'GET', '/stats')) as SandboxStatsView;
  if (json) {
    printJsonLine(stats);
    return 0;
  }
  const { gmail, connector, graph, graphConnector } = stats;
  const counts = (record: Record<string, number | string>) => Object.entries(record).map(([key, value]) => `${key}: ${value}`).join(', ') || 'none';
  const mailboxes = (list: SandboxMailbox[]) => list.map((m) => `${m.address} → ${m.tenantId}/${m.mailboxId}`).join(', ') || 'no mailbox connected';
  process.stdout.write(
    [
      `sandbox Gmail (${mailboxes(sandbox.gmail.mailboxes)})`,
      `  delivered:  ${gmail.delivered} message(s)`,
      `  pushes:     ${gmail.pushes.sent} sent (${counts(gmail.pushes.byStatus)}), ${gmail.pushes.dropped} dropped by an outage, ${gmail.pushes.failed} unanswered`,
      `  fake Gmail: ${gmail.fake.rawFetches} raw message fetch(es), ${gmail.fake.historyLists} history listing(s)`,
      `  outages:    ${counts(gmail.outages)}`,
      `  webhook answers: ${counts(connector.webhook)}`,
      `  sync jobs: ${connector.sync.records} received, ${connector.sync.deleted} done, ${connector.sync.failed} failed; safety sync rounds: ${connector.safetySyncRuns}`,
      `sandbox Microsoft 365 (${mailboxes(sandbox.graph.mailboxes)})`,
      `  delivered:  ${graph.delivered} message(s)`,
      `  notifications: ${graph.notifications.posted} posted (${counts(graph.notifications.byStatus)}), ${graph.notifications.dropped} dropped by an outage, ${graph.notifications.unanswered} unanswered`,
      `  fake Graph: ${graph.fake.valueFetches} MIME ($value) fetch(es), ${graph.fake.deltaRequests} delta request(s), ${graph.fake.validations} webhook validation(s)`,
      `  outages:    ${counts(graph.outages)}`,
      `  webhook answers: ${counts(graphConnector.webhook)}`,
      `  sync jobs: ${graphConnector.sync.records} received, ${graphConnector.sync.deleted} done, ${graphConnector.sync.failed} failed; safety sync rounds: ${graphConnector.safetySyncRuns}`,
      '',
    ].join('\n'),
  );
  return 0;
}

interface SandboxStatsView {
  gmail: {
    delivered: number;
    pushes: { sent: number; byStatus: Record<string, number>; dropped: number; failed: number };
    fake: { rawFetches: number; historyLists: number };
    outages: Record<string, string>;
  };
  connector: ConnectorStatsView;
  graph: {
    delivered: number;
    notifications: { posted: number; byStatus: Record<string, number>; dropped: number; unanswered: number };
    fake: { valueFetches: number; deltaRequests: number; validations: number };
    outages: Record<string, string>;
  };
  graphConnector: ConnectorStatsView;
}

interface ConnectorStatsView {
  webhook: Record<string, number>;
  sync: { records: number; deleted: number; failed: number };
  safetySyncRuns: number;
}

async function readMessage(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UsageError(`${path} is not a file`);
    if (info.size === 0) throw new UsageError(`${path} is empty`);
    if (info.size > MAX_SANDBOX_MESSAGE_BYTES) throw new UsageError(`${path} is larger than ${MAX_SANDBOX_MESSAGE_BYTES} bytes (the sandbox's limit: Gmail's for received mail)`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function runningSandbox(config: LocalConfig): Promise<SandboxEndpoints> {
  const running = await readRunningStack(config.dataDir);
  if (!running) throw new SandboxUnavailable(`npm start is not running on ${config.dataDir}: start it (npm start) with the same MAIL2TICKET_DATA_DIR`);
  if (!running.sandbox) throw new SandboxUnavailable('the running npm start has no sandbox (started with MAIL2TICKET_SANDBOX=0, or still starting)');
  return running.sandbox;
}

async function control(sandbox: SandboxEndpoints, method: 'GET' | 'POST', path: string, body?: { contentType: string; data: Buffer }): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${sandbox.controlUrl}${path}`, {
      method,
      headers: { [SANDBOX_CONTROL_HEADER]: '1', ...(body ? { 'content-type': body.contentType } : {}) },
      ...(body ? { body: body.data } : {}),
    });
  } catch (error) {
    throw new SandboxUnavailable(`the sandbox at ${sandbox.controlUrl} does not answer: is npm start still running?`, { cause: error });
  }
  const answer = (await response.json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (!response.ok) throw new SandboxUnavailable(`the sandbox refused: ${typeof answer?.error === 'string' ? answer.error : `HTTP ${response.status}`}`);
  return answer;
}
