// After a Microsoft admin consent: the admin names the mailboxes to connect. Refused addresses come back
// with the text the admin typed, an error block linked to the field (aria-describedby, aria-invalid),
// and a reason per address in the reader's language.
import { CONSENT_ROUTES, type ConsentView, type Language } from '../consent-views.js';
import { html } from '../html.js';
import { t } from '../i18n/catalog.js';
import type { RenderedPage } from './parts.js';

type MicrosoftMailboxesView = Extract<ConsentView, { page: 'microsoft_mailboxes' }>;

const FIELD = 'addresses';

export function renderMicrosoftMailboxes(view: MicrosoftMailboxesView, lang: Language): RenderedPage {
  const hasErrors = view.refused.length > 0;
  const describedBy = hasErrors ? `${FIELD}-hint ${FIELD}-error` : `${FIELD}-hint`;

  const domains =
    view.verifiedDomains.length > 0
      ? html`<p>${t(lang, 'msMailboxes.domains.intro')}</p>
<ul>${view.verifiedDomains.map((domain) => html`<li class="address">${domain}</li>`)}</ul>`
      : html`<p>${t(lang, 'msMailboxes.domains.none')}</p>`;

  const errors =
    hasErrors &&
    html`<div class="error-summary">
<h2>${t(lang, 'msMailboxes.refused.heading')}</h2>
<p><a href="#${FIELD}">${t(lang, 'msMailboxes.refused.intro')}</a></p>
<dl class="refused" id="${FIELD}-error">
${view.refused.map((r) => html`<dt>${r.address}</dt><dd>${t(lang, `refused.${r.reason}`)}</dd>`)}
</dl>
</div>`;

  // The newline right after <textarea> is dropped by the HTML parser, so the admin's text (even one that
  // starts with a blank line) comes back exactly.
  const main = html`<h1>${t(lang, 'msMailboxes.heading')}</h1>
<p class="lead">${t(lang, 'msMailboxes.consented', { tenant: view.tenantName })}</p>
${errors}
<section aria-labelledby="domains-heading">
<h2 id="domains-heading">${t(lang, 'msMailboxes.domains.heading')}</h2>
${domains}
</section>
<form method="post" action="${CONSENT_ROUTES.microsoftMailboxes}">
<input type="hidden" name="csrf" value="${view.csrfToken}">
<input type="hidden" name="step" value="${view.step}">
<label for="${FIELD}">${t(lang, 'msMailboxes.label')}</label>
<p class="hint" id="${FIELD}-hint">${t(lang, 'msMailboxes.hint')}</p>
<textarea id="${FIELD}" name="${FIELD}" rows="6" required spellcheck="false" autocapitalize="off" autocomplete="off" aria-describedby="${describedBy}"${hasErrors ? html` aria-invalid="true"` : ''}>
${view.addresses}</textarea>
<button type="submit">${t(lang, 'msMailboxes.submit')}</button>
</form>`;
  return { title: t(lang, 'msMailboxes.title'), main };
}
