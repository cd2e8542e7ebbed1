// npm start's ticket viewer (/tickets…): the router of shared/web/viewer-router.ts over the local
// stack, for the operator of this machine. createTicketViewer mints the one-time sign-in link npm
// start prints; the link's token and the sessions it opens live in this process's memory only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../domain/ports.js';
import { parseCookies } from '../web/consent-router.js';
import { handleViewerRequest, type ViewerSite } from '../web/viewer-router.js';
import { newSecret, OperatorSessions } from '../web/viewer-session.js';
import { VIEWER_ROUTES } from '../web/viewer-views.js';
import { addressedToLoopback } from './http.js';
import { consoleReporter } from './reporter.js';
import type { LocalStack } from './stack.js';

export interface TicketViewer {
  /** `http://127.0.0.1:PORT/tickets/login?token=…`: signs one browser in, once. Print it; never log it elsewhere. */
  readonly loginUrl: string;
  /** Answers one request whose path is /tickets or below it. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

export interface TicketViewerOptions {
  /** The tenant whose tickets are shown (npm start's demo tenant, `default`). */
  tenantId: string;
  /** The port npm start's server listens on, 127.0.0.1 only. */
  port: number;
  /** Session expiry; the stack's clock unless a test passes its own. */
  clock?: Clock;
  /** Where an unexpected error's route and name go (never its message). */
  report?: (line: string) => void;
}

export function createTicketViewer(stack: Pick<LocalStack, 'deps'>, options: TicketViewerOptions): TicketViewer {
  const token = newSecret();
  const report = options.report ?? ((line: string) => consoleReporter.warn(line));
  const site: ViewerSite = {
    deps: stack.deps,
    tenantId: options.tenantId,
    sessions: new OperatorSessions(options.clock ?? stack.deps.clock, token),
    reportError: (route, error) => report(`ticket viewer: ${route} failed (${(error as Error)?.name ?? 'error'})`),
  };
  return {
    loginUrl: `http://127.0.0.1:${options.port}${VIEWER_ROUTES.login}?token=${token}`,
    serve: (req, res, url) => serveViewer(site, options.port, req, res, url),
  };
}

async function serveViewer(site: ViewerSite, port: number, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  // Own properties from entries: a parameter named __proto__ is just a name. First value of each wins.
  const headers = Object.fromEntries(Object.entries(req.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) if (!params.has(name)) params.set(name, value);
  const query = Object.fromEntries(params);
  const response = await handleViewerRequest(site, {
    method: req.method ?? 'GET',
    path: url.pathname,
    query,
    headers,
    cookies: parseCookies(req.headers.cookie ? [req.headers.cookie] : []),
    addressedToLoopback: addressedToLoopback(req, port),
  });
  const head = { ...response.headers, ...(response.cookies.length ? { 'set-cookie': response.cookies } : {}) };
  if (response.body instanceof Readable) {
    res.writeHead(response.status, head);
    try {
      await pipeline(response.body, res);
    } catch (error) {
      // Headers are gone: a cut-off download (the length does not match) is all the browser can be told.
      res.destroy();
      if (!(error as NodeJS.ErrnoException)?.code?.startsWith('ERR_STREAM_PREMATURE_CLOSE')) site.reportError?.('GET /tickets/:ticket/attachments/:attachment', error);
    }
    return;
  }
  res.writeHead(response.status, { ...head, 'content-length': String(Buffer.byteLength(response.body)) });
  res.end(response.body);
}
