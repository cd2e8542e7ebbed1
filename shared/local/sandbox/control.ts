// The sandbox's control routes on npm start's server, under /sandbox/ — the sandbox's own test hooks,
// not any provider's API. The CLI's `sandbox` commands call them:
//   GET  /sandbox/stats                         what the sandbox and the connector counted
//   POST /sandbox/gmail/messages?mailbox=ADDR   deliver the RFC 822 body (message/rfc822) into a mailbox
//   POST /sandbox/gmail/outage                  {"mailbox","minutes"}: drop that mailbox's pushes for a while
// Local callers only: the server binds 127.0.0.1, each request must name it in Host (no DNS rebinding)
// and carry the x-mail2ticket-sandbox header, which a browser would only send after a CORS preflight
// this server never grants. A provider sandbox added later (Microsoft 365) gets its own /sandbox/<name>/.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addressedToLoopback, readBody, writeJson } from '../http.js';
import { SANDBOX_CONTROL_HEADER } from './endpoints.js';
import type { GmailSandbox } from './gmail-sandbox.js';

/** The largest message `sandbox send` delivers: Gmail's limit for mail received over SMTP. */
export const MAX_SANDBOX_MESSAGE_BYTES = 50 * 1024 * 1024;
const MAX_CONTROL_JSON_BYTES = 4 * 1024;

export interface SandboxControlOptions {
  port: number;
  gmail: GmailSandbox;
  /** Counts of the connector runtime (webhook answers, sync jobs), reported with the sandbox's own. */
  connectorStats: () => unknown;
}

export type SandboxControl = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export function sandboxControl(options: SandboxControlOptions): SandboxControl {
  const { gmail } = options;
  return async (req, res, url) => {
    if (!addressedToLoopback(req, options.port) || req.headers[SANDBOX_CONTROL_HEADER] !== '1') {
      return writeJson(res, 403, { error: `sandbox controls answer local callers only (Host 127.0.0.1:${options.port} and ${SANDBOX_CONTROL_HEADER}: 1)` });
    }
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /sandbox/stats') return writeJson(res, 200, { gmail: gmail.stats(), connector: options.connectorStats() });

    if (route === 'POST /sandbox/gmail/messages') {
      if (!/^message\/rfc822\b/i.test(req.headers['content-type'] ?? '')) return writeJson(res, 415, { error: 'send the message as message/rfc822' });
      const mailbox = gmail.mailbox(url.searchParams.get('mailbox') ?? '');
      if (!mailbox) return writeJson(res, 404, { error: `no sandbox Gmail mailbox ${JSON.stringify(url.searchParams.get('mailbox') ?? '')}` });
      const raw = await readBody(req, MAX_SANDBOX_MESSAGE_BYTES);
      if (!raw) return writeJson(res, 413, { error: `the message is larger than ${MAX_SANDBOX_MESSAGE_BYTES} bytes` }, { connection: 'close' });
      if (raw.length === 0) return writeJson(res, 400, { error: 'the message is empty' });
      const { id, threadId } = await gmail.deliver(mailbox.address, raw);
      return writeJson(res, 200, { mailbox: mailbox.address, providerMessageId: id, threadId });
    }

    if (route === 'POST /sandbox/gmail/outage') {
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return writeJson(res, 415, { error: 'send {"mailbox","minutes"} as application/json' });
      const body = await readBody(req, MAX_CONTROL_JSON_BYTES);
      const request = body ? parseJson(body) : undefined;
      if (typeof request?.mailbox !== 'string' || typeof request.minutes !== 'number') return writeJson(res, 400, { error: 'send {"mailbox": ADDRESS, "minutes": N}' });
      const mailbox = gmail.mailbox(request.mailbox);
      if (!mailbox) return writeJson(res, 404, { error: `no sandbox Gmail mailbox ${JSON.stringify(request.mailbox)}` });
      let until: string | null;
      try {
        until = gmail.outage(mailbox.address, request.minutes);
      } catch (error) {
        if (error instanceof RangeError) return writeJson(res, 400, { error: error.message });
        throw error;
      }
      return writeJson(res, 200, { mailbox: mailbox.address, until });
    }
    return writeJson(res, 404, { error: `no sandbox route ${route}` });
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
