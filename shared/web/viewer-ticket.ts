// One ticket: its facts, then the thread oldest first. Each message shows who wrote to whom and when,
// the notices ingest left on it (localized by code, the recorded detail as stored), its body (see
// viewer-body.ts) and its attachments with their scan state; only clean, kept ones are links.
import type { AttachmentSummary } from '../domain/ingest.js';
import type { Address, NoticeCode } from '../domain/model.js';
import type { MessageView } from '../domain/tickets.js';
import type { Language } from './consent-views.js';
import { dateTimeHtml, type RenderedPage } from './consent-pages/parts.js';
import { html, joinHtml, type SafeHtml } from './html.js';
import { t, type MessageKey } from './i18n/catalog.js';
import { messageBody } from './viewer-body.js';
import { addressText, formatSize } from './viewer-format.js';
import { attachmentPath, VIEWER_ROUTES, type AttachmentState, type BlockedReason, type ViewerView } from './viewer-views.js';

type TicketPageView = Extract<ViewerView, { kind: 'ticket' }>;

// Exhaustive at compile time: a new notice code cannot ship without its text.
const NOTICE_KEYS = {
  unparsed: 'viewer.notice.unparsed',
  message_truncated: 'viewer.notice.message_truncated',
  header_too_large: 'viewer.notice.header_too_large',
  too_many_parts: 'viewer.notice.too_many_parts',
  nesting_too_deep: 'viewer.notice.nesting_too_deep',
  attachment_too_large: 'viewer.notice.attachment_too_large',
  too_many_attachments: 'viewer.notice.too_many_attachments',
  attachment_infected: 'viewer.notice.attachment_infected',
  attachment_unscanned: 'viewer.notice.attachment_unscanned',
  message_id_synthesized: 'viewer.notice.message_id_synthesized',
  new_participant: 'viewer.notice.new_participant',
  text_not_derived: 'viewer.notice.text_not_derived',
} as const satisfies Record<NoticeCode, MessageKey>;

export const VIEWER_NOTICE_CODES = Object.keys(NOTICE_KEYS) as NoticeCode[];

const BLOCKED_KEYS = {
  infected: 'viewer.blocked.infected',
  unscanned: 'viewer.blocked.unscanned',
  pending: 'viewer.blocked.pending',
  too_large: 'viewer.blocked.too_large',
  not_kept: 'viewer.blocked.not_kept',
} as const satisfies Record<BlockedReason, MessageKey>;

export function blockedText(lang: Language, reason: BlockedReason): string {
  return t(lang, BLOCKED_KEYS[reason]);
}

function addresses(lang: Language, list: Address[]): SafeHtml {
  if (list.length === 0) return html`${t(lang, 'viewer.message.nobody')}`;
  return joinHtml(list.map((a) => html`<span class="address">${addressText(a)}</span>`), ', ');
}

function fact(label: string, value: SafeHtml | string): SafeHtml {
  return html`<dt>${label}</dt>
<dd>${value}</dd>`;
}

function notices(lang: Language, message: MessageView, id: string): SafeHtml | false {
  if (message.notices.length === 0) return false;
  // The detail is what ingest recorded, in English: marked so, and shown as text.
  const items = message.notices.map(
    (n) => html`<li><strong>${t(lang, NOTICE_KEYS[n.code] ?? 'viewer.notice.unknown')}</strong>
<span class="notice-detail" lang="en">${n.detail}</span></li>`,
  );
  return html`<section class="notices" aria-labelledby="${id}-notices">
<h4 id="${id}-notices">${t(lang, 'viewer.notices.heading')}</h4>
<ul>
${items}
</ul>
</section>`;
}

function scanState(lang: Language, a: AttachmentSummary, state: AttachmentState | undefined): SafeHtml {
  const detail = state?.scanDetail ?? null;
  const label =
    a.scan === 'infected'
      ? detail
        ? t(lang, 'viewer.scan.infectedWith', { signature: detail })
        : t(lang, 'viewer.scan.infected')
      : t(lang, `viewer.scan.${a.scan}`);
  return html`<span class="state scan-${a.scan}">${label}</span>`;
}

function attachmentRow(lang: Language, ticketId: string, a: AttachmentSummary, state: AttachmentState | undefined): SafeHtml {
  // Never a link unless the domain would serve it: clean, with its bytes kept.
  const blocked: BlockedReason | null = state ? state.blocked : a.scan === 'clean' ? null : a.scan === 'infected' ? 'infected' : a.scan;
  const download = blocked
    ? html`<span class="note">${blockedText(lang, blocked)}</span>`
    : html`<a href="${attachmentPath(ticketId, a.id)}">${t(lang, 'viewer.attachments.download')}<span class="visually-hidden"> ${a.filename}</span></a>`;
  return html`<tr>
<th scope="row"><span class="filename">${a.filename}</span>${a.inline ? html`<p class="note">${t(lang, 'viewer.attachments.inline')}</p>` : ''}</th>
<td>${a.contentType}</td>
<td>${formatSize(lang, a.size)}</td>
<td>${scanState(lang, a, state)}</td>
<td>${download}</td>
</tr>`;
}

function attachmentTable(lang: Language, view: TicketPageView, message: MessageView, id: string, number: number): SafeHtml | false {
  if (message.attachments.length === 0) return false;
  return html`<div class="table-wrap" role="region" aria-labelledby="${id}-attachments" tabindex="0">
<table class="attachments">
<caption id="${id}-attachments">${t(lang, 'viewer.attachments.caption', { number: String(number) })}</caption>
<thead>
<tr>
<th scope="col">${t(lang, 'viewer.attachments.col.filename')}</th>
<th scope="col">${t(lang, 'viewer.attachments.col.type')}</th>
<th scope="col">${t(lang, 'viewer.attachments.col.size')}</th>
<th scope="col">${t(lang, 'viewer.attachments.col.scan')}</th>
<th scope="col">${t(lang, 'viewer.attachments.col.download')}</th>
</tr>
</thead>
<tbody>
${message.attachments.map((a) => attachmentRow(lang, view.ticket.ticketId, a, view.attachments[a.id]))}
</tbody>
</table>
</div>`;
}

function messageArticle(lang: Language, view: TicketPageView, message: MessageView, index: number): SafeHtml {
  const number = index + 1;
  const id = `message-${number}`;
  const total = String(view.ticket.messages.length);
  return html`<article class="message" aria-labelledby="${id}">
<h3 id="${id}">${t(lang, 'viewer.message.heading', { number: String(number), total })}${
    message.direction === 'outbound' ? html` <span class="state state-outbound">${t(lang, 'viewer.message.outbound')}</span>` : ''
  }</h3>
<dl class="facts">
${fact(t(lang, 'viewer.message.from'), html`<span class="address">${addressText(message.from)}</span>`)}
${fact(t(lang, 'viewer.message.to'), addresses(lang, message.to))}
${message.cc.length > 0 && fact(t(lang, 'viewer.message.cc'), addresses(lang, message.cc))}
${fact(t(lang, 'viewer.message.sent'), message.date && !Number.isNaN(Date.parse(message.date)) ? dateTimeHtml(lang, message.date) : t(lang, 'viewer.message.noDate'))}
${fact(t(lang, 'viewer.message.received'), dateTimeHtml(lang, message.receivedAt))}
${fact(t(lang, 'viewer.col.subject'), message.subject || t(lang, 'viewer.noSubject'))}
</dl>
${notices(lang, message, id)}
<h4 class="visually-hidden">${t(lang, 'viewer.body.heading', { number: String(number) })}</h4>
${messageBody(lang, message, number)}
${attachmentTable(lang, view, message, id, number)}
</article>`;
}

export function renderTicket(view: TicketPageView, lang: Language): RenderedPage {
  const { ticket } = view;
  const subject = ticket.subject || t(lang, 'viewer.noSubject');
  const main = html`<p><a href="${VIEWER_ROUTES.list}">${t(lang, 'viewer.back')}</a></p>
<h1>${subject}</h1>
<dl class="facts">
${fact(t(lang, 'viewer.col.requester'), html`<span class="address">${addressText(ticket.requester)}</span>`)}
${fact(t(lang, 'viewer.col.mailbox'), ticket.mailboxId)}
${fact(t(lang, 'viewer.ticket.opened'), dateTimeHtml(lang, ticket.createdAt))}
${fact(t(lang, 'viewer.col.lastActivity'), dateTimeHtml(lang, ticket.lastActivityAt))}
</dl>
<p class="note">${t(lang, 'viewer.ticket.logged')}</p>
<section aria-labelledby="thread-heading">
<h2 id="thread-heading">${t(lang, 'viewer.ticket.thread', { count: String(ticket.messages.length) })}</h2>
${ticket.messages.map((m, i) => messageArticle(lang, view, m, i))}
</section>`;
  return { title: subject, main };
}
