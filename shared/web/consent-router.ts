// The consent site's routes, for the Lambda (functions/consent) and npm start alike: parse the
// request, call one consent use-case, answer a page or a redirect. Every page is no-store, framed by
// nobody, scripts from nowhere; every POST carries a CSRF token bound to the browser's cookie;
// cookies are Secure, HttpOnly, SameSite=Lax. Nothing secret is ever logged or put in a URL we make.
import { ConsentRefused, type ConsentErrorCode } from '../domain/consent/errors.js';
import { ProviderNotFound, ProviderRejected, ProviderThrottled, ReauthorizationRequired } from '../domain/provider-errors.js';
import type { ConsentDeps } from '../domain/consent/deps.js';
import { acceptInvite, csrfMatches, csrfToken, openInvite, sessionOf } from '../domain/consent/invites.js';
import { mailboxStatus } from '../domain/consent/mailboxes.js';
import { beginGoogleConnect, finishGoogle } from '../domain/consent/google.js';
import { beginMicrosoftConnect, connectMicrosoftMailboxes, finishMicrosoft } from '../domain/consent/microsoft.js';
import { beginDisconnect, confirmationFor, confirmDisconnect } from '../domain/consent/disconnect.js';
import type { AdminSession } from '../domain/consent/model.js';
import { newSecret } from '../domain/consent/tokens.js';
import { CONSENT_CSS } from './consent-css.js';
import { renderConsentPage } from './consent-render.js';
import { CONSENT_ROUTES as R, type ConsentView, type Language, type MailboxRow, type StatusNotice } from './consent-views.js';
import { isLanguage, pickLanguage } from './language.js';

export interface WebRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  cookies: Record<string, string>;
  body: string | undefined;
}

export interface WebResponse {
  status: number;
  headers: Record<string, string>;
  /** Set-Cookie values. */
  cookies: string[];
  body: string;
}

export interface ConsentSite {
  deps: ConsentDeps;
  /** Origins the page's forms may lead to through a redirect (the providers' authorization servers). */
  formTargets: string[];
  /** Cookies without `Secure` only where the site is served over plain loopback HTTP to a browser that refuses them there. */
  secureCookies?: boolean;
  /** Told the name of an unexpected error (never its message: it may quote a provider's answer). */
  reportError?: (route: string, error: unknown) => void;
}

const SESSION_COOKIE = 'm2t_session';
const PRE_SESSION_COOKIE = 'm2t_pre';
const LANGUAGE_COOKIE = 'm2t_lang';
const MAX_FORM_BYTES = 16 * 1024;
const NOTICES: readonly StatusNotice[] = ['connected', 'reconnected', 'disconnected', 'microsoft_consented'];

const STATUS_OF: Record<ConsentErrorCode, number> = {
  invite_invalid: 400,
  invite_expired: 410,
  invite_used: 410,
  invite_revoked: 410,
  session_expired: 401,
  state_invalid: 400,
  state_replayed: 400,
  state_expired: 400,
  access_denied: 403,
  redirect_mismatch: 400,
  wrong_directory: 403,
  not_admin: 403,
  wrong_account: 403,
  csrf: 403,
  mailbox_in_use: 409,
  provider_error: 502,
  internal_error: 500,
  not_found: 404,
  bad_request: 400,
};

interface Context {
  site: ConsentSite;
  request: WebRequest;
  lang: Language;
  cookies: string[];
}

export async function handleConsentRequest(site: ConsentSite, request: WebRequest): Promise<WebResponse> {
  const asked = request.query.lang?.trim().toLowerCase();
  const chosen = asked && isLanguage(asked) ? asked : undefined;
  const lang = pickLanguage(chosen ?? request.cookies[LANGUAGE_COOKIE], request.headers['accept-language']);
  const context: Context = { site, request, lang, cookies: chosen ? [cookie(site, LANGUAGE_COOKIE, chosen, 365 * 86_400)] : [] };
  let session: AdminSession | undefined;
  try {
    if (request.method === 'GET' && request.path === R.stylesheet) {
      return { status: 200, headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' }, cookies: [], body: CONSENT_CSS };
    }
    session = await sessionOf(site.deps, request.cookies[SESSION_COOKIE]);
    return await route(context, session);
  } catch (error) {
    // An invite that cannot be used keeps its link through a language switch, so the page tells why
    // in the new language (expired, used, withdrawn) instead of a link that is not valid.
    const invite = request.method === 'GET' && request.path === R.landing ? request.query.invite : undefined;
    if (error instanceof ConsentRefused) return errorPage(context, error.code, !!session, STATUS_OF[error.code], invite ? { invite } : undefined);
    site.reportError?.(request.path, error);
    // Only a provider's own failure is blamed on Google or Microsoft; anything else is ours.
    return errorPage(context, isProviderFailure(error) ? 'provider_error' : 'internal_error', !!session, 500);
  }
}

async function route(c: Context, session: AdminSession | undefined): Promise<WebResponse> {
  const { request, site } = c;
  const { deps } = site;
  const key = `${request.method} ${request.path}`;
  switch (key) {
    case `GET ${R.landing}`: {
      const invite = request.query.invite;
      try {
        const { tenant, invite: record } = await openInvite(deps, invite);
        const pre = request.cookies[PRE_SESSION_COOKIE] && request.cookies[PRE_SESSION_COOKIE].length <= 64 ? request.cookies[PRE_SESSION_COOKIE] : newSecret();
        if (pre !== request.cookies[PRE_SESSION_COOKIE]) c.cookies.push(cookie(site, PRE_SESSION_COOKIE, pre, 3600));
        return page(c, { page: 'landing', tenantName: tenant.name, invite: invite as string, csrfToken: csrfToken(deps.signingKey, pre), expiresAt: record.validUntil }, 200, { invite: invite as string });
      } catch (error) {
        // The admin who already used the link comes back to their session rather than to an error.
        if (error instanceof ConsentRefused && error.code === 'invite_used' && session && invite?.startsWith(`${session.tenantId}.${session.inviteId}.`)) return redirect(c, R.status);
        throw error;
      }
    }
    case `POST ${R.start}`: {
      const form = formOf(request);
      const current = form.get('invite') && !sameInvite(session, form.get('invite')) ? await startSession(c, form) : requireSession(session, form, deps.signingKey, request);
      const provider = form.get('provider');
      const mailboxId = form.get('mailbox') || undefined;
      if (provider === 'google') return redirect(c, await beginGoogleConnect(deps, current, mailboxId));
      if (provider === 'microsoft') return redirect(c, await beginMicrosoftConnect(deps, current, mailboxId));
      throw new ConsentRefused('bad_request');
    }
    case `GET ${R.googleCallback}`: {
      const current = liveSession(session);
      if (!request.query.state && !request.query.code && !request.query.error) return redirect(c, R.status);
      const result = await finishGoogle(deps, current, request.query);
      if (result.kind === 'connected') return redirect(c, `${R.status}?notice=${result.reconnected ? 'reconnected' : 'connected'}`);
      return confirmPage(c, current, await confirmationFor(deps, current, result));
    }
    case `GET ${R.microsoftCallback}`: {
      const current = liveSession(session);
      if (!request.query.state && !request.query.code && !request.query.error) return redirect(c, R.status);
      const result = await finishMicrosoft(deps, current, request.query);
      if (result.kind === 'redirect') return redirect(c, result.url);
      if (result.kind === 'reconnected') return redirect(c, `${R.status}?notice=reconnected`);
      if (result.kind === 'confirmed') return confirmPage(c, current, await confirmationFor(deps, current, result));
      return microsoftPage(c, current, result.step, result.verifiedDomains, '', []);
    }
    case `POST ${R.microsoftMailboxes}`: {
      const form = formOf(request);
      const current = requireSession(session, form, deps.signingKey, request);
      // Not cut short here: a list over the limit is refused whole, never connected minus its tail.
      const addresses = form.get('addresses') ?? '';
      const result = await connectMicrosoftMailboxes(deps, current, form.get('step') ?? undefined, addresses);
      if (result.step) return microsoftPage(c, current, result.step, result.verifiedDomains, addresses, result.refused, 422);
      return redirect(c, `${R.status}?notice=connected`);
    }
    case `GET ${R.status}`: {
      const current = liveSession(session);
      const notice = NOTICES.find((n) => n === request.query.notice) ?? null;
      const tenant = await deps.store.getTenant(current.tenantId);
      const mailboxes: MailboxRow[] = await mailboxStatus(deps, current);
      return page(c, { page: 'status', tenantName: tenant?.name ?? current.tenantId, csrfToken: sessionCsrf(c), mailboxes, notice, sessionExpiresAt: current.validUntil });
    }
    case `POST ${R.disconnect}`: {
      const form = formOf(request);
      const current = requireSession(session, form, deps.signingKey, request);
      return redirect(c, await beginDisconnect(deps, current, form.get('mailbox') ?? undefined));
    }
    case `POST ${R.signOut}`: {
      const form = formOf(request);
      const current = requireSession(session, form, deps.signingKey, request);
      // Ended on the server, not only forgotten by this browser: a copy of the cookie opens nothing.
      await deps.store.deleteSession(current.sessionHash);
      c.cookies.push(cookie(site, SESSION_COOKIE, '', 0));
      return redirect(c, R.signOut);
    }
    case `GET ${R.signOut}`:
      return page(c, { page: 'signed_out' });
    case `POST ${R.confirmDisconnect}`: {
      const form = formOf(request);
      const current = requireSession(session, form, deps.signingKey, request);
      await confirmDisconnect(deps, current, form.get('confirmation') ?? undefined);
      return redirect(c, `${R.status}?notice=disconnected`);
    }
    default:
      // A language switch on a page a POST or a callback rendered re-requests its path with only
      // ?lang: the status page (in the new language) is where such a page's admin continues.
      if (request.method === 'GET' && isKnownPath(request.path) && !request.query.state) return redirect(c, R.status);
      throw new ConsentRefused(isKnownPath(request.path) ? 'bad_request' : 'not_found');
  }
}

/** The landing page's POST: its CSRF token is bound to the pre-session cookie; the invite is consumed here. */
async function startSession(c: Context, form: URLSearchParams): Promise<AdminSession> {
  const { site, request } = c;
  if (!csrfMatches(site.deps.signingKey, request.cookies[PRE_SESSION_COOKIE], form.get('csrf') ?? undefined)) throw new ConsentRefused('csrf');
  const { cookie: value, session } = await acceptInvite(site.deps, form.get('invite') ?? undefined);
  c.cookies.push(cookie(site, SESSION_COOKIE, value, Math.floor((Date.parse(session.validUntil) - Date.parse(session.createdAt)) / 1000)));
  c.cookies.push(cookie(site, PRE_SESSION_COOKIE, '', 0));
  return session;
}

function sameInvite(session: AdminSession | undefined, invite: string | null): boolean {
  return !!session && !!invite && invite.startsWith(`${session.tenantId}.${session.inviteId}.`);
}

function liveSession(session: AdminSession | undefined): AdminSession {
  if (!session) throw new ConsentRefused('session_expired');
  return session;
}

function requireSession(session: AdminSession | undefined, form: URLSearchParams, key: Uint8Array, request: WebRequest): AdminSession {
  const current = liveSession(session);
  if (!csrfMatches(key, request.cookies[SESSION_COOKIE], form.get('csrf') ?? undefined)) throw new ConsentRefused('csrf');
  return current;
}

/** A live session was found by this request's cookie: its CSRF token is bound to that cookie. */
function sessionCsrf(c: Context): string {
  return csrfToken(c.site.deps.signingKey, c.request.cookies[SESSION_COOKIE] as string);
}

function formOf(request: WebRequest): URLSearchParams {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new ConsentRefused('bad_request');
  if (Buffer.byteLength(request.body ?? '') > MAX_FORM_BYTES) throw new ConsentRefused('bad_request');
  return new URLSearchParams(request.body ?? '');
}

function confirmPage(c: Context, session: AdminSession, confirmation: Awaited<ReturnType<typeof confirmationFor>>): Promise<WebResponse> {
  return withTenant(c, session, (tenantName) => ({
    page: 'confirm_disconnect',
    tenantName,
    csrfToken: sessionCsrf(c),
    confirmation: confirmation.confirmation,
    deletionDeadline: confirmation.deletionDeadline,
    mailbox: {
      mailboxId: confirmation.mailbox.mailboxId,
      provider: confirmation.mailbox.provider === 'graph' ? 'graph' : 'gmail',
      address: confirmation.address,
      state: confirmation.mailbox.status,
      lastNotifiedAt: confirmation.mailbox.connection?.lastNotifiedAt ?? null,
      lastSyncedAt: confirmation.mailbox.connection?.lastSyncedAt ?? null,
      watchExpiresAt: confirmation.mailbox.connection?.watchExpiresAt ?? null,
      purgeBy: null,
    },
  }));
}

function microsoftPage(
  c: Context,
  session: AdminSession,
  step: string,
  verifiedDomains: string[],
  addresses: string,
  refused: Extract<ConsentView, { page: 'microsoft_mailboxes' }>['refused'],
  status = 200,
): Promise<WebResponse> {
  return withTenant(c, session, (tenantName) => ({ page: 'microsoft_mailboxes', tenantName, csrfToken: sessionCsrf(c), step, verifiedDomains, addresses, refused }), status);
}

async function withTenant(c: Context, session: AdminSession, build: (tenantName: string) => ConsentView, status = 200): Promise<WebResponse> {
  const tenant = await c.site.deps.store.getTenant(session.tenantId);
  return page(c, build(tenant?.name ?? session.tenantId), status);
}

function page(c: Context, view: ConsentView, status = 200, keep: Record<string, string> = {}): WebResponse {
  return {
    status,
    headers: { ...securityHeaders(c.site), 'content-type': 'text/html; charset=utf-8', 'content-language': c.lang },
    cookies: c.cookies,
    body: renderConsentPage(view, c.lang, { path: c.request.path, query: keep }),
  };
}

function errorPage(c: Context, code: ConsentErrorCode, sessionAlive: boolean, status = STATUS_OF[code], keep?: Record<string, string>): WebResponse {
  return page(c, { page: 'error', code, backToStatus: sessionAlive && code !== 'session_expired' }, status, keep);
}

function redirect(c: Context, location: string): WebResponse {
  return { status: 303, headers: { ...securityHeaders(c.site), location }, cookies: c.cookies, body: '' };
}

function securityHeaders(site: ConsentSite): Record<string, string> {
  // form-action also governs where a form's redirect may lead: our own routes, then the providers.
  const formAction = ["'self'", ...site.formTargets].join(' ');
  return {
    'content-security-policy': `default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action ${formAction}; object-src 'none'`,
    'cache-control': 'no-store',
    // Invite links carry their token in the URL: no page may hand it to another site.
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    ...(site.deps.baseUrl.startsWith('https://') ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

function cookie(site: ConsentSite, name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/connect; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${site.secureCookies === false ? '' : '; Secure'}`;
}

function isKnownPath(path: string): boolean {
  return (Object.values(R) as string[]).includes(path);
}

/** Cookies of a `Cookie` header (or API Gateway's `cookies` array), first value of each name. */
export function parseCookies(values: readonly string[]): Record<string, string> {
  const cookies = new Map<string, string>();
  for (const header of values) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
    }
  }
  return Object.fromEntries(cookies);
}

function isProviderFailure(error: unknown): boolean {
  return error instanceof ProviderThrottled || error instanceof ProviderRejected || error instanceof ProviderNotFound || error instanceof ReauthorizationRequired;
}
