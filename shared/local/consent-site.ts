// npm start's consent site: the same router as the Lambda (shared/web/consent-router.ts) over the
// local stack, with the sandbox's fake Google and Microsoft identity platform as the authorization
// servers. Cookies stay `Secure`: browsers keep Secure cookies of http://127.0.0.1 and localhost,
// which they treat as secure contexts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsentDeps } from '../domain/consent/deps.js';
import { createTenant } from '../domain/consent/invites.js';
import { ConsentRefused } from '../domain/consent/errors.js';
import type { GoogleAuthorization, MicrosoftAuthorization } from '../domain/consent/ports.js';
import type { GmailLifecycleDeps } from '../domain/gmail/lifecycle.js';
import type { GraphLifecycleDeps } from '../domain/graph/lifecycle.js';
import type { MailboxRecord } from '../domain/model.js';
import { MAX_RETENTION_DAYS, type RetentionDeps } from '../domain/retention.js';
import { handleConsentRequest, parseCookies, type ConsentSite } from '../web/consent-router.js';
import { readBody } from './http.js';
import type { LocalStack } from './stack.js';

export interface LocalConsentProviders {
  google?: { authorization: GoogleAuthorization; origin: string; lifecycle: GmailLifecycleDeps };
  microsoft?: { authorization: MicrosoftAuthorization; origin: string; lifecycle: GraphLifecycleDeps };
}

export function localConsentSite(
  stack: LocalStack,
  options: { baseUrl: string; retention: RetentionDeps; providers: LocalConsentProviders; onConnected?: (mailbox: MailboxRecord) => void; report: (line: string) => void },
): ConsentSite {
  const { google, microsoft } = options.providers;
  const deps: ConsentDeps = {
    ...stack.deps,
    store: stack.consent.store,
    signingKey: stack.consent.signingKey,
    baseUrl: options.baseUrl,
    directory: stack.directory,
    retention: options.retention,
    retentionDays: MAX_RETENTION_DAYS,
    ...(google ? { google: { authorization: google.authorization, lifecycle: notifying(google.lifecycle, options.onConnected) } } : {}),
    ...(microsoft ? { microsoft: { authorization: microsoft.authorization, lifecycle: notifying(microsoft.lifecycle, options.onConnected) } } : {}),
  };
  return {
    deps,
    formTargets: [google?.origin, microsoft?.origin].filter((o): o is string => !!o),
    reportError: (route, error) => options.report(`consent: ${route} failed (${(error as Error)?.name ?? 'error'})`),
  };
}

/** A lifecycle whose repository tells `onConnected` of each mailbox the page connects. */
function notifying<T extends { repo: GmailLifecycleDeps['repo'] }>(lifecycle: T, onConnected: ((mailbox: MailboxRecord) => void) | undefined): T {
  if (!onConnected) return lifecycle;
  const repo = lifecycle.repo;
  const watched = Object.create(repo) as typeof repo;
  watched.putMailbox = async (mailbox) => {
    await repo.putMailbox(mailbox);
    if (mailbox.status === 'connected') onConnected(mailbox);
  };
  return { ...lifecycle, repo: watched };
}

/** The tenant npm start's demo mailboxes belong to, with a name for the consent page. */
export async function ensureDemoTenant(stack: LocalStack, tenantId: string): Promise<void> {
  if (await stack.consent.store.getTenant(tenantId)) return;
  try {
    await createTenant({ store: stack.consent.store, clock: stack.deps.clock, ids: stack.deps.ids }, 'Sandbox demo', tenantId);
  } catch (error) {
    if (!(error instanceof ConsentRefused)) throw error; // created meanwhile by a CLI run
  }
}

const MAX_FORM_BYTES = 64 * 1024;

/** Serves one /connect… request through the router, as API Gateway would hand it to the Lambda. */
export async function serveConsent(site: ConsentSite, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const body = req.method === 'POST' ? await readBody(req, MAX_FORM_BYTES) : Buffer.alloc(0);
  if (!body) {
    res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('body too large\n');
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!(name in query)) query[name] = value;
  const response = await handleConsentRequest(site, {
    method: req.method ?? 'GET',
    path: url.pathname,
    query,
    headers,
    cookies: parseCookies(req.headers.cookie ? [req.headers.cookie] : []),
    body: body.toString('utf8'),
  });
  res.writeHead(response.status, {
    ...response.headers,
    ...(response.cookies.length ? { 'set-cookie': response.cookies } : {}),
    'content-length': String(Buffer.byteLength(response.body)),
  });
  res.end(response.body);
}
