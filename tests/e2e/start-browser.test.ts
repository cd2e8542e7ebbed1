// npm start (a child process, as the README runs it) in Chromium. The consent page clicked through:
// an invited admin connects a Gmail mailbox through Google's authorization-code flow with
// PKCE and Microsoft 365 mailboxes through an admin sign-in and admin consent — at the sandbox's fake
// authorization servers, with the real google-auth-library and msal-node — sees them in the status
// view, disconnects one after a fresh sign-in, and signs out. Every page state passes axe (no serious or
// critical violation) under its real CSP; every forged, replayed, tampered or stale request is refused
// with a localized page.
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../shared/domain/consent/tokens.js';
import { NpmStartHarness, ROOT, until } from '../support/npm-start.js';
import { expectAccessible, launchChromium } from '../support/browser.js';

const harness = new NpmStartHarness({ MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS: '5', MAIL2TICKET_REQUEST_TIMEOUT_MS: '1500' });
const { start, healthy, cli, json, outputOf } = harness;
let npmStart: ReturnType<typeof start>;
let browser: Browser;
const base = () => `http://127.0.0.1:${harness.port}`;

interface Mailbox {
  mailboxId: string;
  provider: string;
  status: string;
  purgeBy?: string;
}

async function invite(): Promise<string> {
  return (await json<{ url: string }>('tenants', 'invite', 'default')).url;
}

/** A fresh browser profile whose every CSP violation and page error is collected. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  // The fake Microsoft identity platform serves HTTPS (msal accepts nothing else) under a throwaway
  // test CA this browser profile cannot be told about; the real clients in npm start verify it.
  const context = await browser.newContext({ locale: 'en-GB', ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { context, page, problems };
}

beforeAll(async () => {
  await harness.setup('m2t-consent-');
  npmStart = start();
  await healthy();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await harness.teardown();
}, 60_000);

describe('consent page in Chromium', () => {
  it('connects a Gmail mailbox through Google with PKCE, then disconnects it after a fresh sign-in, in English, accessibly', async () => {
    const { context, page, problems } = await freshPage();
    const link = await invite();
    const callbacks: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/connect/google/callback')) callbacks.push(request.url());
    });

    const landing = await page.goto(link);
    expect(landing?.status()).toBe(200);
    expect(landing?.headers()['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expect.poll(() => page.locator('h1').textContent()).toContain('Sandbox demo');
    // What is asked for, and the promises that go with it.
    const text = await page.locator('main').innerText();
    for (const promise of ['AES-256', 'TLS', '30 days', 'one year']) expect(text).toContain(promise);
    await expectAccessible(page, 'landing');
    // Opening the link twice (a mail scanner's prefetch) does not use it up.
    expect((await page.reload())?.status()).toBe(200);

    await page.getByRole('button', { name: 'Connect Google Workspace or Gmail' }).click();
    // Google's consent screen (the fake's), reached through a 303 with PKCE S256 and offline access.
    await page.waitForURL(/\/o\/oauth2\/v2\/auth\?/);
    const authorize = new URL(page.url());
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('access_type')).toBe('offline');
    expect(authorize.searchParams.get('prompt')).toBe('consent');
    expect(authorize.searchParams.get('scope')?.split(' ').sort()).toEqual(['https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/gmail.send']);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base()}/connect/google/callback`);
    await page.getByRole('button', { name: 'Continue as sales@sandbox-gmail.example' }).click();

    await page.waitForURL(/\/connect\/status\?notice=connected/);
    const row = page.getByRole('row').filter({ hasText: 'sales@sandbox-gmail.example' });
    await expect.poll(() => row.innerText()).toContain('Connected');
    await expectAccessible(page, 'status with a connected mailbox');
    const mailboxes = await json<Mailbox[]>('mailboxes', 'list');
    const connected = mailboxes.filter((m) => m.provider === 'gmail' && m.status === 'connected' && m.mailboxId.startsWith('gmail-0'));
    expect(connected).toHaveLength(1);

    // The authorization code cannot be redeemed twice: the callback replayed is refused as a replay.
    expect(callbacks).toHaveLength(1);
    const replay = await page.goto(callbacks[0] as string);
    expect(replay?.status()).toBe(400);
    expect(await page.locator('h1').innerText()).not.toBe('');
    expect(await page.content()).not.toMatch(/at \w+ \(|Error:|stack/i);
    await expectAccessible(page, 'error page (replayed state)');

    // Disconnect: a fresh Google sign-in of that account, then a confirmation with the deadline.
    await page.goto(`${base()}/connect/status`);
    await page.getByRole('button', { name: /Disconnect.*sales@sandbox-gmail\.example/ }).click();
    await page.waitForURL(/\/o\/oauth2\/v2\/auth\?/);
    const confirmAuthorize = new URL(page.url());
    expect(confirmAuthorize.searchParams.get('scope')).toBe('openid email');
    expect(confirmAuthorize.searchParams.get('login_hint')).toBe('sales@sandbox-gmail.example');
    await page.getByRole('button', { name: 'Continue as sales@sandbox-gmail.example' }).click();
    await page.waitForURL(/\/connect\/google\/callback/);
    const deadline = new Date(Date.now() + 30 * 86_400_000).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
    expect(await page.locator('main').innerText()).toContain(deadline);
    await expectAccessible(page, 'confirm disconnect');
    await page.getByRole('button', { name: 'Disconnect and delete' }).click();
    await page.waitForURL(/\/connect\/status\?notice=disconnected/);
    // The address went with the credentials; the row shows the state and the deletion date.
    const gone = page.getByRole('row').filter({ hasText: 'Disconnected' });
    await expect.poll(() => gone.count()).toBe(1);
    expect(await gone.innerText()).toContain(deadline);
    await expectAccessible(page, 'status after disconnect');
    const after = (await json<Mailbox[]>('mailboxes', 'list')).find((m) => m.mailboxId === connected[0]?.mailboxId);
    expect(after).toMatchObject({ status: 'disconnected' });
    expect(Date.parse(after?.purgeBy ?? '') - Date.now()).toBeLessThanOrEqual(30 * 86_400_000);

    // Signing out ends the session: the status page no longer opens in this browser.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/connect\/sign-out$/);
    expect(await page.locator('h1').innerText()).toBe('You are signed out');
    await expectAccessible(page, 'signed out');
    const back = await page.goto(`${base()}/connect/status`);
    expect(back?.status()).toBe(401);

    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it('connects Microsoft 365 mailboxes through an admin sign-in and admin consent, in Swedish, refusing addresses outside the verified domains', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(`${await invite()}&lang=sv`);
    expect(await page.getAttribute('html', 'lang')).toBe('sv');
    await expectAccessible(page, 'landing (sv)');
    await page.locator('form', { has: page.locator('input[name="provider"][value="microsoft"]') }).getByRole('button').click();

    await page.waitForURL(/\/oauth2\/v2\.0\/authorize\?/);
    const authorize = new URL(page.url());
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    await page.getByRole('button', { name: 'Sign in as admin@sandbox-m365.example' }).click();
    await page.waitForURL(/\/v2\.0\/adminconsent\?/);
    expect(new URL(page.url()).searchParams.get('scope')).toBe('https://graph.microsoft.com/.default');
    await page.getByRole('button', { name: 'Accept as admin@sandbox-m365.example' }).click();

    await page.waitForURL(/\/connect\/microsoft\/callback/);
    expect(await page.getAttribute('html', 'lang')).toBe('sv');
    expect(await page.locator('main').innerText()).toContain('sandbox-m365.example');
    await expectAccessible(page, 'microsoft mailboxes (sv)');
    const addresses = page.locator('textarea[name="addresses"]');
    await addresses.fill('sales@sandbox-m365.example, someone@elsewhere.example');
    await page.locator('form', { has: addresses }).getByRole('button').click();
    // Nothing connected yet: the foreign address is shown refused, the list kept for correction.
    await expect.poll(() => page.locator('main').innerText()).toContain('someone@elsewhere.example');
    await expectAccessible(page, 'microsoft mailboxes with a refused address (sv)');
    await addresses.fill('sales@sandbox-m365.example');
    await page.locator('form', { has: addresses }).getByRole('button').click();

    await page.waitForURL(/\/connect\/status\?notice=connected/);
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'sales@sandbox-m365.example' }).count()).toBe(1);
    const graph = (await json<Mailbox[]>('mailboxes', 'list')).filter((m) => m.provider === 'graph' && m.status === 'connected');
    expect(graph.map((m) => m.mailboxId)).toEqual(expect.arrayContaining(['m365-demo']));
    expect(graph).toHaveLength(2);

    // The new mailbox works end to end: mail to it becomes a ticket through the fake's notification.
    const send = await cli('sandbox', 'send', join(ROOT, 'tests/fixtures/mail/plain-text.eml'), '--mailbox', 'sales@sandbox-m365.example');
    expect(send.code).toBe(0);
    const salesId = graph.find((m) => m.mailboxId !== 'm365-demo')?.mailboxId as string;
    await until('a ticket in the consent-connected mailbox', async () => ((await json<Array<{ mailboxId: string }>>('tickets', 'list', '--mailbox', salesId)).length > 0 ? true : undefined), 60_000);

    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);

  it('reconnects a Gmail mailbox whose authorization lapsed: new tokens replace the old, and mail flows again', async () => {
    // Google ends the demo mailbox's grant (an app in "Testing" status after 7 days); the next sync notices.
    expect((await cli('sandbox', 'revoke', '--mailbox', 'support@sandbox-gmail.example')).code).toBe(0);
    await cli('mailboxes', 'sync', 'gmail-demo');
    const lapsed = (await json<Mailbox[]>('mailboxes', 'list')).find((m) => m.mailboxId === 'gmail-demo');
    expect(lapsed?.status).toBe('reauthorization_required');

    const { context, page, problems } = await freshPage();
    await page.goto(await invite());
    await page.locator('form', { has: page.locator('input[name="provider"][value="google"]') }).getByRole('button').click();
    await page.getByRole('button', { name: 'Cancel' }).click(); // only to reach the status page with a session
    await page.goto(`${base()}/connect/status`);
    const row = page.getByRole('row').filter({ hasText: 'support@sandbox-gmail.example' });
    expect(await row.innerText()).toMatch(/reauthori[sz]ation/i);
    await expectAccessible(page, 'status with a mailbox needing reauthorization');
    await row.getByRole('button', { name: /Reconnect/ }).click();
    await page.waitForURL(/\/o\/oauth2\/v2\/auth\?/);
    expect(new URL(page.url()).searchParams.get('login_hint')).toBe('support@sandbox-gmail.example');
    await page.getByRole('button', { name: 'Continue as support@sandbox-gmail.example' }).click();
    await page.waitForURL(/\/connect\/status\?notice=reconnected/);
    await expect.poll(() => row.innerText()).toContain('Connected');
    expect((await json<Mailbox[]>('mailboxes', 'list')).find((m) => m.mailboxId === 'gmail-demo')?.status).toBe('connected');
    const synced = await json<{ outcome: string }>('mailboxes', 'sync', 'gmail-demo');
    expect(synced.outcome).toBe('synced');
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('refuses an admin consent callback that names another directory than the signed-in admin\'s', async () => {
    const { context, page } = await freshPage();
    await page.goto(await invite());
    // The consent redirect comes back naming a directory of the attacker's choosing: the fake's answer
    // to the Accept is fetched, and its Location rewritten before the browser follows it.
    await page.route(/\/Consent\/Set/, async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      const location = new URL(answer.headers()['location'] as string);
      expect(location.searchParams.get('admin_consent')).toBe('True');
      location.searchParams.set('tenant', '11111111-2222-3333-4444-555555555555');
      await route.fulfill({ status: 302, headers: { location: location.toString() } });
    });
    await page.getByRole('button', { name: 'Connect Microsoft 365' }).click();
    await page.getByRole('button', { name: 'Sign in as admin@sandbox-m365.example' }).click();
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/connect/microsoft/callback')),
      page.getByRole('button', { name: 'Accept as admin@sandbox-m365.example' }).click(),
    ]);
    expect(refused.status()).toBe(403);
    expect(await page.locator('h1').innerText()).toBe('Consent was given for another directory');
    await expectAccessible(page, 'error page (wrong directory)');
    await context.close();
  }, 120_000);

  it('refuses a non-administrator, and a cancelled Google consent, with localized pages', async () => {
    const { context, page } = await freshPage();
    await page.goto(`${await invite()}&lang=nl`);
    await page.locator('form', { has: page.locator('input[name="provider"][value="microsoft"]') }).getByRole('button').click();
    await page.getByRole('button', { name: 'Sign in as agent@sandbox-m365.example' }).click();
    await page.waitForURL(/\/connect\/microsoft\/callback/);
    expect(await page.getAttribute('html', 'lang')).toBe('nl');
    await expectAccessible(page, 'error page (not admin, nl)');
    const notAdmin = await page.locator('main').innerText();

    await page.goto(`${base()}/connect/status?lang=fr`);
    await page.locator('form', { has: page.locator('input[name="provider"][value="google"]') }).first().getByRole('button').click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/\/connect\/google\/callback\?.*error=access_denied/);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    const denied = await page.locator('main').innerText();
    expect(denied).not.toBe(notAdmin);
    await expectAccessible(page, 'error page (access denied, fr)');
    await context.close();
  }, 120_000);

  it('creates a tenant and invites its admin from the CLI, with the contract\'s JSON', async () => {
    const tenant = await json<{ id: string; name: string }>('tenants', 'create', 'Acme Support AB');
    expect(tenant).toMatchObject({ id: expect.stringMatching(/^t-[0-9a-z]{26}$/), name: 'Acme Support AB' });
    const issued = await json<{ url: string; id: string; tenantId: string; expiresAt: string }>('tenants', 'invite', tenant.id, '--expires', '2d');
    expect(issued.url.startsWith(`${base()}/connect?invite=${tenant.id}.`)).toBe(true);
    expect(Math.abs(Date.parse(issued.expiresAt) - Date.now() - 2 * 86_400_000)).toBeLessThan(60_000);
    const { context, page } = await freshPage();
    await page.goto(issued.url);
    await expect.poll(() => page.locator('h1').textContent()).toContain('Acme Support AB');
    await context.close();
    expect((await json<Array<{ id: string }>>('tenants', 'list')).map((t) => t.id)).toContain(tenant.id);
    const unknown = await cli('tenants', 'invite', 't-nosuchtenant');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no tenant t-nosuchtenant');
  }, 60_000);

  it('refuses tampered, expired, used and revoked invites, a state without a stored verifier, and a POST without CSRF token', async () => {
    const { context, page } = await freshPage();
    const link = await invite();
    const token = new URL(link).searchParams.get('invite') as string;
    const [tenantId, inviteId, expires, signature] = token.split('.') as [string, string, string, string];

    const tampered = await page.goto(`${base()}/connect?invite=${[tenantId, inviteId, String(Number(expires) + 3600), signature].join('.')}&lang=fr`);
    expect(tampered?.status()).toBe(400);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.content()).not.toMatch(/at \w+ \(|Error:/);

    // An expired link signed with the stack's own key: refused by its signed date.
    const key = await readFile(join(harness.dataDir, 'consent', 'signing.key'));
    const past = String(Math.floor(Date.now() / 1000) - 60);
    const expired = await page.goto(`${base()}/connect?invite=${[tenantId, inviteId, past, sign(key, 'invite', tenantId, inviteId, past)].join('.')}`);
    expect(expired?.status()).toBe(410);

    const revoked = await json<{ url: string; id: string }>('tenants', 'invite', 'default');
    expect((await cli('tenants', 'invite', 'revoke', revoked.id)).code).toBe(0);
    expect((await page.goto(revoked.url))?.status()).toBe(410);
    const revokedText = await page.locator('main').innerText();

    // Used: one browser starts a session with it; another browser then meets a used link.
    await page.goto(link);
    await page.locator('form', { has: page.locator('input[name="provider"][value="google"]') }).getByRole('button').click();
    await page.waitForURL(/\/o\/oauth2\/v2\/auth\?/);
    const other = await freshPage();
    expect((await other.page.goto(link))?.status()).toBe(410);
    expect(await other.page.locator('main').innerText()).not.toBe(revokedText);
    await other.context.close();

    // With that session: a state we never issued (so no verifier stored) is refused…
    const forged = await page.goto(`${base()}/connect/google/callback?state=${'A'.repeat(43)}&code=4%2F0forged`);
    expect(forged?.status()).toBe(400);
    // …and so is a POST without the CSRF token, or with another session's.
    const noCsrf = await page.request.post(`${base()}/connect/start`, { form: { provider: 'google' }, maxRedirects: 0 });
    expect(noCsrf.status()).toBe(403);
    const badCsrf = await page.request.post(`${base()}/connect/disconnect`, { form: { mailbox: 'gmail-demo', csrf: 'x'.repeat(43) }, maxRedirects: 0 });
    expect(badCsrf.status()).toBe(403);
    // Without any session, a callback is refused before anything is looked up.
    const anonymous = await freshPage();
    expect((await anonymous.page.goto(`${base()}/connect/status`))?.status()).toBe(401);
    await expectAccessible(anonymous.page, 'error page (no session)');
    await anonymous.context.close();
    await context.close();
  }, 120_000);

  it('sets the session cookie Secure, HttpOnly and SameSite=Lax, and keeps tokens out of URLs it makes', async () => {
    const { context, page } = await freshPage();
    await page.goto(await invite());
    const response = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/connect/start')), page.getByRole('button', { name: 'Connect Microsoft 365' }).click()]).then(([r]) => r);
    const setCookie = (await response.headerValue('set-cookie')) ?? '';
    expect(setCookie).toMatch(/m2t_session=[^;]+;.*HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(response.headers()['referrer-policy']).toBe('no-referrer');
    const cookies = await context.cookies(`${base()}/connect/status`);
    expect(cookies.find((c) => c.name === 'm2t_session')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });
    // The provider got a state and a challenge, never our cookie value or verifier.
    const session = cookies.find((c) => c.name === 'm2t_session')?.value as string;
    expect(page.url()).not.toContain(session);
    await context.close();
  }, 60_000);
});

interface SandboxStats {
  gmail: { pushes: { sent: number; byStatus: Record<string, number> }; fake: { rawFetches: number } };
  graph: { notifications: { posted: number; byStatus: Record<string, number> }; fake: { valueFetches: number } };
}

async function sandboxStats(): Promise<SandboxStats> {
  const response = await fetch(`${base()}/sandbox/stats`, { headers: { 'x-mail2ticket-sandbox': '1' } });
  expect(response.status).toBe(200);
  return (await response.json()) as SandboxStats;
}

describe('ticket viewer of npm start in Chromium', () => {
  it('shows mail sent to both sandbox mailboxes, each having come through a push and a raw fetch at the fake', async () => {
    const before = await sandboxStats();
    const subjects = { gmail: `Viewer check Gmail ${Date.now()}`, graph: `Viewer check M365 ${Date.now()}` };
    for (const [provider, address] of [['gmail', 'support@sandbox-gmail.example'], ['graph', 'support@sandbox-m365.example']] as const) {
      const file = join(harness.dataDir, `${provider}.eml`);
      await writeFile(file, [`From: Dana <dana@customer.example>`, `To: ${address}`, `Subject: ${subjects[provider]}`, `Message-ID: <${provider}-${Date.now()}@customer.example>`, 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', '<p>Hello <b>viewer</b><img src="https://tracker.example/pixel.gif" width="1" height="1"></p>', ''].join('\r\n'));
      expect((await cli('sandbox', 'send', file, '--mailbox', address)).code).toBe(0);
    }
    const tickets = await until('both tickets', async () => {
      const listed = await json<Array<{ ticketId: string; subject: string }>>('tickets', 'list');
      return Object.values(subjects).every((subject) => listed.some((t) => t.subject === subject)) ? listed : undefined;
    }, 60_000);
    // No shortcut past the webhook: the fakes notified (answered 2xx) and served the raw message.
    const after = await sandboxStats();
    expect(after.gmail.pushes.sent).toBeGreaterThan(before.gmail.pushes.sent);
    expect(after.gmail.pushes.byStatus['204'] ?? 0).toBeGreaterThan(before.gmail.pushes.byStatus['204'] ?? 0);
    expect(after.gmail.fake.rawFetches).toBeGreaterThan(before.gmail.fake.rawFetches);
    expect(after.graph.notifications.posted).toBeGreaterThan(before.graph.notifications.posted);
    expect(after.graph.fake.valueFetches).toBeGreaterThan(before.graph.fake.valueFetches);

    const loginUrl = /tickets: +(http:\/\/127\.0\.0\.1:\d+\/tickets\/login\?token=\S+)/.exec(outputOf(npmStart))?.[1];
    expect(loginUrl).toBeDefined();
    const { context, page, problems } = await freshPage();
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base()) && !request.url().startsWith('data:') && request.url() !== 'about:srcdoc') outside.push(request.url());
    });
    await page.goto(loginUrl as string);
    await page.waitForURL(`${base()}/tickets`);
    for (const subject of Object.values(subjects)) await expect.poll(() => page.getByRole('link', { name: subject }).count()).toBe(1);
    await expectAccessible(page, 'ticket list');
    await page.getByRole('link', { name: subjects.graph }).click();
    await page.waitForURL(new RegExp(`/tickets/${tickets.find((t) => t.subject === subjects.graph)?.ticketId}`));
    await expect.poll(() => page.frameLocator('iframe').locator('body').innerText()).toContain('Hello viewer');
    await expectAccessible(page, 'ticket');
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});

describe('npm start against a slow-loris client', () => {
  it('answers a webhook body trickled past the request timeout with 408, and no handler sees it', async () => {
    const webhookCounts = async () => {
      const response = await fetch(`${base()}/sandbox/stats`, { headers: { 'x-mail2ticket-sandbox': '1' } });
      const stats = (await response.json()) as { graphConnector: { webhook: Record<string, number> } };
      return JSON.stringify(stats.graphConnector.webhook);
    };
    const before = await webhookCounts();
    const socket = connect(harness.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => void (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`POST /webhooks/graph HTTP/1.1\r\nHost: 127.0.0.1:${harness.port}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"value":[`);
    // A byte every 400 ms: the body would take half an hour to arrive.
    const trickle = setInterval(() => socket.write(' '), 400);
    const started = Date.now();
    try {
      await closed;
    } finally {
      clearInterval(trickle);
    }
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await webhookCounts()).toBe(before);
  }, 30_000);
});
