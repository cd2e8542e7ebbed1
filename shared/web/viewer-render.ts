// Turns a ViewerView into a complete HTML document in the reader's language, in the consent site's
// shell: lang attribute, skip link, one <main>, the language switcher, the stylesheet from our own
// route, and no script or inline style anywhere (the CSP is default-src 'self').
import type { Language } from './consent-views.js';
import type { RenderedPage } from './consent-pages/parts.js';
import { htmlDocument, languageSwitcher } from './document.js';
import { t } from './i18n/catalog.js';
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

export function renderViewerPage(view: ViewerView, lang: Language, options: ViewerRenderOptions): string {
  const page = renderView(view, lang);
  const keep: Array<[string, string]> = options.pageNumber && options.pageNumber > 1 ? [['page', String(options.pageNumber)]] : [];
  return htmlDocument({
    lang,
    title: page.title,
    siteName: t(lang, 'viewer.site.name'),
    tagline: t(lang, 'viewer.site.readOnly'),
    stylesheet: VIEWER_ROUTES.stylesheet,
    switcher: languageSwitcher(lang, viewerPath(options.path), keep),
    main: page.main,
  });
}
