// An agent's reply as RFC 5322 bytes, composed by nodemailer's MIME composer: encoded words,
// folding, multipart/alternative when there is HTML. Threading headers come from the message being
// answered; our loop header marks the reply as ours wherever it comes back, and the reply token
// header names this reply, so its sent copy can be found where the provider replaced our Message-ID.
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Address } from './model.js';
import { LOOP_HEADER } from './robots.js';

/** Carries the reply's token (reply-common.ts `replyToken`, which our Message-ID already shows). */
export const REPLY_TOKEN_HEADER = 'x-mail2ticket-reply';

export interface ReplyDraft {
  from: Address;
  to: Address[];
  subject: string;
  /** Without angle brackets. */
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  text: string;
  html?: string;
  date: Date;
  /** The reply's token, sent as REPLY_TOKEN_HEADER. */
  token?: string;
}

/** Some clients put several prefixes in a row; one `Re:` is enough. */
export function replySubject(original: string): string {
  const trimmed = original.trim();
  return /^(re|aw|sv|antw|réf|ref)\s*:/i.test(trimmed) ? trimmed : `Re: ${trimmed}`;
}

/** RFC 5322 recommends keeping References bounded; the first and the latest ids carry the thread. */
export function replyReferences(references: readonly string[], inReplyTo: string | null, max = 20): string[] {
  const all = [...references, ...(inReplyTo ? [inReplyTo] : [])].filter((id, i, list) => list.indexOf(id) === i);
  return all.length <= max ? all : [all[0]!, ...all.slice(all.length - (max - 1))];
}

export async function composeReply(draft: ReplyDraft): Promise<Buffer> {
  const bracket = (id: string) => `<${id}>`;
  const composer = new MailComposer({
    from: { name: draft.from.name, address: draft.from.address },
    to: draft.to.map((a) => ({ name: a.name, address: a.address })),
    subject: draft.subject,
    messageId: bracket(draft.messageId),
    date: draft.date,
    ...(draft.inReplyTo ? { inReplyTo: bracket(draft.inReplyTo) } : {}),
    ...(draft.references.length ? { references: draft.references.map(bracket) } : {}),
    headers: { [LOOP_HEADER]: 'reply', ...(draft.token ? { [REPLY_TOKEN_HEADER]: draft.token } : {}) },
    text: draft.text,
    ...(draft.html ? { html: draft.html } : {}),
  });
  return composer.compile().build();
}
