// A message body on the ticket page. HTML mail is shown in a sandboxed <iframe srcdoc>, not in the
// page itself, although what is stored is already sanitized (no script, handler, style, form or
// remote resource): the frame is the second wall should a sanitizer bypass ever slip through.
//   - `sandbox` with no permission: no script runs, no form submits, no popup opens, nothing navigates
//     the page, and the frame's origin is opaque, so it can read neither the page nor its cookie;
//   - its own CSP (default-src 'none'; data: images only) on top of the page's, which srcdoc inherits;
//   - the mail's markup (its headings, its lang) stays out of the page's outline for screen readers.
// Plain-text mail is escaped into a <pre>; so is the text part shown beside an HTML one.
import { sanitizeEmailHtmlForDisplay } from '../domain/sanitize.js';
import type { MessageView } from '../domain/tickets.js';
import type { Language } from './consent-views.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n/catalog.js';

/** The frame document's own policy; the page's CSP (img-src 'self' data:) applies as well. */
export const MAIL_FRAME_CSP = "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'";

/** The complete document a frame shows: a plain string, escaped whole into the srcdoc attribute. */
export function mailFrameDocument(storedHtml: string): string {
  return [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${MAIL_FRAME_CSP}">`,
    '<meta name="referrer" content="no-referrer">',
    '</head><body>',
    sanitizeEmailHtmlForDisplay(storedHtml),
    '</body></html>',
  ].join('');
}

export function messageBody(lang: Language, message: MessageView, number: number): SafeHtml {
  const text = message.text.trimEnd();
  if (message.html !== null) {
    const plain = text.trim() !== '' && html`<details class="plain-text">
<summary>${t(lang, 'viewer.body.plainText')}</summary>
<pre class="mail-text">${text}</pre>
</details>`;
    // srcdoc is an attribute like any other: the template escapes the whole document into it.
    return html`<iframe class="mail-frame" sandbox="" referrerpolicy="no-referrer" title="${t(lang, 'viewer.body.frameTitle', { number: String(number) })}" srcdoc="${mailFrameDocument(message.html)}"></iframe>
<p class="note">${t(lang, 'viewer.body.isolated')}</p>
${plain}`;
  }
  if (text.trim()) return html`<pre class="mail-text">${text}</pre>`;
  return html`<p class="note">${t(lang, 'viewer.body.empty')}</p>`;
}
