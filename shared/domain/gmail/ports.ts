// The Gmail API as the domain needs it. The adapter (shared/adapters/gmail) runs the real
// @googleapis/gmail client and translates its failures into provider-errors.ts.
import type { Readable } from 'node:stream';
import type { ProviderCredentials } from '../model.js';

export interface GmailMessageRef {
  id: string;
  threadId: string;
  /** The message's labels as the history record reports them. */
  labelIds: string[];
}

export interface GmailMessageHeaders extends GmailMessageRef {
  /** By lower-cased name; the first value when a header repeats. */
  headers: Record<string, string>;
}

export interface GmailHistoryRecord {
  /** historyId of this record; records come in increasing order. */
  id: string;
  messagesAdded: GmailMessageRef[];
  labelsAdded: Array<{ message: GmailMessageRef; labelIds: string[] }>;
}

export interface GmailHistoryPage {
  records: GmailHistoryRecord[];
  nextPageToken?: string;
  /** The mailbox's current historyId. */
  historyId: string;
}

export interface GmailApi {
  getProfile(): Promise<{ emailAddress: string; historyId: string }>;
  /** Throws CursorExpired when Google no longer has history from `startHistoryId` (404). */
  listHistory(startHistoryId: string, pageToken?: string): Promise<GmailHistoryPage>;
  listMessages(query: string, pageToken?: string): Promise<{ messages: Array<{ id: string; threadId: string }>; nextPageToken?: string }>;
  /** The RFC 822 bytes, decoded as they stream in. Throws ProviderNotFound for a deleted message. */
  getRawMessage(id: string): Promise<Readable>;
  /** The named headers (names lower-cased) and labels of a message; ProviderNotFound when it is gone. */
  getHeaders(id: string, names: readonly string[]): Promise<GmailMessageHeaders>;
  /** The same for every message of a thread, oldest first; empty when the thread is gone. */
  getThreadHeaders(threadId: string, names: readonly string[]): Promise<GmailMessageHeaders[]>;
  watch(topicName: string, labelIds: string[]): Promise<{ historyId: string; expiration: Date }>;
  stop(): Promise<void>;
  send(raw: Uint8Array, threadId?: string): Promise<{ id: string; threadId: string }>;
  /** Revokes the refresh token at Google (disconnect). */
  revoke(): Promise<void>;
  /**
   * The refresh token Google answered in place of ours during this session (RFC 6749 §6 rotation), if
   * it did: the old one may no longer work, so the caller must store this one.
   */
  rotatedRefreshToken?(): string | undefined;
}

/** Opens an authorized API session for one mailbox. */
export interface GmailConnector {
  open(credentials: ProviderCredentials): GmailApi;
}

/** Checks a Pub/Sub push's OIDC token: signature, expiry, issuer, audience, service account. */
export interface PushVerifier {
  verify(bearerToken: string): Promise<boolean>;
}

export interface GmailSettings {
  /** The Pub/Sub topic `users.watch` publishes to. */
  topicName: string;
  /** A message with any of these labels is never ingested. */
  excludedLabels: string[];
  /** How far back a full sync reaches when history has expired. */
  fullSyncDays: number;
  /** Changes found by the safety sync with no push for this long raise `gmail.push_stalled`. */
  stalledAfterMinutes: number;
}

export const DEFAULT_GMAIL_SETTINGS: Omit<GmailSettings, 'topicName'> = {
  excludedLabels: ['SENT', 'DRAFT', 'SPAM', 'TRASH'],
  fullSyncDays: 7,
  stalledAfterMinutes: 60,
};
