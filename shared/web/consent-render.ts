// Turns a ConsentView into a complete HTML document in the reader's language. The pages themselves live
// in consent-pages/; this module owns what every page shares: the document shell (no script, no inline
// style: the CSP is default-src 'self'), the skip link, the <main> landmark and the language switcher.
import { CONSENT_ROUTES, LANGUAGES, type ConsentView, type Language } from './consent-views.js';
import { renderConfirmDisconnect } from './consent-pages/confirm-disconnect.js';
import { renderError } from './consent-pages/error.js';
import { renderLanding } from './consent-pages/landing.js';
import { renderMicrosoftMailboxes } from './consent-pages/microsoft-mailboxes.js';
import type { RenderedPage } from './consent-pages/parts.js';
import { renderStatus } from './consent-pages/status.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n/catalog.js';
import { LANGUAGE_NAMES } from './language.js';

export { CONSENT_ERROR_CODES } from './consent-pages/error.js';

export interface RenderOptions {
  /** The path the page was requested at; the language links point back to it. */
  path: string;
  /** The query parameters the language links keep (the router passes `invite` on the landing page); only `invite` is honoured. */
  query?: Record<string, string>;
}

function renderView(view: ConsentView, lang: Language): RenderedPage {
  switch (view.page) {
    case 'landing':
      return renderLanding(view, lang);
    case 'status':
      return renderStatus(view, lang);
    case 'microsoft_mailboxes':
      return renderMicrosoftMailboxes(view, lang);
    case 'confirm_disconnect':
      return renderConfirmDisconnect(view, lang);
    case 'error':
      return renderError(view, lang);
  }
}

// Only a same-site absolute path: "//host" and "/\host" are read by browsers as another site.
function sitePath(path: string): string {
  const bare = path.split(/[?#]/, 1)[0] ?? '';
  return /^\/(?![/\\])[^\s\\]*$/.test(bare) ? bare : CONSENT_ROUTES.landing;
}

// The only parameter a language link may carry besides `lang`. Defence in depth: were a caller to pass
// the whole request query, an OAuth callback's `code` and `state` must not be copied into links.
const SWITCHER_KEEPS: ReadonlySet<string> = new Set(['invite']);

function languageSwitcher(lang: Language, options: RenderOptions): SafeHtml {
  const path = sitePath(options.path);
  const kept = Object.entries(options.query ?? {}).filter(([name]) => SWITCHER_KEEPS.has(name));
  const links = LANGUAGES.map((code) => {
    const query = new URLSearchParams(kept);
    query.set('lang', code);
    const current = code === lang ? html` aria-current="true"` : '';
    return html`<li><a href="${path}?${query.toString()}" lang="${code}" hreflang="${code}"${current}>${LANGUAGE_NAMES[code]}</a></li>`;
  });
  return html`<nav class="languages" aria-label="${t(lang, 'site.languages')}">
<ul>
${links}
</ul>
</nav>`;
}

export function renderConsentPage(view: ConsentView, lang: Language, options: RenderOptions): string {
  const page = renderView(view, lang);
  const document = html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${page.title} – ${t(lang, 'site.name')}</title>
<link rel="stylesheet" href="${CONSENT_ROUTES.stylesheet}">
</head>
<body>
<a class="skip-link" href="#main">${t(lang, 'site.skip')}</a>
<header class="site-header">
<div class="site-header-inner">
<p class="site-name">${t(lang, 'site.name')}</p>
${languageSwitcher(lang, options)}
</div>
</header>
<main id="main" tabindex="-1">
${page.main}
</main>
</body>
</html>
`;
  return document.toString();
}
