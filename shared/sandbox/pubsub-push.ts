// Plays Cloud Pub/Sub delivering a Gmail notification to a push endpoint: the wrapped push body
// (`{ message: { data, messageId, message_id, publishTime, publish_time }, subscription }`) and the
// OIDC token Pub/Sub signs for an authenticated push subscription (RS256, iss accounts.google.com, aud,
// azp/sub = the service account's numeric id, email, email_verified). The signing key is generated
// here; `jwks()` is what a verifier trusts in place of Google's certificates.
import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload } from 'jose';

export interface GmailNotification {
  emailAddress: string;
  /** Decimal uint64, as the Gmail API returns it. */
  historyId: string | number | bigint;
}

export interface PushBodyOptions {
  messageId?: string;
  publishTime?: Date;
  /** Gmail's own notifications carry historyId as a JSON number; its guide's example shows a string. */
  historyIdAs?: 'number' | 'string';
  attributes?: Record<string, string>;
}

export interface PushBody {
  message: {
    data: string;
    messageId: string;
    message_id: string;
    publishTime: string;
    publish_time: string;
    attributes?: Record<string, string>;
  };
  subscription: string;
}

export interface PushTokenClaims extends JWTPayload {
  iss: string;
  aud: string;
  azp: string;
  sub: string;
  email: string;
  email_verified: boolean;
  iat: number;
  exp: number;
}

const USER_AGENT = 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)';

export class PubSubPushEmitter {
  private published = 0;

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicJwk: JSONWebKeySet['keys'][number],
    readonly audience: string,
    readonly serviceAccountEmail: string,
    readonly subscription: string,
  ) {}

  static async create(options: { audience: string; serviceAccountEmail: string; subscription?: string }): Promise<PubSubPushEmitter> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = createHash('sha1').update(JSON.stringify(await exportJWK(publicKey))).digest('hex');
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    const subscription = options.subscription ?? 'projects/mail2ticket-sandbox/subscriptions/gmail-push';
    return new PubSubPushEmitter(privateKey, jwk, options.audience, options.serviceAccountEmail, subscription);
  }

  /** The public half of the signing key, as a JWK set (Google publishes its own at /oauth2/v3/certs). */
  jwks(): JSONWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  get kid(): string {
    return this.publicJwk.kid as string;
  }

  /** A push token as Pub/Sub signs it; `overrides` replace claims (e.g. another aud, an old exp). */
  async token(overrides: Partial<PushTokenClaims> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const numericId = serviceAccountNumericId(this.serviceAccountEmail);
    const claims: PushTokenClaims = {
      iss: 'https://accounts.google.com',
      aud: this.audience,
      azp: numericId,
      sub: numericId,
      email: this.serviceAccountEmail,
      email_verified: true,
      iat: now,
      exp: now + 3600,
      ...overrides,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' }).sign(this.privateKey);
  }

  /** The wrapped push body. `data` is standard base64 of Gmail's `{"emailAddress","historyId"}`. */
  body(notification: GmailNotification, options: PushBodyOptions = {}): PushBody {
    const historyId = String(notification.historyId);
    if (!/^\d{1,20}$/.test(historyId)) throw new Error(`historyId must be a decimal uint64, not ${historyId}`);
    // Written by hand so a historyId beyond 2^53 keeps every digit as a JSON number.
    const json = `{"emailAddress":${JSON.stringify(notification.emailAddress)},"historyId":${options.historyIdAs === 'string' ? `"${historyId}"` : historyId}}`;
    this.published += 1;
    const messageId = options.messageId ?? String(2_070_443_601_311_540 + this.published);
    const publishTime = (options.publishTime ?? new Date()).toISOString();
    return {
      message: {
        data: Buffer.from(json, 'utf8').toString('base64'),
        messageId,
        message_id: messageId,
        publishTime,
        publish_time: publishTime,
        ...(options.attributes ? { attributes: { ...options.attributes } } : {}),
      },
      subscription: this.subscription,
    };
  }

  /**
   * POSTs a push like Pub/Sub does and returns the endpoint's HTTP status. The token defaults to a
   * fresh valid one; pass a string to send another, or null to send none.
   */
  async push(url: string, notification: GmailNotification | PushBody, options: { token?: string | null } & PushBodyOptions = {}): Promise<number> {
    const body = 'message' in notification ? notification : this.body(notification, options);
    const token = options.token === undefined ? await this.token() : options.token;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        from: 'noreply@google.com',
        ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }
}

/** Service accounts have a 21-digit numeric unique id; derive a stable one from the email. */
function serviceAccountNumericId(email: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(email).digest('hex').slice(0, 16)}`).toString().padStart(20, '0');
  return `1${digits.slice(0, 20)}`;
}
