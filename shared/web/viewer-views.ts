// What each page of the ticket viewer shows: plain data the router (viewer-router.ts) fills from the
// domain's read use-cases and the renderer (viewer-render.ts) turns into HTML in the reader's language.
// The viewer is read-only: no view carries a form, a token or anything that changes state.
import type { Address, ScanStatus } from '../domain/model.js';
import type { MessageView, TicketSummary } from '../domain/tickets.js';

export const VIEWER_ROUTES = {
  list: '/tickets',
  login: '/tickets/login',
  stylesheet: '/tickets/assets/viewer.css',
} as const;

/** Ticket and attachment ids in URLs: what SAFE_ID allows everywhere else (ULIDs in practice). */
export const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function ticketPath(ticketId: string): string {
  return `${VIEWER_ROUTES.list}/${ticketId}`;
}

export function attachmentPath(ticketId: string, attachmentId: string): string {
  return `${ticketPath(ticketId)}/attachments/${attachmentId}`;
}

export interface TicketRow {
  ticketId: string;
  subject: string;
  requester: Address;
  mailboxId: string;
  lastActivityAt: string;
  messageCount: number;
}

/** Why an attachment cannot be downloaded; `null` when it can (clean, bytes kept). */
export type BlockedReason = 'infected' | 'unscanned' | 'pending' | 'too_large' | 'not_kept';

export function blockedReason(scan: ScanStatus, scanDetail: string | undefined, kept: boolean): BlockedReason | null {
  if (scan === 'infected') return 'infected';
  if (scanDetail === 'size_limit' && !kept) return 'too_large';
  if (scan === 'unscanned') return 'unscanned';
  if (scan === 'pending') return 'pending';
  return kept ? null : 'not_kept';
}

/** What the thread shows of an attachment besides the domain's summary: the scanner's word on it. */
export interface AttachmentState {
  /** The signature when infected, the reason when unscanned (a scanner code, no personal data). */
  scanDetail: string | null;
  blocked: BlockedReason | null;
}

export type ViewerErrorCode = 'unauthorized' | 'link_invalid' | 'not_found' | 'not_servable' | 'misdirected' | 'read_only' | 'internal';

export type ViewerView =
  | {
      kind: 'list';
      tenantId: string;
      rows: TicketRow[];
      total: number;
      /** 1-based; the list shows PAGE_SIZE rows a page. */
      pageNumber: number;
      pageCount: number;
      firstIndex: number;
    }
  | {
      kind: 'ticket';
      ticket: TicketSummary & { messages: MessageView[] };
      attachments: Record<string, AttachmentState>;
    }
  | {
      kind: 'error';
      code: ViewerErrorCode;
      /** Whether the reader has a session, so the page can lead back to the list. */
      signedIn: boolean;
      /** For `not_servable`: why this attachment is never served. */
      blocked?: BlockedReason;
    };
