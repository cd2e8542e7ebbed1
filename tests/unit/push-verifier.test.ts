// The push token check, attacked one property at a time: the verifier's options to jose (algorithm,
// issuers, audience, required claims, tolerance, maximum age) and jose's key selection are on trial.
// Genuine tokens come from the sandbox emitter; crafted ones are signed here with node:crypto. The key
// set is a local one, or a remote one served by a local HTTP server that counts its fetches.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GOOGLE_CERTS_URL, PubSubPushVerifier, pushSigningKeys } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { DependencyUnavailable } from '../../shared/domain/errors.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';

const AUDIENCE = 'https://hooks.example/webhooks/gmail';
const ACCOUNT = 'push@project.iam.gserviceaccount.com';
type Jwk = JSONWebKeySet['keys'][number];

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An RSA key pair of ours: its public JWK under `kid`, and RS256 tokens signed with node:crypto. */
function rsaSigner(kid: string, modulusLength = 2048) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const jwk: Jwk = { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    jwk,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
    token(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', kid, typ: 'JWT' }, hash = 'sha256'): string {
      const input = `${b64(header)}.${b64(claims)}`;
      return `${input}.${sign(hash, Buffer.from(input), privateKey).toString('base64url')}`;
    },
  };
}

function goodClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'https://accounts.google.com', aud: AUDIENCE, email: ACCOUNT, email_verified: true, sub: '1', azp: '1', iat: now, exp: now + 3600, ...overrides };
}

const verifierWith = (keys: JWTVerifyGetKey) => new PubSubPushVerifier({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT, keys });

let emitter: PubSubPushEmitter;
let ours: ReturnType<typeof rsaSigner>;
let verifier: PubSubPushVerifier;

beforeAll(async () => {
  emitter = await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT });
  ours = rsaSigner('ours-1');
  verifier = verifierWith(createLocalJWKSet({ keys: [...emitter.jwks().keys, ours.jwk] }));
});

describe('PubSubPushVerifier', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a genuine push token, signed by jose or by node:crypto with a key of the set', async () => {
    expect(await verifier.verify(await emitter.token())).toBe(true);
    expect(await verifier.verify(ours.token(goodClaims()))).toBe(true);
    // Both of Google's issuer spellings; an audience list naming ours.
    expect(await verifier.verify(await emitter.token({ iss: 'accounts.google.com' }))).toBe(true);
    expect(await verifier.verify(ours.token(goodClaims({ aud: ['https://other.example', AUDIENCE] })))).toBe(true);
  });

  it('refuses each invalid claim, and tolerates 30 seconds of clock skew at the edges', async () => {
    // The clock stands still for this test: the edges below are exact to the second, and a second ticking
    // over between signing and checking (CI saw it) would otherwise move them.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const now = Math.floor(Date.now() / 1000);
    const refused: Array<[string, Record<string, unknown>]> = [
      ['expired beyond the tolerance', { iat: now - 600, exp: now - 30 }],
      ['issued more than an hour ago, beyond the tolerance', { iat: now - 3631, exp: now + 60 }],
      ['issued beyond the tolerance in the future', { iat: now + 31, nbf: now }],
      ['issued in the future', { iat: now + 60 }],
      ['issued more than an hour ago', { iat: now - 3700, exp: now + 60 }],
      ['not yet valid', { nbf: now + 60 }],
      ['another issuer', { iss: 'https://evil.example' }],
      ['an issuer look-alike', { iss: 'https://accounts.google.com.evil.example' }],
      ['another audience', { aud: 'https://elsewhere.example/webhooks/gmail' }],
      ['an audience list without ours', { aud: ['https://elsewhere.example'] }],
      ['no audience', { aud: undefined }],
      ['another service account', { email: 'someone@evil.example' }],
      ['an unverified email', { email_verified: false }],
      ['email_verified as a string', { email_verified: 'true' }],
      ['no email', { email: undefined }],
      ['no expiry', { exp: undefined }],
      ['no issue time', { iat: undefined }],
      ['an expiry that is not a number', { exp: String(now + 3600) }],
      ['a null expiry', { exp: null }],
    ];
    for (const [label, overrides] of refused) {
      expect.soft(await verifier.verify(ours.token(goodClaims(overrides))), label).toBe(false);
    }
    expect(await verifier.verify(ours.token(goodClaims({ iat: now - 3630, exp: now - 29 }))), 'expired 29 s ago, issued an hour and 30 s ago').toBe(true);
    expect(await verifier.verify(ours.token(goodClaims({ iat: now + 30, nbf: now + 30 }))), 'issued and valid in 30 s').toBe(true);
  });

  it('refuses tokens whose header or signature were tampered with', async () => {
    const genuine = ours.token(goodClaims());
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const otherPayload = b64(goodClaims({ email: 'someone@evil.example' }));
    // The public key used as an HMAC secret: the classic RS256 → HS256 confusion, in both encodings.
    const hmac = (secret: string) => {
      const input = `${b64({ alg: 'HS256', kid: ours.kid, typ: 'JWT' })}.${payload}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const impostor = rsaSigner(ours.kid); // another key claiming our key's id
    const attempts: Array<[string, string]> = [
      ['alg none, no signature', `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`],
      ['alg none, signature kept', `${b64({ alg: 'none', kid: ours.kid })}.${payload}.${signature}`],
      ['signature stripped', `${header}.${payload}.`],
      ['hmac keyed by the public JWK', hmac(JSON.stringify(ours.jwk))],
      ['hmac keyed by the public modulus', hmac(String(ours.jwk.n))],
      ['hmac keyed by the public PEM', hmac(ours.publicPem)],
      ['RS512 with the right key', ours.token(goodClaims(), { alg: 'RS512', kid: ours.kid }, 'sha512')],
      ['RS256 signature under an RS512 header', `${b64({ alg: 'RS512', kid: ours.kid })}.${payload}.${signature}`],
      ['another key under our key id', impostor.token(goodClaims())],
      ['claims swapped under a genuine signature', `${header}.${otherPayload}.${signature}`],
      ['header re-encoded (same meaning, other bytes)', `${b64({ typ: 'JWT', kid: ours.kid, alg: 'RS256' })}.${payload}.${signature}`],
      ['an unknown key id', ours.token(goodClaims(), { alg: 'RS256', kid: 'unknown' })],
      ['no key id', ours.token(goodClaims(), { alg: 'RS256' })],
      ['a critical extension', ours.token(goodClaims(), { alg: 'RS256', kid: ours.kid, crit: ['exp'], exp: 1 })],
      ['an unencoded payload (b64 false)', ours.token(goodClaims(), { alg: 'RS256', kid: ours.kid, b64: false, crit: ['b64'] })],
    ];
    for (const [label, token] of attempts) expect.soft(await verifier.verify(token), label).toBe(false);
    // The control: the genuine token still passes, so each refusal above is the tampering's.
    expect(await verifier.verify(genuine)).toBe(true);
  });

  it('refuses malformed tokens without throwing', async () => {
    const genuine = ours.token(goodClaims());
    const [header, payload, signature] = genuine.split('.') as [string, string, string];
    const malformed = [
      '',
      'not-a-jwt',
      `${header}.${payload}`,
      `${genuine}.${signature}`,
      `${header}.${payload}.${signature}=`,
      `${header}.${payload}.${signature.replace(/-/g, '+').replace(/_/g, '/')}+/`,
      `${header} .${payload}.${signature}`,
      `${b64('not json')}.${payload}.${signature}`,
      `${b64([1, 2])}.${payload}.${signature}`,
      ours.token([goodClaims()] as unknown as Record<string, unknown>),
    ];
    for (const [i, token] of malformed.entries()) expect.soft(await verifier.verify(token), `malformed #${i}`).toBe(false);
  });

  it('uses only RS256 verification keys of 2048 bits or more, and no key id claimed twice', async () => {
    const weak = rsaSigner('weak', 1024);
    const forEncryption = rsaSigner('enc');
    const otherAlg = rsaSigner('rs384');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk: Jwk = { ...(ec.publicKey.export({ format: 'jwk' }) as Jwk), kid: 'ec', alg: 'RS256' };
    const twinA = rsaSigner('twin');
    const twinB = rsaSigner('twin');
    const noVerify = rsaSigner('no-verify');
    const set: JSONWebKeySet = {
      keys: [weak.jwk, { ...forEncryption.jwk, use: 'enc' }, { ...otherAlg.jwk, alg: 'RS384' }, ecJwk, twinA.jwk, twinB.jwk, { ...noVerify.jwk, key_ops: ['encrypt'] }],
    };
    const strict = verifierWith(createLocalJWKSet(set));
    for (const [label, signer] of [['1024-bit', weak], ['use enc', forEncryption], ['alg RS384', otherAlg], ['twin A', twinA], ['twin B', twinB], ['key_ops without verify', noVerify]] as const) {
      expect.soft(await strict.verify(signer.token(goodClaims())), label).toBe(false);
    }
    const ecToken = `${b64({ alg: 'RS256', kid: 'ec' })}.${b64(goodClaims())}.${sign('sha256', Buffer.from('x'), ec.privateKey).toString('base64url')}`;
    expect(await strict.verify(ecToken)).toBe(false);
    // A key without alg or use is Google's usual shape: accepted.
    const bare = rsaSigner('bare');
    const { alg: _alg, use: _use, ...bareJwk } = bare.jwk;
    expect(await verifierWith(createLocalJWKSet({ keys: [bareJwk] })).verify(bare.token(goodClaims()))).toBe(true);
  });
});

describe('a remote key set (as Google\'s certificates are used)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** Serves `current()` as a JWK set (or fails as it says) and counts the fetches. */
  async function certsServer(current: () => JSONWebKeySet | 'down' | 'not json' | 'not a key set' | 'hang'): Promise<{ url: URL; fetches: () => number }> {
    let fetches = 0;
    server = createServer((_request, response) => {
      fetches++;
      const body = current();
      if (body === 'down') return void response.writeHead(503).end();
      if (body === 'hang') return; // never answers: the key set's own timeout ends the wait
      if (body === 'not json') return void response.writeHead(200, { 'content-type': 'application/json' }).end('<html>');
      if (body === 'not a key set') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":"none"}');
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: new URL(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/oauth2/v3/certs`), fetches: () => fetches };
  }

  it('fetches once for many tokens, refetches once for an unknown key id, then not again during the cooldown', async () => {
    const first = rsaSigner('first');
    const second = rsaSigner('second');
    let published: JSONWebKeySet = { keys: [first.jwk] };
    const certs = await certsServer(() => published);
    const keys = createRemoteJWKSet(certs.url, { cooldownDuration: 60_000 });
    await keys.reload();
    const remote = verifierWith(keys);
    for (let i = 0; i < 5; i++) expect(await remote.verify(first.token(goodClaims()))).toBe(true);
    expect(certs.fetches()).toBe(1);

    // Google rotates: the new key is unknown until the set is fetched again, within the cooldown.
    published = { keys: [first.jwk, second.jwk] };
    expect(await remote.verify(second.token(goodClaims()))).toBe(false);
    expect(await remote.verify(first.token(goodClaims(), { alg: 'RS256', kid: 'made-up-1' }))).toBe(false);
    expect(certs.fetches()).toBe(1);
  });

  it('picks up a rotated key with one refetch once the cooldown has passed', async () => {
    const first = rsaSigner('first');
    const second = rsaSigner('second');
    let published: JSONWebKeySet = { keys: [first.jwk] };
    const certs = await certsServer(() => published);
    const remote = verifierWith(createRemoteJWKSet(certs.url, { cooldownDuration: 0 }));
    expect(await remote.verify(first.token(goodClaims()))).toBe(true);
    published = { keys: [second.jwk] };
    expect(await remote.verify(second.token(goodClaims()))).toBe(true);
    expect(certs.fetches()).toBe(2);
    // The retired key is gone from the set it now serves.
    expect(await remote.verify(first.token(goodClaims()))).toBe(false);
  });

  it('fails as unavailable, never as a refusal, while the key set cannot be fetched (error status, not JSON, not a key set, timeout), and recovers when it can', async () => {
    const signer = rsaSigner('k');
    let published: JSONWebKeySet | 'down' | 'not json' | 'not a key set' | 'hang' = 'down';
    const certs = await certsServer(() => published);
    const remote = verifierWith(createRemoteJWKSet(certs.url, { cooldownDuration: 0, timeoutDuration: 200 }));
    const unavailable = async (label: string) => {
      const outcome = await remote.verify(signer.token(goodClaims())).catch((error: unknown) => error);
      expect.soft(outcome, label).toBeInstanceOf(DependencyUnavailable);
      return outcome;
    };
    const down = await unavailable('503');
    // The cause is kept for the log; the message names no URL or token.
    expect((down as Error).cause).toBeDefined();
    for (const state of ['not json', 'not a key set', 'hang'] as const) {
      published = state;
      await unavailable(state);
    }
    // A token that is not one is refused without asking for keys, whatever their state.
    expect(await remote.verify('not-a-jwt')).toBe(false);
    const fetches = certs.fetches();

    published = { keys: [signer.jwk] };
    expect(await remote.verify(signer.token(goodClaims()))).toBe(true);
    // With the keys at hand, a forged token is a refusal again, not an outage.
    expect(await remote.verify(rsaSigner('k').token(goodClaims()))).toBe(false);
    expect(await remote.verify(signer.token(goodClaims(), { alg: 'RS256', kid: 'unknown' }))).toBe(false);
    expect(certs.fetches()).toBeGreaterThan(fetches);
  });

  it('fails as unavailable when nothing listens where the keys are', async () => {
    const certs = await certsServer(() => ({ keys: [] }));
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const remote = verifierWith(createRemoteJWKSet(certs.url));
    await expect(remote.verify(rsaSigner('k').token(goodClaims()))).rejects.toBeInstanceOf(DependencyUnavailable);
  });
});

describe('pushSigningKeys', () => {
  it('accepts a sandbox-signed push only with MAIL2TICKET_SANDBOX=1 outside Lambda', async () => {
    const token = await emitter.token();
    const verifierFor = (env: Record<string, string | undefined>) =>
      new PubSubPushVerifier({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT, keys: pushSigningKeys(env, emitter.jwks()) });

    expect(await verifierFor({ MAIL2TICKET_SANDBOX: '1' }).verify(token)).toBe(true);
    // Otherwise Google's keys, never the sandbox's: Google's set (here serving none of the sandbox's
    // keys) is fetched, and the sandbox token is refused.
    const asked: string[] = [];
    vi.stubGlobal('fetch', async (url: string | URL) => {
      asked.push(String(url));
      return new Response(JSON.stringify({ keys: [ours.jwk] }), { status: 200, headers: { 'content-type': 'application/json' } });
    });
    try {
      expect(await verifierFor({}).verify(token)).toBe(false);
      expect(await verifierFor({ MAIL2TICKET_SANDBOX: '1', AWS_LAMBDA_FUNCTION_NAME: 'gmail-push' }).verify(token)).toBe(false);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(asked).toEqual([GOOGLE_CERTS_URL, GOOGLE_CERTS_URL]);
  });
});

