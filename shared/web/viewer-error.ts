// An error page per ViewerErrorCode: a title and what to do next, in the reader's language, never a
// technical detail (the view carries none).
import type { Language } from './consent-views.js';
import type { RenderedPage } from './consent-pages/parts.js';
import { html } from './html.js';
import { t } from './i18n/catalog.js';
import { blockedText } from './viewer-ticket.js';
import { VIEWER_ROUTES, type ViewerErrorCode, type ViewerView } from './viewer-views.js';

type ErrorView = Extract<ViewerView, { kind: 'error' }>;

// Exhaustive at compile time, so a new code cannot ship without its texts.
const CODES = {
  unauthorized: true,
  link_invalid: true,
  not_found: true,
  not_servable: true,
  misdirected: true,
  read_only: true,
  internal: true,
} satisfies Record<ViewerErrorCode, true>;

export const VIEWER_ERROR_CODES = Object.keys(CODES) as ViewerErrorCode[];

export function renderViewerError(view: ErrorView, lang: Language): RenderedPage {
  const title = t(lang, `viewer.error.${view.code}.title`);
  const main = html`<h1>${title}</h1>
${view.blocked ? html`<p class="lead">${blockedText(lang, view.blocked)}</p>` : false}
<p${view.blocked ? '' : html` class="lead"`}>${t(lang, `viewer.error.${view.code}.text`)}</p>
${view.signedIn && html`<p><a href="${VIEWER_ROUTES.list}">${t(lang, 'viewer.back')}</a></p>`}`;
  return { title, main };
}
