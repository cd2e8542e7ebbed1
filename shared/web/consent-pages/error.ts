// An error page per ConsentErrorCode: a title and what to do next, in the reader's language, and never a
// technical detail (the view carries none, by design).
import { CONSENT_ROUTES, type ConsentErrorCode, type ConsentView, type Language } from '../consent-views.js';
import { html } from '../html.js';
import { t } from '../i18n/catalog.js';
import { routeLink, type RenderedPage } from './parts.js';

type ErrorView = Extract<ConsentView, { page: 'error' }>;

// The contract has the codes only as a type; this record makes the list exhaustive at compile time, so a
// new code cannot ship without its texts (the catalogs' keys are checked against it in the tests).
const CODES = {
  invite_invalid: true,
  invite_expired: true,
  invite_used: true,
  invite_revoked: true,
  session_expired: true,
  state_invalid: true,
  state_replayed: true,
  state_expired: true,
  access_denied: true,
  redirect_mismatch: true,
  wrong_directory: true,
  not_admin: true,
  wrong_account: true,
  csrf: true,
  mailbox_in_use: true,
  provider_error: true,
  internal_error: true,
  not_found: true,
  bad_request: true,
} satisfies Record<ConsentErrorCode, true>;

export const CONSENT_ERROR_CODES = Object.keys(CODES) as ConsentErrorCode[];

export function renderError(view: ErrorView, lang: Language): RenderedPage {
  const title = t(lang, `error.${view.code}.title`);
  const main = html`<h1>${title}</h1>
<p class="lead">${t(lang, `error.${view.code}.text`)}</p>
${view.backToStatus && html`<p><a href="${routeLink(CONSENT_ROUTES.status, lang)}">${t(lang, 'common.backToStatus')}</a></p>`}`;
  return { title, main };
}
