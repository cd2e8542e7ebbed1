// The last step of a disconnect, after a fresh sign-in: say exactly what will happen and when the data
// is gone, then one destructive button. The way back is a plain link, so cancelling changes nothing.
import { CONSENT_ROUTES, type ConsentView, type Language } from '../consent-views.js';
import { html } from '../html.js';
import { t } from '../i18n/catalog.js';
import { dateHtml, postForm, providerName, routeLink, tHtml, type RenderedPage } from './parts.js';

type ConfirmDisconnectView = Extract<ConsentView, { page: 'confirm_disconnect' }>;

export function renderConfirmDisconnect(view: ConfirmDisconnectView, lang: Language): RenderedPage {
  const { mailbox } = view;
  const address = mailbox.address ?? t(lang, 'common.noAddress');
  const main = html`<h1>${t(lang, 'disconnect.heading')}</h1>
<dl class="facts">
<dt>${t(lang, 'status.col.address')}</dt>
<dd class="address">${address}</dd>
<dt>${t(lang, 'status.col.provider')}</dt>
<dd>${providerName(lang, mailbox.provider)}</dd>
</dl>
<section aria-labelledby="what-heading">
<h2 id="what-heading">${t(lang, 'disconnect.what')}</h2>
<ul>
<li>${t(lang, 'disconnect.notifications')}</li>
<li>${t(lang, 'disconnect.access')}</li>
<li>${tHtml(lang, 'disconnect.data', { date: dateHtml(lang, view.deletionDeadline) })}</li>
<li>${t(lang, 'disconnect.backups')}</li>
<li>${t(lang, 'disconnect.untouched')}</li>
</ul>
<p><strong>${t(lang, 'disconnect.final')}</strong></p>
</section>
${postForm({
  action: CONSENT_ROUTES.confirmDisconnect,
  csrfToken: view.csrfToken,
  fields: { confirmation: view.confirmation },
  button: t(lang, 'disconnect.confirm'),
  buttonClass: 'danger',
})}
<p><a href="${routeLink(CONSENT_ROUTES.status, lang)}">${t(lang, 'disconnect.cancel')}</a></p>`;
  return { title: t(lang, 'disconnect.title'), main };
}
