// The ticket viewer's routes: check where the request is addressed and whose session it carries, call
// one read use-case of shared/domain/tickets.ts (each decrypts, applies restrictions and audits the
// read under the viewer's Accessor), answer a page or an attachment. GET only: nothing here changes
// state. Every page is no-store, framed by nobody, scripts from nowhere; unexpected errors become a
// generic page, and only their name is reported (never a message: it may quote mail).
import type { Readable } from 'node:stream';
import { recordAccess, type Accessor } from '../domain/audit.js';
import { AttachmentNotServable, NotFound } from '../domain/errors.js';
import type { AttachmentRecord } from '../domain/model.js';
import { listTickets, readAttachment, showTicket, type ReadDeps } from '../domain/tickets.js';
import type { Language } from './consent-views.js';
import { isLanguage, pickLanguage } from './language.js';
import { VIEWER_CSS } from './viewer-css.js';
import { contentDisposition, downloadContentType } from './viewer-format.js';
import { PAGE_SIZE } from './viewer-list.js';
import { renderViewerPage } from './viewer-render.js';
import type { OperatorSessions } from './viewer-session.js';
import { blockedReason, SAFE_ID, VIEWER_ROUTES as R, type AttachmentState, type BlockedReason, type ViewerErrorCode, type ViewerView } from './viewer-views.js';

export const VIEWER_ACCESSOR: Accessor = { actor: 'operator:viewer', reason: 'ticket viewer' };

export interface ViewerSite {
  deps: ReadDeps;
  /** The one tenant this viewer shows; ids from URLs are looked up under it only. */
  tenantId: string;
  sessions: OperatorSessions;
  /** Told a route pattern and an unexpected error, to report its name. */
  reportError?: (route: string, error: unknown) => void;
}

export interface ViewerRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  cookies: Record<string, string>;
  /** The Host header names this server by its loopback name (the DNS-rebinding guard). */
  addressedToLoopback: boolean;
}

export interface ViewerResponse {
  status: number;
  headers: Record<string, string>;
  /** Set-Cookie values. */
  cookies: string[];
  /** A page, or an attachment's bytes. */
  body: string | Readable;
}

export const SESSION_COOKIE = 'm2t_viewer';
const LANGUAGE_COOKIE = 'm2t_viewer_lang';
const COOKIE_PATH = '/tickets';

const STATUS_OF: Record<ViewerErrorCode, number> = {
  unauthorized: 401,
  link_invalid: 401,
  not_found: 404,
  not_servable: 409,
  misdirected: 421,
  read_only: 405,
  internal: 500,
};

interface Context {
  site: ViewerSite;
  request: ViewerRequest;
  lang: Language;
  cookies: string[];
  signedIn: boolean;
}

/** A refusal shown as its own page. */
class Refusal extends Error {
  constructor(
    readonly code: ViewerErrorCode,
    readonly blocked?: BlockedReason,
  ) {
    super(code);
  }
}

export async function handleViewerRequest(site: ViewerSite, request: ViewerRequest): Promise<ViewerResponse> {
  const asked = request.query.lang?.trim().toLowerCase();
  const chosen = asked && isLanguage(asked) ? asked : undefined;
  const lang = pickLanguage(chosen ?? request.cookies[LANGUAGE_COOKIE], request.headers['accept-language']);
  const c: Context = { site, request, lang, cookies: [], signedIn: false };
  try {
    // A page of another site whose name was rebound to 127.0.0.1 still sends its own name: refused
    // before any cookie is read or set.
    if (!request.addressedToLoopback) throw new Refusal('misdirected');
    if (chosen) c.cookies.push(cookie(LANGUAGE_COOKIE, chosen, 365 * 86_400));
    if (request.method !== 'GET') throw new Refusal('read_only');
    if (request.path === R.stylesheet) {
      return { status: 200, headers: { ...securityHeaders(), 'content-type': 'text/css; charset=utf-8', 'cache-control': 'private, max-age=3600' }, cookies: [], body: VIEWER_CSS };
    }
    c.signedIn = site.sessions.isValid(request.cookies[SESSION_COOKIE]);
    if (request.path === R.login) return login(c);
    if (!c.signedIn) throw new Refusal('unauthorized');
    return await route(c);
  } catch (error) {
    if (error instanceof Refusal) return errorPage(c, error.code, error.blocked);
    if (error instanceof NotFound) return errorPage(c, 'not_found');
    site.reportError?.(routePattern(request.path), error);
    return errorPage(c, 'internal');
  }
}

function login(c: Context): ViewerResponse {
  const opened = c.site.sessions.redeem(c.request.query.token);
  if (opened) {
    c.cookies.push(cookie(SESSION_COOKIE, opened.sessionId, opened.maxAgeSeconds));
    return redirect(c, R.list);
  }
  // The link opened again in the browser it already signed in (a reload, the terminal clicked twice).
  if (c.signedIn) return redirect(c, R.list);
  throw new Refusal('link_invalid');
}

async function route(c: Context): Promise<ViewerResponse> {
  const { path } = c.request;
  if (path === R.list) return listPage(c);
  const parts = path.slice(R.list.length + 1).split('/');
  const [ticketId, segment, attachmentId, ...rest] = parts;
  if (!path.startsWith(`${R.list}/`) || !ticketId || !SAFE_ID.test(ticketId) || rest.length > 0) throw new Refusal('not_found');
  if (segment === undefined) return ticketPage(c, ticketId);
  if (segment === 'attachments' && attachmentId && SAFE_ID.test(attachmentId)) return download(c, ticketId, attachmentId);
  throw new Refusal('not_found');
}

async function listPage(c: Context): Promise<ViewerResponse> {
  const { deps, tenantId } = c.site;
  const tickets = (await listTickets(deps, tenantId, VIEWER_ACCESSOR)).sort(
    (a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt) || b.ticketId.localeCompare(a.ticketId),
  );
  const pageCount = Math.max(1, Math.ceil(tickets.length / PAGE_SIZE));
  const asked = Number.parseInt(c.request.query.page ?? '1', 10);
  const pageNumber = Math.min(Math.max(Number.isFinite(asked) ? asked : 1, 1), pageCount);
  const firstIndex = (pageNumber - 1) * PAGE_SIZE;
  const shown = tickets.slice(firstIndex, firstIndex + PAGE_SIZE);
  // The count only (no content is decrypted), for tickets listTickets has just shown and audited.
  const counts = await Promise.all(shown.map(async (t) => (await deps.repo.listMessages(tenantId, t.ticketId)).length));
  const rows = shown.map((t, i) => ({
    ticketId: t.ticketId,
    subject: t.subject,
    requester: t.requester,
    mailboxId: t.mailboxId,
    lastActivityAt: t.lastActivityAt,
    messageCount: counts[i] ?? 0,
  }));
  return page(c, { kind: 'list', tenantId, rows, total: tickets.length, pageNumber, pageCount, firstIndex }, 200, pageNumber);
}

async function ticketPage(c: Context, ticketId: string): Promise<ViewerResponse> {
  const { deps, tenantId } = c.site;
  const ticket = await showTicket(deps, tenantId, ticketId, VIEWER_ACCESSOR);
  // The scanner's word on each attachment (signature, reason) and whether its bytes are kept: state,
  // not content, of attachments showTicket has just read and audited.
  const records = await deps.repo.listAttachments(tenantId, ticketId);
  const attachments: Record<string, AttachmentState> = {};
  for (const r of records) attachments[r.attachmentId] = { scanDetail: r.scanDetail ?? null, blocked: blockedOf(r) };
  return page(c, { kind: 'ticket', ticket, attachments });
}

function blockedOf(record: AttachmentRecord): BlockedReason | null {
  return blockedReason(record.scan, record.scanDetail, record.blobKey !== null);
}

async function download(c: Context, ticketId: string, attachmentId: string): Promise<ViewerResponse> {
  const { deps, tenantId } = c.site;
  const record = await deps.repo.getAttachment(tenantId, attachmentId);
  if (record && record.ticketId !== ticketId) {
    // Another ticket's attachment under this ticket's URL: not found here, and recorded as asked.
    await recordAccess(deps, tenantId, VIEWER_ACCESSOR, 'attachment.download', [attachmentId], 'not_found');
    throw new Refusal('not_found');
  }
  let served: Awaited<ReturnType<typeof readAttachment>>;
  try {
    served = await readAttachment(deps, tenantId, attachmentId, VIEWER_ACCESSOR);
  } catch (error) {
    if (error instanceof AttachmentNotServable) throw new Refusal('not_servable', (record && blockedOf(record)) ?? 'not_kept');
    throw error;
  }
  const { summary, content } = served;
  return {
    status: 200,
    headers: {
      ...securityHeaders(),
      // Nothing in a download may run, even if a browser were to render it.
      'content-security-policy': "default-src 'none'; sandbox",
      'content-type': downloadContentType(summary.contentType),
      'content-disposition': contentDisposition(summary.filename),
      'content-length': String(summary.size),
    },
    cookies: c.cookies,
    body: content,
  };
}

function page(c: Context, view: ViewerView, status = 200, pageNumber?: number): ViewerResponse {
  return {
    status,
    headers: { ...securityHeaders(view.kind === 'ticket'), 'content-type': 'text/html; charset=utf-8', 'content-language': c.lang },
    cookies: c.cookies,
    body: renderViewerPage(view, c.lang, { path: c.request.path, ...(pageNumber ? { pageNumber } : {}) }),
  };
}

function errorPage(c: Context, code: ViewerErrorCode, blocked?: BlockedReason): ViewerResponse {
  const response = page(c, { kind: 'error', code, signedIn: c.signedIn, ...(blocked ? { blocked } : {}) }, STATUS_OF[code]);
  if (code === 'read_only') response.headers.allow = 'GET';
  return response;
}

function redirect(c: Context, location: string): ViewerResponse {
  return { status: 303, headers: { ...securityHeaders(), location }, cookies: c.cookies, body: '' };
}

/**
 * The consent site's policy. A ticket page also allows data: images: its mail frames (srcdoc) inherit
 * this policy, and a data: image can neither run nor fetch anything; the page's own markup has none.
 */
function securityHeaders(mailFrames = false): Record<string, string> {
  const images = mailFrames ? " img-src 'self' data:;" : '';
  return {
    'content-security-policy': `default-src 'self';${images} frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'`,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}

/** HttpOnly, Secure (browsers keep Secure cookies of http://127.0.0.1 and localhost) and SameSite=Strict. */
function cookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

/** The route a path belongs to, for reports: ids (and anything else a URL carries) left out. */
function routePattern(path: string): string {
  if (path === R.list) return 'GET /tickets';
  if (/^\/tickets\/[^/]+\/attachments\/[^/]+$/.test(path)) return 'GET /tickets/:ticket/attachments/:attachment';
  if (/^\/tickets\/[^/]+$/.test(path)) return 'GET /tickets/:ticket';
  return 'GET /tickets/…';
}
