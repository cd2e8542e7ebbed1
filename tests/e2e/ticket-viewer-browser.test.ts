// The ticket viewer in headless Chromium, served in process over a local stack with the test run's
// real clamd: the operator signs in with the printed link, reads the list and a thread, and opens a
// ticket whose HTML is hostile (scripts that alert and navigate, handlers, a remote stylesheet, a
// remote banner, a tracking pixel, a refresh to a phishing page). Nothing of it runs, no request
// leaves 127.0.0.1, no CSP violation is reported, and every page state passes axe under its real CSP.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { loadLocalConfig } from '../../shared/config.js';
import { ingestMessage, type IngestResult } from '../../shared/domain/ingest.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { createTicketViewer, type TicketViewer } from '../../shared/local/ticket-viewer.js';
import { expectAccessible, launchChromium } from '../support/browser.js';
import { clamdSocket } from '../support/clamd.js';

const MAIL = join(import.meta.dirname, '../fixtures/mail');
const TENANT = 'default';

let dataDir: string;
let stack: LocalStack;
let server: Server;
let viewer: TicketViewer;
let origin: string;
let browser: Browser;
const ingested: Record<string, IngestResult> = {};

interface Watched {
  context: BrowserContext;
  page: Page;
  /** Every request the page and its frames made. */
  requests: string[];
  /** Console messages (the pages have no script: any message is a CSP report or a blocked script), page errors, dialogs. */
  problems: string[];
}

/** A fresh browser profile in which every request, console message, page error and dialog is recorded. */
async function watchedPage(locale = 'en-GB'): Promise<Watched> {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    // Chromium logs every 4xx page load; their statuses are asserted where they are expected.
    if (!/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    // Recorded already; the dialog may be gone (its page closed, another dialog replaced it) before the
    // dismissal arrives, and Chromium's "No dialog is showing" then is no finding.
    dialog.dismiss().catch(() => undefined);
  });
  return { context, page, requests, problems };
}

async function mailFrame(page: Page): Promise<Frame> {
  const frame = await (await page.locator('iframe.mail-frame').elementHandle())?.contentFrame();
  expect(frame, 'the mail frame').toBeTruthy();
  return frame as Frame;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-viewer-browser-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new ClamdScanner({ socketPath: clamdSocket() }) });
  await stack.deps.repo.putMailbox({ tenantId: TENANT, mailboxId: 'default', provider: 'local', status: 'connected', createdAt: new Date().toISOString() });
  let minute = 0;
  for (const file of ['plain-text.eml', 'attach-eicar-plain.eml', 'gmail-html-alternative.eml', 'inline-cid-image.eml', 'html-hostile.eml', 'reply-from-new-participant.eml']) {
    const raw = await readFile(join(MAIL, file));
    const receivedAt = new Date(Date.UTC(2026, 10, 24, 9, minute++));
    ingested[file] = await ingestMessage(stack.deps, Readable.from([raw]), { tenantId: TENANT, mailboxId: 'default', receivedAt });
  }
  server = createServer((req, res) => {
    void viewer.serve(req, res, new URL(req.url ?? '/', 'http://127.0.0.1'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  viewer = createTicketViewer(stack, { tenantId: TENANT, port });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('ticket viewer in Chromium', () => {
  it('signs in with the printed link, lists the tickets, shows a thread and renders hostile mail inert, accessibly', async () => {
    const { context, page, requests, problems } = await watchedPage();

    // Before signing in: the localized explanation, not the tickets.
    const refused = await page.goto(`${origin}/tickets`);
    expect(refused?.status()).toBe(401);
    expect(await page.locator('h1').innerText()).toBe('Sign in with the link from npm start');
    await expectAccessible(page, 'viewer 401');

    const list = await page.goto(viewer.loginUrl);
    expect(page.url()).toBe(`${origin}/tickets`);
    expect(list?.status()).toBe(200);
    const session = (await context.cookies()).find((c) => c.name === 'm2t_viewer');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/tickets' });
    expect(await page.locator('h1').innerText()).toBe('Tickets of tenant default');
    const subjects = await page.locator('tbody th[scope="row"] a').allInnerTexts();
    expect(subjects).toEqual([
      'Printer on floor 3 is jammed',
      'Action required: mailbox quota',
      'Error dialog when opening the expense app',
      'VPN keeps disconnecting every 10 minutes',
      'Tool download',
    ]);
    await expectAccessible(page, 'ticket list');

    // A thread, oldest first, with the new-participant notice.
    await page.getByRole('link', { name: 'Printer on floor 3 is jammed' }).click();
    await page.waitForURL(`${origin}/tickets/${ingested['plain-text.eml']?.ticketId}`);
    const articles = page.locator('article.message');
    expect(await articles.count()).toBe(2);
    expect(await articles.nth(0).innerText()).toContain('PHRASE-PLAIN-7f3a');
    expect(await articles.nth(1).innerText()).toContain('Someone new joined the conversation.');
    await expectAccessible(page, 'plain-text thread');

    // The hostile mail.
    await page.getByRole('link', { name: 'Back to all tickets' }).click();
    await page.getByRole('link', { name: 'Action required: mailbox quota' }).click();
    await page.waitForURL(`${origin}/tickets/${ingested['html-hostile.eml']?.ticketId}`);
    const frame = await mailFrame(page);
    await expect.poll(() => frame.locator('body').innerText()).toContain('PHRASE-HOSTILE-0b9e');
    // Inert: sandboxed to an opaque origin, no script or image left in it, and the page stays where it is.
    const inside = await frame.evaluate(() => {
      const { origin, document } = globalThis as unknown as { origin: string; document: { scripts: unknown[]; images: unknown[]; forms: unknown[] } };
      return [origin, document.scripts.length, document.images.length, document.forms.length];
    });
    expect(inside).toEqual(['null', 0, 0, 0]);
    expect(await page.locator('iframe.mail-frame').getAttribute('sandbox')).toBe('');
    await expectAccessible(page, 'hostile HTML ticket');
    // Give a refresh, a redirect or a late load the time to happen, then check that none did.
    await page.waitForTimeout(1500);
    expect(page.url()).toBe(`${origin}/tickets/${ingested['html-hostile.eml']?.ticketId}`);
    expect(await (await mailFrame(page)).locator('body').innerText()).toContain('PHRASE-HOSTILE-0b9e');

    // An HTML mail with an inline image and the infected attachment's thread, too.
    for (const file of ['gmail-html-alternative.eml', 'inline-cid-image.eml', 'attach-eicar-plain.eml']) {
      await page.goto(`${origin}/tickets/${ingested[file]?.ticketId}`);
      await expectAccessible(page, file);
    }
    expect(await page.getByRole('link', { name: /eicar/i }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Download clean.pdf' }).count()).toBe(1);

    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(`${origin}/`) && url !== 'about:srcdoc')).toEqual([]);
    await context.close();
  }, 180_000);

  it('reads French and Swedish from the browser and the switcher, accessibly', async () => {
    const { context, page, problems } = await watchedPage('fr-FR');
    await page.goto(viewer.loginUrl.replace(/token=.*/, 'token=used-or-wrong'));
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.locator('h1').innerText()).toBe('Ce lien de connexion ne peut pas être utilisé');
    await expectAccessible(page, 'viewer link refused (fr)');

    await page.getByRole('link', { name: 'Svenska' }).click();
    expect(await page.getAttribute('html', 'lang')).toBe('sv');
    expect(await page.locator('h1').innerText()).toBe('Den här inloggningslänken kan inte användas');
    await expectAccessible(page, 'viewer link refused (sv)');
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});
