// CDK context, read and validated once at synth. Every key is declared once in CONTEXT below with
// its default and its check; `InfraConfig` is derived from that table, so a new key (the Gmail push
// audience, the Microsoft app id, the alarm e-mail…) is one line here and nothing else to keep in
// step. Nothing personal or secret belongs in cdk.json: such values come with `-c key=value`.
import type { Node } from 'constructs';

/** A bad context value. The message names every offending key. */
export class ContextError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'ContextError';
  }
}

/** How one key is read: `raw` is what `tryGetContext` returned (a string from `-c`, JSON from cdk.json). */
export interface ContextValue<T> {
  read(key: string, raw: unknown): T;
}

/** Thrown by a reader; collected so that one synth reports every bad key at once. */
class Invalid extends Error {}

const isUnset = (raw: unknown): boolean => raw === undefined || raw === null || raw === '';

/** A whole number in [min, max]. Strings must be plain decimal digits (no `1e1`, no `0x1e`). */
export function integer(options: { readonly min: number; readonly max: number; readonly fallback: number }): ContextValue<number> {
  const { min, max, fallback } = options;
  return {
    read(key, raw) {
      if (isUnset(raw)) return fallback;
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new Invalid(`CDK context "${key}" must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      }
      return value;
    },
  };
}

/**
 * A string matching `pattern`, described to the operator as `expected` (e.g. "an https URL"). Without
 * a fallback the key is optional and reads as undefined; `required` makes its absence an error.
 */
export function text(options: { readonly pattern: RegExp; readonly expected: string; readonly required: true }): ContextValue<string>;
export function text(options: { readonly pattern: RegExp; readonly expected: string; readonly fallback?: string }): ContextValue<string | undefined>;
export function text(options: { readonly pattern: RegExp; readonly expected: string; readonly fallback?: string; readonly required?: boolean }): ContextValue<string | undefined> {
  return {
    read(key, raw) {
      if (isUnset(raw)) {
        if (options.required) throw new Invalid(`CDK context "${key}" is required: ${options.expected}`);
        return options.fallback;
      }
      if (typeof raw !== 'string' || !options.pattern.test(raw)) {
        throw new Invalid(`CDK context "${key}" must be ${options.expected} (got ${JSON.stringify(raw)})`);
      }
      return raw;
    },
  };
}

/** Google's names, checked here at synth and by CloudFormation when they come as parameters. */
export const GOOGLE_SERVICE_ACCOUNT = /^[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$/;
export const PUBSUB_TOPIC = /^projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]\/topics\/[A-Za-z][-\w.~+%]{2,254}$/;
export const GOOGLE_SERVICE_ACCOUNT_EXPECTED = 'a Google service account e-mail, e.g. gmail-push@my-project.iam.gserviceaccount.com';
export const PUBSUB_TOPIC_EXPECTED = 'projects/<project>/topics/<topic>';

/** A lower-case DNS name of at least two labels (no scheme, port, path or trailing dot). */
export const DOMAIN_NAME = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An ACM certificate ARN; its region is captured (a regional API Gateway domain needs one of its own region). */
export const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const PUSH_AUDIENCE = /^https:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/;
const PUSH_AUDIENCE_EXPECTED = 'an https URL without query or fragment';
/** A GUID in its usual 8-4-4-4-12 hex form, either case. */
export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** One plain address (what SNS accepts as an email endpoint): no display name, no list. */
export const EMAIL_ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Every context key the app reads. Later issues add theirs here (see `text` for strings). */
const CONTEXT = {
  /** Days from disconnect until every item and object of a mailbox is gone (≤ 30: the promise). */
  retentionDays: integer({ min: 1, max: 30, fallback: 30 }),
  /** Days a backup recovery point may live (≤ 365: the promise). */
  backupRetentionDays: integer({ min: 1, max: 365, fallback: 365 }),
  /** Receives before an ingest job goes to the dead-letter queue. */
  maxReceiveCount: integer({ min: 1, max: 100, fallback: 5 }),

  /**
   * The audience of the Gmail push subscription's OIDC token. Unset: the webhook's own URL, which is
   * what Pub/Sub uses when the subscription names no audience. `gmailPushAudience` is the older
   * spelling of the same key (see ALIASES).
   */
  googlePushAudience: text({ pattern: PUSH_AUDIENCE, expected: PUSH_AUDIENCE_EXPECTED }),
  gmailPushAudience: text({ pattern: PUSH_AUDIENCE, expected: PUSH_AUDIENCE_EXPECTED }),
  /**
   * The service account the push subscription authenticates as. Unset: the stack takes it as the
   * CloudFormation parameter GmailPushServiceAccount, which a deploy cannot leave out.
   * `gmailPushServiceAccount` is the older spelling.
   */
  googlePushServiceAccount: text({ pattern: GOOGLE_SERVICE_ACCOUNT, expected: GOOGLE_SERVICE_ACCOUNT_EXPECTED }),
  gmailPushServiceAccount: text({ pattern: GOOGLE_SERVICE_ACCOUNT, expected: GOOGLE_SERVICE_ACCOUNT_EXPECTED }),
  /** The Pub/Sub topic Gmail watches publish to. Unset: the CloudFormation parameter GmailTopic. */
  gmailTopic: text({ pattern: PUBSUB_TOPIC, expected: PUBSUB_TOPIC_EXPECTED }),
  /** Days of inbox a first (or history-expired) sync reads. */
  gmailFullSyncDays: integer({ min: 1, max: 30, fallback: 7 }),
  /** Minutes between safety syncs: a lost push is caught within one interval. */
  gmailSafetySyncMinutes: integer({ min: 5, max: 60, fallback: 15 }),
  /** Receives before a Gmail sync job is dead-lettered (≥ 3: a throttled job first waits, then hands over). */
  gmailSyncMaxReceiveCount: integer({ min: 3, max: 100, fallback: 8 }),
  /** Days of inbox a first (or delta-expired) Microsoft 365 sync reads. */
  graphFullSyncDays: integer({ min: 1, max: 30, fallback: 7 }),
  /** Minutes between Microsoft 365 safety syncs: a lost notification is caught within one interval. */
  graphSafetySyncMinutes: integer({ min: 5, max: 60, fallback: 15 }),
  /** Receives before a Microsoft 365 sync job is dead-lettered (≥ 3, as for Gmail). */
  graphSyncMaxReceiveCount: integer({ min: 3, max: 100, fallback: 8 }),
  /** Steady requests per second the webhook API accepts (default stage throttling). */
  webhookRateLimit: integer({ min: 1, max: 10_000, fallback: 50 }),
  /** Burst the webhook API accepts above the steady rate. */
  webhookBurstLimit: integer({ min: 1, max: 5_000, fallback: 100 }),

  /**
   * The consent site's own domain (the OAuth callbacks and invite links are built on it), with
   * `consentCertificateArn`: both or neither. Unset: the API's default endpoint.
   */
  consentDomainName: text({ pattern: DOMAIN_NAME, expected: 'a lower-case domain name, e.g. connect.example.com' }),
  /** The ACM certificate for `consentDomainName`, in the stack's region. */
  consentCertificateArn: text({ pattern: ACM_CERTIFICATE_ARN, expected: 'an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>' }),

  /**
   * The Entra application (client) id of the Microsoft 365 connector. Set: every function reading the
   * Graph app secret refuses, at cold start, a secret stored for another app (GRAPH_APP_ID).
   */
  msAppId: text({ pattern: GUID, expected: 'the Entra application (client) id, a GUID like 00000000-0000-0000-0000-000000000000' }),
  /** Subscribed (e-mail) to the alarm topic. Unset: the topic exists and nobody is subscribed yet. */
  alarmEmail: text({ pattern: EMAIL_ADDRESS, expected: 'an e-mail address, e.g. ops@example.com' }),
} satisfies Record<string, ContextValue<unknown>>;

/**
 * Older spellings that keep working: each maps to the key the issue named. Giving both with different
 * values is an error naming both; otherwise both names read the merged value (the stack reads the new one).
 */
const ALIASES = { gmailPushAudience: 'googlePushAudience', gmailPushServiceAccount: 'googlePushServiceAccount' } as const;
type Alias = keyof typeof ALIASES;

type Spec = Record<string, ContextValue<unknown>>;
export type ConfigOf<S extends Spec> = { readonly [K in keyof S]: S[K] extends ContextValue<infer T> ? T : never };
export type InfraConfig = ConfigOf<typeof CONTEXT>;

/** Reads the keys of `spec` from the construct tree's context; throws one error naming each bad key. */
export function readContext<S extends Spec>(node: Node, spec: S): ConfigOf<S> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(spec)) {
    try {
      values[key] = value.read(key, node.tryGetContext(key));
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new ContextError(problems);
  // Every key of `spec` was assigned above with the type its reader returns.
  return values as ConfigOf<S>;
}

export function readInfraConfig(node: Node): InfraConfig {
  const config = mergeAliases(readContext(node, CONTEXT));
  // Keys that only make sense together: each valid on its own, checked as a pair here.
  if ((config.consentDomainName === undefined) !== (config.consentCertificateArn === undefined)) {
    throw new ContextError(['CDK context "consentDomainName" and "consentCertificateArn" go together: give both (the consent site under your domain) or neither (the API\'s own endpoint)']);
  }
  return config;
}

/** Gives each alias and its key the same value: either spelling alone works, both only if they agree. */
function mergeAliases(read: ConfigOf<typeof CONTEXT>): InfraConfig {
  const merged: Record<string, unknown> = { ...read };
  const problems: string[] = [];
  for (const [alias, key] of Object.entries(ALIASES) as Array<[Alias, (typeof ALIASES)[Alias]]>) {
    const [old, current] = [read[alias], read[key]];
    if (old !== undefined && current !== undefined && old !== current) {
      problems.push(`CDK context "${key}" and "${alias}" (its older spelling) differ (${JSON.stringify(current)} vs ${JSON.stringify(old)}): give only "${key}"`);
    }
    merged[key] = merged[alias] = current ?? old;
  }
  if (problems.length > 0) throw new ContextError(problems);
  // Every key of CONTEXT, each with the type its reader returns (an alias shares its key's type).
  return merged as InfraConfig;
}
