// Turns a ConsentView into a complete HTML document in the reader's language. The pages themselves live
// in consent-pages/, the shell every page shares in document.ts; this module picks the page and what
// the language links may keep.
import { CONSENT_ROUTES, type ConsentView, type Language } from './consent-views.js';
import { renderConfirmDisconnect } from './consent-pages/confirm-disconnect.js';
import { renderError } from './consent-pages/error.js';
import { renderLanding } from './consent-pages/landing.js';
import { renderMicrosoftMailboxes } from './consent-pages/microsoft-mailboxes.js';
import type { RenderedPage } from './consent-pages/parts.js';
import { renderSignedOut, renderStatus } from './consent-pages/status.js';
import { htmlDocument, languageSwitcher } from './document.js';
import { t } from './i18n/catalog.js';

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
    case 'signed_out':
      return renderSignedOut(lang);
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

export function renderConsentPage(view: ConsentView, lang: Language, options: RenderOptions): string {
  const page = renderView(view, lang);
  const keep = Object.entries(options.query ?? {}).filter(([name]) => SWITCHER_KEEPS.has(name));
  return htmlDocument({
    lang,
    title: page.title,
    siteName: t(lang, 'site.name'),
    stylesheet: CONSENT_ROUTES.stylesheet,
    switcher: languageSwitcher(lang, sitePath(options.path), keep),
    main: page.main,
  });
}
