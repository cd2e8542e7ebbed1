// The document shell both sites share (consent pages, ticket viewer): lang attribute, no script and no
// inline style (their CSP is default-src 'self'), the stylesheet from the site's own route, a skip link,
// the header with the language switcher, one <main>.
import { LANGUAGES, type Language } from './consent-views.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n/catalog.js';
import { LANGUAGE_NAMES } from './language.js';

/** Links to the same page in each language; `keep` are the only other parameters they carry. */
export function languageSwitcher(lang: Language, path: string, keep: ReadonlyArray<[string, string]> = []): SafeHtml {
  const links = LANGUAGES.map((code) => {
    const query = new URLSearchParams([...keep]);
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

export interface DocumentParts {
  lang: Language;
  /** The page's own title; the site's name follows it. */
  title: SafeHtml | string;
  siteName: string;
  stylesheet: string;
  /** What the header shows under the site's name, if anything. */
  tagline?: string;
  switcher: SafeHtml;
  main: SafeHtml;
}

export function htmlDocument(parts: DocumentParts): string {
  const { lang } = parts;
  const name = parts.tagline
    ? html`<div>
<p class="site-name">${parts.siteName}</p>
<p class="read-only">${parts.tagline}</p>
</div>`
    : html`<p class="site-name">${parts.siteName}</p>`;
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${parts.title} – ${parts.siteName}</title>
<link rel="stylesheet" href="${parts.stylesheet}">
</head>
<body>
<a class="skip-link" href="#main">${t(lang, 'site.skip')}</a>
<header class="site-header">
<div class="site-header-inner">
${name}
${parts.switcher}
</div>
</header>
<main id="main" tabindex="-1">
${parts.main}
</main>
</body>
</html>
`.toString();
}
