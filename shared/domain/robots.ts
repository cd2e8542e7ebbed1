// Mail written by machines, which must not open tickets (and must never be answered): auto-replies
// (RFC 3834), bounces (RFC 3464), read receipts (RFC 8098) and our own mail coming back.
import { withoutComments } from './header-comments.js';
import type { SuppressionReason } from './model.js';
import type { ParsedMail } from './parse.js';

/** The header our outgoing mail carries; seeing it on incoming mail means a loop. */
export const LOOP_HEADER = 'x-mail2ticket-loop';

const ROBOT_PRECEDENCE = new Set(['auto_reply', 'bulk', 'junk']);
const BOUNCE_SENDERS = new Set(['mailer-daemon', 'postmaster']);

export function detectRobot(mail: ParsedMail): SuppressionReason | null {
  const header = (name: string) => mail.rawHeaders.get(name) ?? [];
  const first = (name: string) => (header(name)[0] ?? '').trim().toLowerCase();

  if (header(LOOP_HEADER).length > 0) return 'loop';

  if (mail.contentType?.value.toLowerCase() === 'multipart/report') {
    const reportType = (mail.contentType.params['report-type'] ?? '').toLowerCase();
    if (reportType === 'delivery-status') return 'bounce';
    if (reportType === 'disposition-notification') return 'read_receipt';
  }
  const autoSubmitted = autoSubmittedKeyword(first('auto-submitted'));
  if (autoSubmitted !== '' && autoSubmitted !== 'no') return 'auto_submitted';
  if (ROBOT_PRECEDENCE.has(first('precedence'))) return 'precedence';
  // X-Auto-Response-Suppress only asks *us* not to auto-answer (web forms, business systems send it
  // on mail a person must read), so it is deliberately not a robot signal. iCloud's vacation replies
  // carry only X-Apple-Action.
  if (header('x-autoreply').length > 0 || header('x-autorespond').length > 0) return 'autoreply_header';
  if (first('x-apple-action') === 'vacation') return 'autoreply_header';

  // Last: a null sender or a bounce mailbox. Exchange 2010 out-of-office replies carry nothing else.
  const senderLocalPart = mail.from.address.split('@')[0]?.toLowerCase() ?? '';
  if (BOUNCE_SENDERS.has(senderLocalPart) || BOUNCE_SENDERS.has(bareSender(first('from')))) return 'bounce';
  if (header('return-path').some((value) => /^<\s*>$/.test(value.trim()))) return 'bounce';
  return null;
}

/**
 * A From header naming a mailbox without a domain ("MAILER-DAEMON", "Mail Delivery System
 * <MAILER-DAEMON>", as some MTAs write bounces), lower-cased; '' for anything with a domain. The parser
 * reads such a header as a display name with no address, so the sender check above never sees it.
 */
function bareSender(from: string): string {
  const inBrackets = /<([^<>]*)>/.exec(from)?.[1];
  const candidate = withoutComments(inBrackets ?? from).trim().replace(/^"(.*)"$/, '$1').trim();
  return candidate.includes('@') ? '' : candidate.toLowerCase();
}

/**
 * The keyword of an Auto-Submitted value (RFC 3834 section 5): comments and parameters dropped, so
 * "no (human)" is "no" and "Auto-Replied; owner-email=x" is "auto-replied".
 */
function autoSubmittedKeyword(value: string): string {
  return (withoutComments(value).split(';')[0] ?? '').replace(/\s+/g, '').toLowerCase();
}
