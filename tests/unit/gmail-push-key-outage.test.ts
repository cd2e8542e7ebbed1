// Regression: while Google's signing keys could not be fetched, every genuine Gmail push was answered
// 401 and counted as gmail.push_unauthenticated, so Pub/Sub took the refusal as final for a push that
// was never judged. Now the webhook fails (Lambda's error, API Gateway's 500): Pub/Sub retries it, and
// only a token that is actually bad is a 401. The real handler, use-case and verifier against a key
// set served by a local HTTP server; the directory, index key and queue are in-memory fakes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlePush } from '../../functions/gmail-push/make-handler.js';
import { PubSubPushVerifier } from '../../shared/adapters/gmail/pubsub-push-verifier.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { DependencyUnavailable } from '../../shared/domain/errors.js';
import type { GmailPushDeps } from '../../shared/domain/gmail/push.js';
import type { QueuedJob } from '../../shared/domain/ports.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';

const AUDIENCE = 'https://hooks.example/webhooks/gmail';
const ACCOUNT = 'push@project.iam.gserviceaccount.com';

let emitter: PubSubPushEmitter;
let server: Server;
let certsUrl: URL;
/** What Google's certificate endpoint does now. */
let certs: JSONWebKeySet | 'down' | 'hang';
let metrics: CountingMetrics;
let jobs: QueuedJob[];
let push: ReturnType<typeof handlePush>;

beforeAll(async () => {
  emitter = await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT });
  server = createServer((_request, response) => {
    if (certs === 'hang') return;
    if (certs === 'down') return void response.writeHead(503).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(certs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  certsUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v3/certs`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  metrics = new CountingMetrics();
  jobs = [];
  const deps: GmailPushDeps = {
    // A fresh key set per test, as a fresh Lambda instance has: nothing cached.
    verifier: new PubSubPushVerifier({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT, keys: createRemoteJWKSet(certsUrl, { cooldownDuration: 0, timeoutDuration: 200 }) }),
    directory: { findAddress: async () => ({ tenantId: 'tenant01', mailboxId: 'mbx01' }) },
    keys: { blindIndex: async () => 'address-index' },
    queue: { enqueue: async (job) => void jobs.push(job) },
    metrics,
  };
  push = handlePush(deps);
});

const event = (token: string) => ({
  headers: { authorization: `Bearer ${token}` },
  body: JSON.stringify(emitter.body({ emailAddress: 'support@customer.example', historyId: 1234 })),
  isBase64Encoded: false,
});

describe('Gmail push while Google\'s signing keys cannot be fetched', () => {
  for (const outage of ['down', 'hang'] as const) {
    it(`fails the genuine push (a retry for Pub/Sub) instead of refusing it: keys ${outage === 'down' ? 'answered 503' : 'timed out'}`, async () => {
      certs = outage;
      await expect(push(event(await emitter.token()))).rejects.toBeInstanceOf(DependencyUnavailable);
      expect(metrics.get('gmail.push_unauthenticated')).toBe(0);
      expect(jobs).toEqual([]);
    });
  }

  it('still refuses a token that is not one (401, counted), without the keys', async () => {
    certs = 'down';
    expect(await push(event('not-a-jwt'))).toEqual({ statusCode: 401 });
    expect(await push({ ...event(''), headers: {} })).toEqual({ statusCode: 401 });
    expect(metrics.get('gmail.push_unauthenticated')).toBe(2);
    expect(jobs).toEqual([]);
  });

  it('once the keys are back: the genuine push is one job, a forged one a counted 401', async () => {
    certs = emitter.jwks();
    expect(await push(event(await emitter.token()))).toEqual({ statusCode: 204 });
    const forger = await PubSubPushEmitter.create({ audience: AUDIENCE, serviceAccountEmail: ACCOUNT });
    expect(await push(event(await forger.token()))).toEqual({ statusCode: 401 });
    expect(jobs).toHaveLength(1);
    expect(metrics.get('gmail.push_unauthenticated')).toBe(1);
    expect(metrics.get('gmail.push_accepted')).toBe(1);
  });
});
