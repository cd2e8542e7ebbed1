// Turns a ViewerView into a complete HTML document in the reader's language, in the consent site's
// shell: lang attribute, skip link, one <main>, the language switcher, the stylesheet from our own
// route, and no script or inline style anywhere (the CSP is default-src 'self').
import { LANGUAGES, type Language } from './consent-views.js';
import type { RenderedPage } from './consent-pages/parts.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n/catalog.js';
import { LANGUAGE_NAMES } from './language.js';
import { renderViewerError } from './viewer-error.js';
import { renderList } from './viewer-list.js';
import { renderTicket } from './viewer-ticket.js';
import { VIEWER_ROUTES, type ViewerView } from './viewer-views.js';

export interface ViewerRenderOptions {
  /** The path the page was requested at; the language links point back to it. */
  path: string;
  /** The list's page number, which the language links keep. */
  pageNumber?: number;
}

function renderView(view: ViewerView, lang: Language): RenderedPage {
  switch (view.kind) {
    case 'list':
      return renderList(view, lang);
    case 'ticket':
      return renderTicket(view, lang);
    case 'error':
      return renderViewerError(view, lang);
  }
}

// Only a path under /tickets: the router passes the request's, which a browser may have spelled oddly.
function viewerPath(path: string): string {
  return /^\/tickets(?:\/[A-Za-z0-9_\-/]*)?$/.test(path) ? path : VIEWER_ROUTES.list;
}

function languageSwitcher(lang: Language, options: ViewerRenderOptions): SafeHtml {
  const path = viewerPath(options.path);
  const links = LANGUAGES.map((code) => {
    const query = new URLSearchParams();
    if (options.pageNumber && options.pageNumber > 1) query.set('page', String(options.pageNumber));
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

export function renderViewerPage(view: ViewerView, lang: Language, options: ViewerRenderOptions): string {
  const page = renderView(view, lang);
  const document = html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${page.title} – ${t(lang, 'viewer.site.name')}</title>
<link rel="stylesheet" href="${VIEWER_ROUTES.stylesheet}">
</head>
<body>
<a class="skip-link" href="#main">${t(lang, 'site.skip')}</a>
<header class="site-header">
<div class="site-header-inner">
<div>
<p class="site-name">${t(lang, 'viewer.site.name')}</p>
<p class="read-only">${t(lang, 'viewer.site.readOnly')}</p>
</div>
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
