// Pieces several consent pages share: POST forms carrying the CSRF token, dates in <time>, provider
// names, and Google's "what to expect" notice (landing page, and status page next to a Gmail mailbox
// that needs reauthorization).
import { CONSENT_ROUTES, type Language, type ProviderName } from '../consent-views.js';
import { html, joinHtml, type HtmlValue, type SafeHtml } from '../html.js';
import { formatDate, formatDateTime, messageSegments, paramValue, t, type MessageKey, type ParamName } from '../i18n/catalog.js';

/** What a page contributes to the document: its <title> text and the content of <main>. */
export interface RenderedPage {
  title: string;
  main: SafeHtml;
}

/**
 * A form that works without JavaScript: POST, the CSRF token and the view's one-time fields as hidden
 * inputs (never in the URL), and one real submit button.
 */
export function postForm(input: {
  action: string;
  csrfToken: string;
  fields?: Record<string, string>;
  button: HtmlValue;
  buttonClass?: 'secondary' | 'danger';
}): SafeHtml {
  const hidden = Object.entries(input.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return html`<form method="post" action="${input.action}">
<input type="hidden" name="csrf" value="${input.csrfToken}">
${joinHtml(hidden, '\n')}
<button type="submit"${input.buttonClass ? html` class="${input.buttonClass}"` : ''}>${input.button}</button>
</form>`;
}

/** Like t(), but parameters may be markup (a <time>, an address in <span>); text parameters are escaped. */
export function tHtml<K extends MessageKey>(lang: Language, key: K, params: Record<ParamName<K>, HtmlValue>): SafeHtml {
  const values: Record<string, HtmlValue> = params;
  return joinHtml(messageSegments(lang, key).map((segment, i) => (i % 2 === 0 ? segment : paramValue(values, segment, lang, key))));
}

/**
 * A link to another consent page that keeps the reader's language: a language picked in the switcher
 * would otherwise fall back to Accept-Language on the next page.
 */
export function routeLink(route: string, lang: Language): string {
  return `${route}?lang=${lang}`;
}

/** The start route's `provider` value for a stored mailbox's provider. */
export function startProvider(provider: ProviderName): 'google' | 'microsoft' {
  return provider === 'gmail' ? 'google' : 'microsoft';
}

export function providerName(lang: Language, provider: ProviderName): string {
  return provider === 'gmail' ? t(lang, 'provider.gmail') : t(lang, 'provider.graph');
}

/** A calendar date, machine-readable in `datetime` for assistive tech and tests. */
export function dateHtml(lang: Language, iso: string): SafeHtml {
  return html`<time datetime="${iso}">${formatDate(lang, iso)}</time>`;
}

export function dateTimeHtml(lang: Language, iso: string): SafeHtml {
  return html`<time datetime="${iso}">${formatDateTime(lang, iso)}</time>`;
}

/** Buttons to connect a new mailbox, one per provider (the landing page adds the invite). */
export function connectForm(lang: Language, csrfToken: string, provider: 'google' | 'microsoft', extra: Record<string, string> = {}): SafeHtml {
  return postForm({
    action: CONSENT_ROUTES.start,
    csrfToken,
    fields: { ...extra, provider },
    button: provider === 'google' ? t(lang, 'connect.google') : t(lang, 'connect.microsoft'),
  });
}

export const GOOGLE_NOTICE_ID = 'google-notice';

export function googleNotice(lang: Language, level: 2 | 4): SafeHtml {
  const heading = t(lang, 'googleNotice.heading');
  return html`<section class="card" id="${GOOGLE_NOTICE_ID}" aria-labelledby="${GOOGLE_NOTICE_ID}-heading">
${level === 2 ? html`<h2 id="${GOOGLE_NOTICE_ID}-heading">${heading}</h2>` : html`<h4 id="${GOOGLE_NOTICE_ID}-heading">${heading}</h4>`}
<ul>
<li>${t(lang, 'googleNotice.restricted')}</li>
<li>${t(lang, 'googleNotice.testing')}</li>
<li>${t(lang, 'googleNotice.trusted')}</li>
</ul>
</section>`;
}
