// The admin's view of the tenant's mailboxes: state in words (colour only repeats it), the times that
// show whether mail is flowing, and per-row forms to reconnect or disconnect.
import { CONSENT_ROUTES, type ConsentView, type Language, type MailboxRow } from '../consent-views.js';
import { html, type SafeHtml } from '../html.js';
import { t } from '../i18n/catalog.js';
import { GOOGLE_NOTICE_ID, connectForm, dateHtml, dateTimeHtml, googleNotice, postForm, providerName, startProvider, tHtml, type RenderedPage } from './parts.js';

type StatusView = Extract<ConsentView, { page: 'status' }>;

/** A dash for sighted readers, words for screen readers (which would otherwise read "em dash"). */
function absent(text: string): SafeHtml {
  return html`<span aria-hidden="true">—</span><span class="visually-hidden">${text}</span>`;
}

function when(lang: Language, iso: string | null, otherwise: string): SafeHtml {
  return iso ? dateTimeHtml(lang, iso) : absent(otherwise);
}

function needsGoogleNotice(row: MailboxRow): boolean {
  return row.provider === 'gmail' && row.state === 'reauthorization_required';
}

function rowActions(lang: Language, csrfToken: string, row: MailboxRow): SafeHtml {
  if (row.state === 'disconnected') return absent(t(lang, 'common.noActions'));
  // Repeated "Reconnect" buttons are ambiguous in a screen reader's list of controls: name the mailbox.
  const which = html`<span class="visually-hidden"> ${row.address ?? providerName(lang, row.provider)}</span>`;
  const reconnect =
    row.state === 'reauthorization_required' &&
    postForm({
      action: CONSENT_ROUTES.start,
      csrfToken,
      fields: { provider: startProvider(row.provider), mailbox: row.mailboxId },
      button: html`${t(lang, 'status.reconnect')}${which}`,
    });
  const disconnect = postForm({
    action: CONSENT_ROUTES.disconnect,
    csrfToken,
    fields: { mailbox: row.mailboxId },
    button: html`${t(lang, 'status.disconnect')}${which}`,
    buttonClass: 'secondary',
  });
  return html`<div class="actions">${reconnect}${disconnect}</div>`;
}

function mailboxRow(lang: Language, csrfToken: string, row: MailboxRow): SafeHtml {
  const purge = row.state === 'disconnected' && row.purgeBy && html`<p>${tHtml(lang, 'status.purgeBy', { date: dateHtml(lang, row.purgeBy) })}</p>`;
  const notice = needsGoogleNotice(row) && html`<p><a href="#${GOOGLE_NOTICE_ID}">${t(lang, 'googleNotice.link')}</a></p>`;
  return html`<tr>
<td>${providerName(lang, row.provider)}</td>
<th scope="row">${row.address ? html`<span class="address">${row.address}</span>` : absent(t(lang, 'common.noAddress'))}</th>
<td><span class="state state-${row.state}">${t(lang, `state.${row.state}`)}</span>${purge}${notice}</td>
<td>${when(lang, row.lastNotifiedAt, t(lang, 'common.never'))}</td>
<td>${when(lang, row.lastSyncedAt, t(lang, 'common.never'))}</td>
<td>${when(lang, row.watchExpiresAt, t(lang, 'common.notActive'))}</td>
<td>${rowActions(lang, csrfToken, row)}</td>
</tr>`;
}

function mailboxTable(lang: Language, view: StatusView): SafeHtml {
  if (view.mailboxes.length === 0) return html`<p>${t(lang, 'status.empty')}</p>`;
  // A focusable, labelled scroll region: on a phone the wide table scrolls sideways, by keyboard too.
  return html`<div class="table-wrap" role="region" aria-labelledby="mailboxes-caption" tabindex="0">
<table>
<caption id="mailboxes-caption">${t(lang, 'status.caption')}</caption>
<thead>
<tr>
<th scope="col">${t(lang, 'status.col.provider')}</th>
<th scope="col">${t(lang, 'status.col.address')}</th>
<th scope="col">${t(lang, 'status.col.state')}</th>
<th scope="col">${t(lang, 'status.col.lastNotified')}</th>
<th scope="col">${t(lang, 'status.col.lastSynced')}</th>
<th scope="col">${t(lang, 'status.col.watchExpires')}</th>
<th scope="col">${t(lang, 'status.col.actions')}</th>
</tr>
</thead>
<tbody>
${view.mailboxes.map((row) => mailboxRow(lang, view.csrfToken, row))}
</tbody>
</table>
</div>`;
}

export function renderStatus(view: StatusView, lang: Language): RenderedPage {
  const banner = view.notice && html`<div class="banner" role="status"><p>${t(lang, `notice.${view.notice}`)}</p></div>`;
  const connectHeading = view.mailboxes.length === 0 ? t(lang, 'status.connectFirst') : t(lang, 'status.connectAnother');
  const main = html`<h1>${t(lang, 'status.heading', { tenant: view.tenantName })}</h1>
${banner}
${mailboxTable(lang, view)}
${view.mailboxes.some(needsGoogleNotice) && googleNotice(lang, 2)}
<section aria-labelledby="connect-heading">
<h2 id="connect-heading">${connectHeading}</h2>
<div class="actions">
${connectForm(lang, view.csrfToken, 'google')}
${connectForm(lang, view.csrfToken, 'microsoft')}
</div>
</section>
<section aria-labelledby="remove-consent-heading">
<h2 id="remove-consent-heading">${t(lang, 'status.microsoft.heading')}</h2>
<p>${t(lang, 'status.microsoft.text')}</p>
</section>
<p class="note">${tHtml(lang, 'status.session', { datetime: dateTimeHtml(lang, view.sessionExpiresAt) })}</p>
${postForm({ action: CONSENT_ROUTES.signOut, csrfToken: view.csrfToken, button: t(lang, 'status.signOut'), buttonClass: 'secondary' })}`;
  return { title: t(lang, 'status.title'), main };
}

/** After "Sign out": nothing of the tenant's, and no way back but a new invitation. */
export function renderSignedOut(lang: Language): RenderedPage {
  const title = t(lang, 'signedOut.title');
  return { title, main: html`<h1>${title}</h1>
<p class="lead">${t(lang, 'signedOut.text')}</p>` };
}
