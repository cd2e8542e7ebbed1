// The sandbox's control routes on npm start's server, under /sandbox/ — the sandbox's own test hooks,
// not any provider's API. The CLI's `sandbox` commands call them:
//   GET  /sandbox/stats                            what the sandboxes and the connectors counted
//   POST /sandbox/{gmail|graph}/messages?mailbox=ADDR   deliver the RFC 822 body (message/rfc822) into a mailbox
//   POST /sandbox/{gmail|graph}/outage             {"mailbox","minutes"}: drop that mailbox's notifications for a while
//   POST /sandbox/gmail/revoke?mailbox=ADDR        end the mailbox's grants at the fake Google (reconnect demo)
// Local callers only: the server binds 127.0.0.1, each request must name it in Host (no DNS rebinding)
// and carry the x-mail2ticket-sandbox header, which a browser would only send after a CORS preflight
// this server never grants.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addressedToLoopback, readBody, writeJson } from '../http.js';
import { SANDBOX_CONTROL_HEADER, type SandboxMailbox } from './endpoints.js';
import type { GmailSandbox } from './gmail-sandbox.js';
import type { GraphSandbox } from './graph-sandbox.js';

/**
 * The largest message `sandbox send` delivers, into either provider: Gmail's limit for mail received
 * over SMTP (Exchange Online's default is 36 MB, which its administrators may raise to 150 MB).
 */
export const MAX_SANDBOX_MESSAGE_BYTES = 50 * 1024 * 1024;
const MAX_CONTROL_JSON_BYTES = 4 * 1024;

/** What the control routes need of a provider's sandbox. */
interface ProviderSandbox {
  mailbox(address: string): SandboxMailbox | undefined;
  deliver(address: string, raw: Buffer): Promise<{ id: string; threadId: string }>;
  outage(address: string, minutes: number): string | null;
}

const PROVIDER_NAMES = { gmail: 'Gmail', graph: 'Microsoft 365' } as const;
type Provider = keyof typeof PROVIDER_NAMES;

export interface SandboxControlOptions {
  port: number;
  gmail: GmailSandbox;
  graph: GraphSandbox;
  /**
   * Counts of the connector runtimes (webhook answers, sync jobs), reported with the sandboxes' own:
   * `connector` is the Gmail connector's (the name it had when Gmail was the only one).
   */
  connectorStats: () => { connector: unknown; graphConnector: unknown };
}

export type SandboxControl = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export function sandboxControl(options: SandboxControlOptions): SandboxControl {
  const sandboxes: Record<Provider, ProviderSandbox> = { gmail: options.gmail, graph: options.graph };
  return async (req, res, url) => {
    if (!addressedToLoopback(req, options.port) || req.headers[SANDBOX_CONTROL_HEADER] !== '1') {
      return writeJson(res, 403, { error: `sandbox controls answer local callers only (Host 127.0.0.1:${options.port} and ${SANDBOX_CONTROL_HEADER}: 1)` });
    }
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /sandbox/stats') {
      const { connector, graphConnector } = options.connectorStats();
      return writeJson(res, 200, { gmail: options.gmail.stats(), connector, graph: options.graph.stats(), graphConnector });
    }
    if (route === 'POST /sandbox/gmail/revoke') {
      const address = url.searchParams.get('mailbox') ?? '';
      const mailbox = options.gmail.mailbox(address);
      if (!mailbox) return writeJson(res, 404, { error: `no sandbox Gmail mailbox ${JSON.stringify(address)}` });
      options.gmail.revoke(mailbox.address);
      return writeJson(res, 200, { mailbox: mailbox.address, provider: 'gmail', revoked: true });
    }
    const match = /^POST \/sandbox\/(gmail|graph)\/(messages|outage)$/.exec(route);
    if (!match) return writeJson(res, 404, { error: `no sandbox route ${route}` });
    const provider = match[1] as Provider;
    const sandbox = sandboxes[provider];
    const unknown = (address: string) => writeJson(res, 404, { error: `no sandbox ${PROVIDER_NAMES[provider]} mailbox ${JSON.stringify(address)}` });

    if (match[2] === 'messages') {
      if (!/^message\/rfc822\b/i.test(req.headers['content-type'] ?? '')) return writeJson(res, 415, { error: 'send the message as message/rfc822' });
      const mailbox = sandbox.mailbox(url.searchParams.get('mailbox') ?? '');
      if (!mailbox) return unknown(url.searchParams.get('mailbox') ?? '');
      const raw = await readBody(req, MAX_SANDBOX_MESSAGE_BYTES);
      if (!raw) return writeJson(res, 413, { error: `the message is larger than ${MAX_SANDBOX_MESSAGE_BYTES} bytes` }, { connection: 'close' });
      if (raw.length === 0) return writeJson(res, 400, { error: 'the message is empty' });
      const { id, threadId } = await sandbox.deliver(mailbox.address, raw);
      return writeJson(res, 200, { mailbox: mailbox.address, provider, providerMessageId: id, threadId });
    }

    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return writeJson(res, 415, { error: 'send {"mailbox","minutes"} as application/json' });
    const body = await readBody(req, MAX_CONTROL_JSON_BYTES);
    const request = body ? parseJson(body) : undefined;
    if (typeof request?.mailbox !== 'string' || typeof request.minutes !== 'number') return writeJson(res, 400, { error: 'send {"mailbox": ADDRESS, "minutes": N}' });
    const mailbox = sandbox.mailbox(request.mailbox);
    if (!mailbox) return unknown(request.mailbox);
    let until: string | null;
    try {
      until = sandbox.outage(mailbox.address, request.minutes);
    } catch (error) {
      if (error instanceof RangeError) return writeJson(res, 400, { error: error.message });
      throw error;
    }
    return writeJson(res, 200, { mailbox: mailbox.address, provider, until });
  };
}

function parseJson(body: Buffer): { mailbox?: unknown; minutes?: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as { mailbox?: unknown; minutes?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
