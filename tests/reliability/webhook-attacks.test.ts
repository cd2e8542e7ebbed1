// Attacks on the two webhooks as the local stack routes them (bench/reliability-queues.ts: the real
// webhook handlers behind one HTTP server, FIFO sync queues on fauxqs, the sync handlers on
// Lambda-style pollers, dynalite, s3rver). What counts is measured where it happens: jobs by the
// pollers' own record counters and the queues' depth, provider traffic by the fakes' request logs.
// Missing/forged/expired/wrong-audience Gmail tokens and wrong-clientState/unknown-subscription Graph
// items are also in tests/integration/{gmail,graph}-connector.test.ts; slow-loris bodies against npm
// start's server in tests/e2e/start-browser.test.ts.
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerMail, startReliabilityWorld, type ReliabilityMailbox, type ReliabilityWorld } from '../../bench/reliability-queues.js';
import { PubSubPushEmitter } from '../../shared/sandbox/pubsub-push.js';
import { captureLogs, Secrets, type LogCapture } from './log-capture.js';

let world: ReliabilityWorld;
/** Every log sink of the file's process, captured: no refused request may get its token logged. */
let capture: LogCapture;
const secrets = new Secrets(8);
const secret = (value: string | null | undefined, what: string) => secrets.add(value, what);

beforeAll(async () => {
  capture = captureLogs();
  world = await startReliabilityWorld({ visibilityTimeoutSeconds: 5, maxReceiveCount: 4 });
}, 60_000);
afterAll(async () => {
  capture?.stop();
  await world?.stop();
  expect(world.gmail.fake.errors).toEqual([]);
  expect(world.graph.fake.errors).toEqual([]);
});

/** Jobs the sync workers received and what is still queued (or in flight), per connector. */
async function jobs(): Promise<{ gmail: number; graph: number; queued: number }> {
  await world.drain(30_000);
  return { gmail: world.gmail.poller.stats.records, graph: world.graph.poller.stats.records, queued: await world.queueDepth() };
}

async function dlqDepth(queueUrl: string): Promise<number> {
  const { Attributes } = await world.queues.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

async function postRaw(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await response.arrayBuffer();
  return response.status;
}

/** A mailbox whose fake announces nothing by itself: every push below is the test's own. */
async function quietGmailMailbox(name: string): Promise<ReliabilityMailbox> {
  const mailbox = await world.addMailbox('gmail', name);
  await world.drain(30_000); // connecting enqueues nothing, but a watch start may: settle first
  return mailbox;
}

function deliverQuietly(mailbox: ReliabilityMailbox, id: string): void {
  const onChange = world.gmail.fake.onChange;
  world.gmail.fake.onChange = undefined;
  try {
    world.deliver(mailbox, customerMail(mailbox.address, id));
  } finally {
    world.gmail.fake.onChange = onChange;
  }
}

/** The claims of a real token re-encoded under `header` with `signature`: same content, other protection. */
function reframed(token: string, header: Record<string, unknown>, signature = ''): string {
  const [, payload] = token.split('.');
  return `${base64url.encode(JSON.stringify(header))}.${payload}.${signature}`;
}

describe('Gmail push webhook', () => {
  it('missing, malformed, forged, unsigned (alg none), HMAC-confused, expired, not-yet-valid, wrong-audience, wrong-issuer, wrong-account and unverified tokens: 401 each, 0 jobs, Gmail never called', async () => {
    const mailbox = await quietGmailMailbox('attacked');
    deliverQuietly(mailbox, 'gmail-attack-1');
    const { emitter } = world.gmail;
    const valid = await world.gmailPush(mailbox, '71000001');
    const forger = await PubSubPushEmitter.create({ audience: emitter.audience, serviceAccountEmail: emitter.serviceAccountEmail });
    const now = Math.floor(Date.now() / 1000);
    // The verifier's public key used as an HMAC secret: the classic RS256→HS256 confusion.
    const publicJwk = JSON.stringify(emitter.jwks().keys[0]);
    const confusedClaims = JSON.parse(Buffer.from(valid.token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    const hmacConfused = await new SignJWT(confusedClaims).setProtectedHeader({ alg: 'HS256', kid: emitter.kid, typ: 'JWT' }).sign(new TextEncoder().encode(publicJwk));

    const attempts: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['not bearer', { authorization: `Basic ${valid.token}` }],
      ['malformed', { authorization: 'Bearer not-a-jwt' }],
      ['forged (other key, same kid claims)', { authorization: `Bearer ${await forger.token()}` }],
      ['unsigned alg none', { authorization: `Bearer ${reframed(valid.token, { alg: 'none', typ: 'JWT' })}` }],
      ['signature stripped', { authorization: `Bearer ${reframed(valid.token, { alg: 'RS256', kid: emitter.kid, typ: 'JWT' })}` }],
      ['hmac confused', { authorization: `Bearer ${hmacConfused}` }],
      ['expired', { authorization: `Bearer ${await emitter.token({ iat: now - 7200, exp: now - 3600 })}` }],
      ['not yet valid', { authorization: `Bearer ${await emitter.token({ nbf: now + 3600, iat: now + 3600, exp: now + 7200 })}` }],
      ['wrong audience', { authorization: `Bearer ${await emitter.token({ aud: 'https://elsewhere.example/webhooks/gmail' })}` }],
      ['wrong issuer', { authorization: `Bearer ${await emitter.token({ iss: 'https://evil.example' })}` }],
      ['wrong service account', { authorization: `Bearer ${await emitter.token({ email: 'someone@evil.example' })}` }],
      ['unverified email', { authorization: `Bearer ${await emitter.token({ email_verified: false })}` }],
    ];
    for (const [label, headers] of attempts) secret(headers.authorization?.split(' ')[1], `${label} token`);
    secret(valid.token, 'genuine push token');
    secret(mailbox.address, 'mailbox address');
    const before = await jobs();
    const gmailCalls = world.gmail.fake.count('GET', '/');
    const statuses = Object.fromEntries(await Promise.all(attempts.map(async ([label, headers]) => [label, await postRaw(world.gmail.webhookUrl, valid.body, headers)] as const)));
    expect(statuses).toEqual(Object.fromEntries(attempts.map(([label]) => [label, 401])));
    expect(await jobs()).toEqual(before);
    expect(before.queued).toBe(0);
    expect(world.gmail.fake.count('GET', '/')).toBe(gmailCalls);
    expect(await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toEqual([]);

    // The control: the same body with the genuine token is one job and the message's one ticket.
    expect(await world.postGmailPush(valid)).toBe(204);
    expect((await jobs()).gmail).toBe(before.gmail + 1);
    expect(await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toHaveLength(1);
  }, 60_000);

  it('a captured push replayed 50 times after it was processed: 0 more jobs (same Pub/Sub message id, within the queue\'s deduplication window), still one ticket', async () => {
    const mailbox = await quietGmailMailbox('replayed');
    deliverQuietly(mailbox, 'gmail-replay-1');
    const push = await world.gmailPush(mailbox, '71000101');
    const before = await jobs();
    expect(await world.postGmailPush(push)).toBe(204);
    expect((await jobs()).gmail).toBe(before.gmail + 1);
    expect(await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toHaveLength(1);

    const afterFirst = await jobs();
    for (let i = 0; i < 50; i++) expect(await world.postGmailPush(push)).toBe(204);
    expect(await jobs()).toEqual(afterFirst);
    expect(await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toHaveLength(1);
  }, 60_000);

  it('known limit: a still-valid token replayed on a rewritten body (new message id) is one more sync job — Pub/Sub tokens are not bound to a body — and that sync finds nothing new: no ticket, no Gmail fetch', async () => {
    const mailbox = await quietGmailMailbox('rebodied');
    deliverQuietly(mailbox, 'gmail-rebody-1');
    const push = await world.gmailPush(mailbox, '71000201');
    secret(push.token, 'replayed push token');
    expect(await world.postGmailPush(push)).toBe(204);
    await jobs();
    const tickets = await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId);
    expect(tickets).toHaveLength(1);

    const before = await jobs();
    const rawFetches = world.gmail.fake.count('GET', '/messages/');
    const rewritten = JSON.parse(push.body) as { message: { messageId: string; message_id: string } };
    rewritten.message.messageId = rewritten.message.message_id = '71000299';
    expect(await world.postGmailPush({ token: push.token, body: JSON.stringify(rewritten) })).toBe(204);
    expect((await jobs()).gmail).toBe(before.gmail + 1);
    expect(world.gmail.fake.count('GET', '/messages/')).toBe(rawFetches);
    expect(await world.repo.listTickets(mailbox.tenantId, mailbox.mailboxId)).toEqual(tickets);
  }, 60_000);

  it('an oversized push (64 KiB + 1) with a genuine token: 413, 0 jobs', async () => {
    const mailbox = await quietGmailMailbox('oversized');
    const push = await world.gmailPush(mailbox, '71000301');
    const body = JSON.parse(push.body) as Record<string, unknown>;
    const padded = JSON.stringify({ ...body, padding: '' });
    const oversized = JSON.stringify({ ...body, padding: 'x'.repeat(64 * 1024 + 1 - Buffer.byteLength(padded)) });
    expect(Buffer.byteLength(oversized)).toBe(64 * 1024 + 1);
    const before = await jobs();
    expect(await world.postGmailPush({ token: push.token, body: oversized })).toBe(413);
    expect(await jobs()).toEqual(before);
  }, 60_000);
});

describe('Graph notification webhook', () => {
  it('wrong, missing and another mailbox\'s clientState, an unknown subscription, and lifecycle events with a wrong clientState: refused (401), 0 jobs, Graph never asked', async () => {
    const target = await world.addMailbox('graph', 'attacked');
    const other = await world.addMailbox('graph', 'neighbour');
    await world.drain(30_000);
    const [sub] = world.graph.fake.subscriptions(target.address);
    const [otherSub] = world.graph.fake.subscriptions(other.address);
    expect(sub?.clientState).toBeTruthy();
    expect(otherSub?.clientState).toBeTruthy();
    secret(sub?.clientState, 'clientState');
    secret(otherSub?.clientState, 'neighbour clientState');
    secret(target.address, 'mailbox address');
    const item = (overrides: Record<string, unknown>) => ({
      subscriptionId: sub!.id,
      changeType: 'created',
      resource: `Users/${randomUUID()}/Messages/AAMkAD`,
      resourceData: { id: 'AAMkAD' },
      tenantId: world.graph.azureTenant,
      ...overrides,
    });
    const rejectedBefore = world.graph.metrics.get('graph.notification_rejected');
    const before = await jobs();
    const graphCalls = world.graph.fake.count('GET', '/');
    const bodies = [
      { value: [item({ clientState: 'guessed' })] },
      { value: [item({})] },
      { value: [item({ clientState: otherSub!.clientState })] },
      { value: [item({ subscriptionId: randomUUID(), clientState: sub!.clientState })] },
      { value: [item({ subscriptionId: otherSub!.id, clientState: sub!.clientState })] },
    ];
    // Nothing in any of them is Graph's: refused as a forged Gmail push is (401), not acknowledged.
    for (const body of bodies) expect(await world.postGraph(JSON.stringify(body))).toBe(401);
    const lifecycle = await postRaw(`${world.graph.webhookUrl}/lifecycle`, JSON.stringify({ value: [{ subscriptionId: sub!.id, clientState: 'guessed', lifecycleEvent: 'subscriptionRemoved', tenantId: world.graph.azureTenant }] }));
    expect(lifecycle).toBe(401);
    expect(await jobs()).toEqual(before);
    expect(before.queued).toBe(0);
    expect(world.graph.metrics.get('graph.notification_rejected') - rejectedBefore).toBe(bodies.length + 1);
    expect(world.graph.fake.count('GET', '/')).toBe(graphCalls);
    // The subscription the forged lifecycle event named is still Graph's live one.
    expect(world.graph.fake.subscriptions(target.address).map((s) => s.id)).toEqual([sub!.id]);

    // The control: the same item with its own subscription's clientState, beside a forged one, is one job (202).
    expect(await world.postGraph(JSON.stringify({ value: [item({ clientState: 'guessed' }), item({ clientState: sub!.clientState })] }))).toBe(202);
    expect((await jobs()).graph).toBe(before.graph + 1);
  }, 60_000);

  it('1,000 forged items naming 1,000 subscriptions: 401, 0 jobs; 100 genuine ones for one mailbox: 202, one job', async () => {
    const target = await world.addMailbox('graph', 'batched');
    await world.drain(30_000);
    const [sub] = world.graph.fake.subscriptions(target.address);
    secret(sub?.clientState, 'batched clientState');
    const item = (overrides: Record<string, unknown>) => ({ changeType: 'created', resource: `Users/x/Messages/${randomUUID()}`, resourceData: { id: randomUUID() }, tenantId: world.graph.azureTenant, ...overrides });
    const before = await jobs();
    const forged = Array.from({ length: 1000 }, () => item({ subscriptionId: randomUUID(), clientState: 'guessed' }));
    expect(await world.postGraph(JSON.stringify({ value: forged }))).toBe(401);
    expect(await jobs()).toEqual(before);
    const genuine = Array.from({ length: 100 }, () => item({ subscriptionId: sub!.id, clientState: sub!.clientState }));
    expect(await world.postGraph(JSON.stringify({ value: genuine }))).toBe(202);
    expect((await jobs()).graph).toBe(before.graph + 1);
  }, 60_000);

  it('an oversized body (1 MiB + 1), more than 1,000 items, and bodies that are not a notification collection: 413 / 400, 0 jobs', async () => {
    const target = await world.addMailbox('graph', 'flooded');
    await world.drain(30_000);
    const [sub] = world.graph.fake.subscriptions(target.address);
    const genuine = { subscriptionId: sub!.id, clientState: sub!.clientState, changeType: 'created', resource: 'Users/x/Messages/AAMkAD', resourceData: { id: 'AAMkAD' }, tenantId: world.graph.azureTenant };
    const shell = JSON.stringify({ value: [genuine], padding: '' });
    const oversized = JSON.stringify({ value: [genuine], padding: 'x'.repeat(1024 * 1024 + 1 - Buffer.byteLength(shell)) });
    expect(Buffer.byteLength(oversized)).toBe(1024 * 1024 + 1);
    const before = await jobs();
    expect(await world.postGraph(oversized)).toBe(413);
    expect(await world.postGraph(JSON.stringify({ value: Array.from({ length: 1001 }, () => genuine) }))).toBe(400);
    for (const body of ['not json', '{"value":"x"}', '[]', '{"value":[']) expect(await world.postGraph(body)).toBe(400);
    expect(await jobs()).toEqual(before);
    expect(await dlqDepth(world.graph.dlqUrl)).toBe(0);
    // The control: the genuine item alone, well under the limits, is one job.
    expect(await world.postGraph(JSON.stringify({ value: [genuine] }))).toBe(202);
    expect((await jobs()).graph).toBe(before.graph + 1);
  }, 60_000);
});

describe('log hygiene under attack', () => {
  it('no captured line holds a push token (genuine, forged or replayed), a clientState or a mailbox address', () => {
    expect(capture.lines.some((l) => l.includes('"gmail push"'))).toBe(true);
    expect(capture.lines.some((l) => l.includes('"graph notifications"'))).toBe(true);
    expect(secrets.size).toBeGreaterThan(15);
    expect(secrets.leaksIn(capture)).toEqual([]);
  });
});
