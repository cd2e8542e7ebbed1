// Microsoft Graph as the domain needs it. The adapter (shared/adapters/graph) runs the real
// @microsoft/microsoft-graph-client with app-only tokens from msal-node, always with immutable ids,
// and translates Graph's failures into provider-errors.ts.
import type { Readable } from 'node:stream';

/** Where a Microsoft 365 mailbox lives: its Entra tenant and its user (object id or UPN). */
export interface GraphMailbox {
  azureTenantId: string;
  userId: string;
}

export interface GraphMessageRef {
  /** Immutable id: survives moves, so provider-id deduplication holds. */
  id: string;
  conversationId?: string;
}

export interface GraphDeltaPage {
  messages: GraphMessageRef[];
  /** Continue the round here (a later sync may resume from it). */
  nextLink?: string;
  /** The round is complete; the next round starts here. */
  deltaLink?: string;
}

export interface GraphSubscription {
  id: string;
  expiresAt: Date;
}

export interface GraphApi {
  /**
   * A delta round on the inbox: from a stored link, or a new round over mail received since `since`.
   * Throws CursorExpired when Graph no longer knows the link's state.
   */
  delta(from: { link: string } | { since: Date }): Promise<GraphDeltaPage>;
  /** The message's MIME, streamed. Throws ProviderNotFound when it is gone. */
  getMime(id: string): Promise<Readable>;
  findByInternetMessageId(internetMessageId: string): Promise<GraphMessageRef | undefined>;
  createSubscription(input: { notificationUrl: string; lifecycleNotificationUrl: string; clientState: string; expiresAt: Date }): Promise<GraphSubscription>;
  renewSubscription(id: string, expiresAt: Date): Promise<Date>;
  deleteSubscription(id: string): Promise<void>;
  /** A reply draft to a message, with its threading headers set by Graph. */
  createReplyDraft(messageId: string): Promise<string>;
  updateDraft(draftId: string, content: { text: string; html?: string; headers: Record<string, string> }): Promise<void>;
  sendDraft(draftId: string): Promise<void>;
  /** The message's state: whether it is still a draft, and its Message-ID once sent. Undefined when gone. */
  getMessageState(id: string): Promise<{ isDraft: boolean; internetMessageId: string | null } | undefined>;
}

export interface GraphConnector {
  open(mailbox: GraphMailbox): GraphApi;
}

export interface GraphSettings {
  /** Public URLs of the two webhook routes (the stack's HTTP API). */
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  /** How far back a new or restarted delta round reaches. */
  fullSyncDays: number;
  /** Outlook message subscriptions last at most 10,080 minutes (7 days). */
  subscriptionMinutes: number;
  /** Renew when a subscription has less than this left. */
  renewBeforeMinutes: number;
  /** New mail found by the safety sync with no change notification for this long raises `graph.notification_stalled`. */
  stalledAfterMinutes: number;
}

export const MAX_SUBSCRIPTION_MINUTES = 10_080;

export const DEFAULT_GRAPH_SETTINGS: Omit<GraphSettings, 'notificationUrl' | 'lifecycleNotificationUrl'> = {
  fullSyncDays: 7,
  subscriptionMinutes: MAX_SUBSCRIPTION_MINUTES - 60,
  renewBeforeMinutes: 2 * 24 * 60,
  stalledAfterMinutes: 60,
};
