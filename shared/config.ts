// Configuration is read once, validated, and fails at start with a message naming the variable.
import { resolve } from 'node:path';
import { ConfigError } from './domain/errors.js';
import { DEFAULT_LIMITS, type IngestLimits } from './domain/limits.js';
import { DEFAULT_ALIAS_PREFIX } from './adapters/crypto/tenant-id.js';
import { SYNC_TIME_RESERVE_MS } from './adapters/system/deadlines.js';

type Env = Record<string, string | undefined>;

export interface LocalConfig {
  dataDir: string;
  port: number;
  /**
   * How long npm start's server waits for a whole request (MAIL2TICKET_REQUEST_TIMEOUT_MS, default 10 s):
   * a client that trickles a body (slow-loris) is answered 408 and cut off, as API Gateway would.
   */
  requestTimeoutMs: number;
  limits: IngestLimits;
  tableName: string;
  bucket: string;
}

export interface LambdaConfig {
  tableName: string;
  bucket: string;
  /** Tenant keys are KMS keys reached through aliases `<prefix><tenantId>`. */
  tenantKeyAliasPrefix: string;
  region: string;
  limits: IngestLimits;
}

export function loadLocalConfig(env: Env = process.env): LocalConfig {
  return {
    dataDir: resolve(env.MAIL2TICKET_DATA_DIR?.trim() || '.mail2ticket'),
    port: integer(env, 'PORT', 3000, 1, 65535),
    requestTimeoutMs: integer(env, 'MAIL2TICKET_REQUEST_TIMEOUT_MS', 10_000, 500, 300_000),
    limits: loadLimits(env),
    tableName: 'mail2ticket',
    bucket: 'mail2ticket-local',
  };
}

export function loadLambdaConfig(env: Env = process.env): LambdaConfig {
  return {
    tableName: required(env, 'TABLE_NAME'),
    bucket: required(env, 'BUCKET_NAME'),
    tenantKeyAliasPrefix: tenantKeyAliasPrefix(env),
    region: required(env, 'AWS_REGION'),
    limits: loadLimits(env),
  };
}

export interface RetentionConfig {
  tableName: string;
  bucket: string;
  region: string;
  /** The tenant keys' alias prefix: replaying requester erasures after a restore re-seals records. */
  tenantKeyAliasPrefix: string;
}

export function loadRetentionConfig(env: Env = process.env): RetentionConfig {
  return {
    tableName: required(env, 'TABLE_NAME'),
    bucket: required(env, 'BUCKET_NAME'),
    region: required(env, 'AWS_REGION'),
    tenantKeyAliasPrefix: tenantKeyAliasPrefix(env),
  };
}

/** Days from a disconnect until the mailbox's data is gone (RETENTION_DAYS, the stack's retentionDays): 1 to 30. */
export function loadRetentionDays(env: Env = process.env): number {
  return integer(env, 'RETENTION_DAYS', 30, 1, 30);
}

export function loadLimits(env: Env): IngestLimits {
  const d = DEFAULT_LIMITS;
  const limits: IngestLimits = {
    maxMessageBytes: integer(env, 'MAIL2TICKET_MAX_MESSAGE_BYTES', d.maxMessageBytes, 1024, 2 ** 32),
    maxAttachmentBytes: integer(env, 'MAIL2TICKET_MAX_ATTACHMENT_BYTES', d.maxAttachmentBytes, 1, 2 ** 32),
    maxAttachments: integer(env, 'MAIL2TICKET_MAX_ATTACHMENTS', d.maxAttachments, 0, 10_000),
    maxHeaderBytes: integer(env, 'MAIL2TICKET_MAX_HEADER_BYTES', d.maxHeaderBytes, 1024, 16 * 1024 * 1024),
    maxParts: integer(env, 'MAIL2TICKET_MAX_PARTS', d.maxParts, 1, 100_000),
    maxNestingDepth: integer(env, 'MAIL2TICKET_MAX_NESTING_DEPTH', d.maxNestingDepth, 1, 1000),
    claimLeaseSeconds: integer(env, 'MAIL2TICKET_CLAIM_LEASE_SECONDS', d.claimLeaseSeconds, 0, 86_400),
  };
  if (limits.maxAttachmentBytes > limits.maxMessageBytes) {
    throw new ConfigError('MAIL2TICKET_MAX_ATTACHMENT_BYTES must not exceed MAIL2TICKET_MAX_MESSAGE_BYTES');
  }
  return limits;
}

/** A variable that must be set; the error names it. */
export function requireEnv(env: Env, name: string): string {
  return required(env, name);
}

/** CONSENT_BASE_URL's value checked: the consent site's public https origin (invite links and OAuth callbacks are built on it). */
export function consentBaseUrl(value: string): string {
  const baseUrl = value.replace(/\/+$/, '');
  if (!baseUrl.startsWith('https://')) throw new ConfigError('CONSENT_BASE_URL must be an https:// URL');
  return baseUrl;
}

/** Where the tenants' KMS keys are reached (TENANT_KEY_ALIAS_PREFIX), the same for every function. */
function tenantKeyAliasPrefix(env: Env): string {
  return env.TENANT_KEY_ALIAS_PREFIX?.trim() || DEFAULT_ALIAS_PREFIX;
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export interface GmailPushConfig {
  region: string;
  tableName: string;
  syncQueueUrl: string;
  pushAudience: string;
  pushServiceAccount: string;
  tenantKeyAliasPrefix: string;
}

export function loadGmailPushConfig(env: Env = process.env): GmailPushConfig {
  return {
    region: required(env, 'AWS_REGION'),
    tableName: required(env, 'TABLE_NAME'),
    syncQueueUrl: required(env, 'SYNC_QUEUE_URL'),
    pushAudience: required(env, 'GMAIL_PUSH_AUDIENCE'),
    pushServiceAccount: required(env, 'GMAIL_PUSH_SERVICE_ACCOUNT'),
    tenantKeyAliasPrefix: tenantKeyAliasPrefix(env),
  };
}

export interface GmailWorkerSettings {
  topicName: string;
  excludedLabels: string[];
  fullSyncDays: number;
  stalledAfterMinutes: number;
  safetySyncMinutes: number;
  /** The sync queue's maxReceiveCount: a throttled job is handed to a fresh one before reaching it. */
  maxReceiveCount: number;
  /** A sync stops starting messages once its invocation has less time left than this (see budget.ts). */
  timeReserveSeconds: number;
}

/** SYNC_TIME_RESERVE_SECONDS: by default SYNC_TIME_RESERVE_MS; the stack sets half the worker's timeout, at most that. */
function syncTimeReserveSeconds(env: Env): number {
  return integer(env, 'SYNC_TIME_RESERVE_SECONDS', SYNC_TIME_RESERVE_MS / 1000, 1, 900);
}

export function loadGmailSettings(env: Env = process.env): GmailWorkerSettings {
  const labels = env.GMAIL_EXCLUDED_LABELS?.trim();
  return {
    topicName: env.GMAIL_TOPIC?.trim() || 'projects/mail2ticket-local/topics/gmail',
    excludedLabels: labels ? labels.split(',').map((label) => label.trim()).filter(Boolean) : ['SENT', 'DRAFT', 'SPAM', 'TRASH'],
    fullSyncDays: integer(env, 'GMAIL_FULL_SYNC_DAYS', 7, 1, 365),
    stalledAfterMinutes: integer(env, 'GMAIL_STALLED_AFTER_MINUTES', 60, 5, 7 * 24 * 60),
    safetySyncMinutes: integer(env, 'GMAIL_SAFETY_SYNC_MINUTES', 15, 1, 24 * 60),
    maxReceiveCount: integer(env, 'SYNC_MAX_RECEIVE_COUNT', 5, 2, 1000),
    timeReserveSeconds: syncTimeReserveSeconds(env),
  };
}

/** A Google OAuth client for local use (an operator's own, or the sandbox's fake Google). */
export interface LocalGoogleConfig {
  clientId: string;
  clientSecret: string;
  rootUrl?: string;
  tokenUrl?: string;
  revokeUrl?: string;
  topicName: string;
}

/** Undefined when no Google client is configured: Gmail commands then say how to configure one. */
export function loadLocalGoogleConfig(env: Env = process.env): LocalGoogleConfig | undefined {
  const clientId = env.MAIL2TICKET_GOOGLE_CLIENT_ID?.trim();
  const clientSecret = env.MAIL2TICKET_GOOGLE_CLIENT_SECRET?.trim();
  if (!clientId || !clientSecret) return undefined;
  const url = (name: string) => {
    const value = env[name]?.trim();
    if (!value) return undefined;
    if (!/^https?:\/\/[^\s]+$/.test(value)) throw new ConfigError(`${name} must be an http(s) URL`);
    return value;
  };
  const rootUrl = url('MAIL2TICKET_GMAIL_ROOT_URL');
  const tokenUrl = url('MAIL2TICKET_GOOGLE_TOKEN_URL');
  const revokeUrl = url('MAIL2TICKET_GOOGLE_REVOKE_URL');
  return {
    clientId,
    clientSecret,
    ...(rootUrl ? { rootUrl: rootUrl.endsWith('/') ? rootUrl : `${rootUrl}/` } : {}),
    ...(tokenUrl ? { tokenUrl } : {}),
    ...(revokeUrl ? { revokeUrl } : {}),
    topicName: env.MAIL2TICKET_GMAIL_TOPIC?.trim() || 'projects/mail2ticket-local/topics/gmail',
  };
}

/**
 * `npm start`'s sandbox: fake providers on loopback (a fake Gmail with Pub/Sub pushes signed by a
 * local key; a fake Graph and Microsoft identity platform over TLS with a test CA) wired to the real
 * webhooks, queues and sync workers. MAIL2TICKET_SANDBOX=1 turns it on (npm start sets it when
 * unset), 0 off.
 */
export interface SandboxConfig {
  enabled: boolean;
  /**
   * The safety sync's period in npm start, for both connectors: MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS,
   * else GMAIL_SAFETY_SYNC_MINUTES, else one minute, so a sandbox outage visibly heals within a
   * minute (the deployed schedules' default is 15 minutes).
   */
  safetySyncSeconds: number;
  /**
   * Demo mailboxes per provider (MAIL2TICKET_SANDBOX_MAILBOXES, 1–20, default 1): support@… is the first,
   * support2@…, support3@… the others (the e2e benchmark runs ten mailboxes at once).
   */
  mailboxesPerProvider: number;
}

const SANDBOX_SAFETY_SYNC_SECONDS = 60;

export function loadSandboxConfig(env: Env = process.env): SandboxConfig {
  const flag = env.MAIL2TICKET_SANDBOX?.trim() || '0';
  if (flag !== '0' && flag !== '1') throw new ConfigError(`MAIL2TICKET_SANDBOX must be 1 (on) or 0 (off) (got "${flag}")`);
  const seconds = integer(env, 'MAIL2TICKET_SANDBOX_SAFETY_SYNC_SECONDS', 0, 1, 86_400);
  const minutes = env.GMAIL_SAFETY_SYNC_MINUTES?.trim() ? loadGmailSettings(env).safetySyncMinutes : undefined;
  return {
    enabled: flag === '1',
    safetySyncSeconds: seconds || (minutes ? minutes * 60 : SANDBOX_SAFETY_SYNC_SECONDS),
    mailboxesPerProvider: integer(env, 'MAIL2TICKET_SANDBOX_MAILBOXES', 1, 1, 20),
  };
}

export interface GraphWorkerSettings {
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  fullSyncDays: number;
  subscriptionMinutes: number;
  renewBeforeMinutes: number;
  stalledAfterMinutes: number;
  safetySyncMinutes: number;
  maxReceiveCount: number;
  timeReserveSeconds: number;
}

export function loadGraphSettings(env: Env = process.env): GraphWorkerSettings {
  return {
    notificationUrl: required(env, 'GRAPH_NOTIFICATION_URL'),
    lifecycleNotificationUrl: required(env, 'GRAPH_LIFECYCLE_URL'),
    fullSyncDays: integer(env, 'GRAPH_FULL_SYNC_DAYS', 7, 1, 365),
    // Outlook message subscriptions may last at most 10,080 minutes.
    subscriptionMinutes: integer(env, 'GRAPH_SUBSCRIPTION_MINUTES', 10_020, 60, 10_080),
    renewBeforeMinutes: integer(env, 'GRAPH_RENEW_BEFORE_MINUTES', 2 * 24 * 60, 30, 7 * 24 * 60),
    stalledAfterMinutes: integer(env, 'GRAPH_STALLED_AFTER_MINUTES', 60, 5, 7 * 24 * 60),
    safetySyncMinutes: integer(env, 'GRAPH_SAFETY_SYNC_MINUTES', 15, 1, 24 * 60),
    maxReceiveCount: integer(env, 'SYNC_MAX_RECEIVE_COUNT', 5, 2, 1000),
    timeReserveSeconds: syncTimeReserveSeconds(env),
  };
}

/**
 * The Microsoft 365 connector's settings in npm start's sandbox: the deployed worker's
 * (GRAPH_FULL_SYNC_DAYS, GRAPH_SUBSCRIPTION_MINUTES…), except that subscriptions always name npm
 * start's own webhooks on PORT.
 */
export function loadSandboxGraphSettings(env: Env, port: number): GraphWorkerSettings {
  const server = `http://127.0.0.1:${port}`;
  return loadGraphSettings({ ...env, GRAPH_NOTIFICATION_URL: `${server}/webhooks/graph`, GRAPH_LIFECYCLE_URL: `${server}/webhooks/graph/lifecycle` });
}

/** An Entra app for local use (an operator's own, or the sandbox's fake Microsoft identity). */
export interface LocalGraphConfig {
  clientId: string;
  clientSecret: string;
  graphBaseUrl?: string;
  authorityHost?: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
}

export function loadLocalGraphConfig(env: Env = process.env): LocalGraphConfig | undefined {
  const clientId = env.MAIL2TICKET_GRAPH_CLIENT_ID?.trim();
  const clientSecret = env.MAIL2TICKET_GRAPH_CLIENT_SECRET?.trim();
  if (!clientId || !clientSecret) return undefined;
  const url = (name: string, fallback?: string) => {
    const value = env[name]?.trim() || fallback;
    if (value !== undefined && !/^https?:\/\/[^\s]+$/.test(value)) throw new ConfigError(`${name} must be an http(s) URL`);
    return value;
  };
  const graphBaseUrl = url('MAIL2TICKET_GRAPH_BASE_URL');
  const authorityHost = url('MAIL2TICKET_GRAPH_AUTHORITY_HOST');
  const port = env.PORT?.trim() || '3000';
  return {
    clientId,
    clientSecret,
    ...(graphBaseUrl ? { graphBaseUrl } : {}),
    ...(authorityHost ? { authorityHost } : {}),
    notificationUrl: url('MAIL2TICKET_GRAPH_NOTIFICATION_URL', `http://127.0.0.1:${port}/webhooks/graph`) as string,
    lifecycleNotificationUrl: url('MAIL2TICKET_GRAPH_LIFECYCLE_URL', `http://127.0.0.1:${port}/webhooks/graph/lifecycle`) as string,
  };
}
