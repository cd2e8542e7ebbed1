// The demo tenant's tickets, newest activity first, a page at a time: subject (the link to the
// thread), requester, mailbox, last activity and the number of messages.
import type { Language } from './consent-views.js';
import { dateTimeHtml, type RenderedPage } from './consent-pages/parts.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n/catalog.js';
import { addressText, formatNumber } from './viewer-format.js';
import { ticketPath, VIEWER_ROUTES, type TicketRow, type ViewerView } from './viewer-views.js';

type ListView = Extract<ViewerView, { kind: 'list' }>;

/** Tickets shown on one page of the list. */
export const PAGE_SIZE = 50;

function row(lang: Language, r: TicketRow): SafeHtml {
  return html`<tr>
<th scope="row"><a href="${ticketPath(r.ticketId)}">${r.subject || t(lang, 'viewer.noSubject')}</a></th>
<td><span class="address">${addressText(r.requester)}</span></td>
<td>${r.mailboxId}</td>
<td>${dateTimeHtml(lang, r.lastActivityAt)}</td>
<td class="number">${formatNumber(lang, r.messageCount)}</td>
</tr>`;
}

function pager(lang: Language, view: ListView): SafeHtml | false {
  if (view.pageCount <= 1) return false;
  const link = (page: number, key: 'viewer.list.newer' | 'viewer.list.older', rel: string) =>
    html`<li><a href="${VIEWER_ROUTES.list}?page=${String(page)}" rel="${rel}">${t(lang, key)}</a></li>`;
  return html`<nav class="pager" aria-label="${t(lang, 'viewer.list.pages')}">
<ul>
${view.pageNumber > 1 && link(view.pageNumber - 1, 'viewer.list.newer', 'prev')}
${view.pageNumber < view.pageCount && link(view.pageNumber + 1, 'viewer.list.older', 'next')}
</ul>
</nav>`;
}

export function renderList(view: ListView, lang: Language): RenderedPage {
  const title = t(lang, 'viewer.list.title');
  if (view.total === 0) {
    return { title, main: html`<h1>${t(lang, 'viewer.list.heading', { tenant: view.tenantId })}</h1>
<p class="lead">${t(lang, 'viewer.list.empty')}</p>` };
  }
  const range = t(lang, 'viewer.list.range', {
    from: formatNumber(lang, view.firstIndex + 1),
    to: formatNumber(lang, view.firstIndex + view.rows.length),
    total: formatNumber(lang, view.total),
  });
  const main = html`<h1>${t(lang, 'viewer.list.heading', { tenant: view.tenantId })}</h1>
<p class="lead">${t(lang, 'viewer.list.intro')}</p>
<p id="range">${range}</p>
<div class="table-wrap" role="region" aria-labelledby="tickets-caption" tabindex="0">
<table>
<caption id="tickets-caption">${t(lang, 'viewer.list.caption')}</caption>
<thead>
<tr>
<th scope="col">${t(lang, 'viewer.col.subject')}</th>
<th scope="col">${t(lang, 'viewer.col.requester')}</th>
<th scope="col">${t(lang, 'viewer.col.mailbox')}</th>
<th scope="col">${t(lang, 'viewer.col.lastActivity')}</th>
<th scope="col">${t(lang, 'viewer.col.messages')}</th>
</tr>
</thead>
<tbody>
${view.rows.map((r) => row(lang, r))}
</tbody>
</table>
</div>
${pager(lang, view)}`;
  return { title, main };
}
