// The tenant-lifecycle function as the operator invokes it in AWS, through its real make-handler and
// composition of adapters: the ticket table in dynalite, the real @aws-sdk/client-kms against the
// wire-level KMS fake. A tenant gets its own tagged, aliased keys before its record exists; a retry
// after a partial failure finishes the job without a second live key; an invite link verifies on the
// consent site; closing schedules the keys' deletion, counts it, and leaves the data unreadable.
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { composeTenantLifecycle, kmsTenantKeys } from '../../functions/tenant-lifecycle/compose.js';
import { makeHandler, type TenantLifecycleHandlerDeps } from '../../functions/tenant-lifecycle/make-handler.js';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { KmsTenantKeyProvisioner } from '../../shared/adapters/crypto/kms-tenant-keys.js';
import { DynamoDbConsentStore } from '../../shared/adapters/dynamodb/dynamodb-consent-store.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { CountingMetrics } from '../../shared/adapters/system/metrics.js';
import { ulidIds } from '../../shared/adapters/system/system.js';
import { createTenant, openInvite } from '../../shared/domain/consent/invites.js';
import type { EncryptionContext } from '../../shared/domain/ports.js';
import { ensureTable } from '../../shared/local/dynalite.js';
import { FakeKms } from '../fakes/kms.js';
import { startLocalStorage, type LocalStorage } from '../support/local-storage.js';

const BASE = 'https://consent.example';
const DELAYS = [5, 5, 5];
const PREFIX = 'alias/mail2ticket/tenant/';
let storage: LocalStorage;
let fakeKms: FakeKms;
let kms: KMSClient;
let metrics: CountingMetrics;
let deps: TenantLifecycleHandlerDeps;
let handle: ReturnType<typeof makeHandler>;
let now = new Date('2026-12-02T10:00:00Z');
const clock = { now: () => now };

beforeAll(async () => {
  storage = await startLocalStorage('tenant-lifecycle');
  await ensureTable(storage.client, 'tickets');
  fakeKms = new FakeKms();
  await fakeKms.start();
  // One attempt: an injected failure is the run's failure, not absorbed by the SDK's retries.
  kms = new KMSClient({ endpoint: fakeKms.endpoint, region: fakeKms.region, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const repo = new DynamoDbTicketRepository(storage.client, 'tickets');
  deps = {
    store: new DynamoDbConsentStore(storage.client, 'tickets'),
    clock,
    ids: ulidIds(),
    signingKey: Buffer.alloc(32, 9),
    baseUrl: BASE,
    // Milliseconds, not KMS's minutes of tag propagation: what matters is how many denials are waited out.
    keys: kmsTenantKeys(kms, undefined, { authorizationDelaysMs: DELAYS }),
    retention: { repo, retention: repo, blobs: storage.blobs(), clock },
    metrics: new CountingMetrics(),
  };
}, 60_000);
afterAll(async () => {
  kms?.destroy();
  await fakeKms?.stop();
  await storage?.stop();
});
beforeEach(() => {
  metrics = new CountingMetrics();
  deps = { ...deps, metrics };
  handle = makeHandler(deps);
});

/** The tenant's keys in the fake, by role tag. */
function keysOf(tenantId: string) {
  return fakeKms.listKeys().filter((key) => key.tags['mail2ticket:tenant'] === tenantId);
}
const live = (tenantId: string) => keysOf(tenantId).filter((key) => !key.pendingDeletion);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const context = (tenantId: string): EncryptionContext => ({ tenantId, mailboxId: 'mbx-1', purpose: 'body' });

describe('create-tenant', () => {
  it('creates a tagged, aliased data key (rotated) and HMAC index key, then the record, and answers as the CLI does', async () => {
    const created = await handle({ task: 'create-tenant', name: '  Acme Widgets AB ' });
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'id', 'name']);
    const { id } = created as { id: string; name: string; createdAt: string };
    expect(created).toEqual({ id: expect.stringMatching(/^t-[0-9a-z]{26}$/), name: 'Acme Widgets AB', createdAt: now.toISOString() });
    expect(await deps.store.getTenant(id)).toEqual({ tenantId: id, name: 'Acme Widgets AB', createdAt: now.toISOString() });

    const keys = keysOf(id);
    expect(keys).toHaveLength(2);
    const data = keys.find((key) => key.tags['mail2ticket:role'] === 'data');
    const index = keys.find((key) => key.tags['mail2ticket:role'] === 'index');
    expect(data).toMatchObject({ spec: 'SYMMETRIC_DEFAULT', rotation: true, pendingDeletion: false, aliases: [`${PREFIX}${id}`], tags: { 'mail2ticket:tenant': id, 'mail2ticket:role': 'data' } });
    expect(index).toMatchObject({ spec: 'HMAC_256', rotation: false, pendingDeletion: false, aliases: [`${PREFIX}${id}-index`], tags: { 'mail2ticket:tenant': id, 'mail2ticket:role': 'index' } });
    // No customer data in KMS: the description names the role and the opaque id only.
    for (const key of keys) expect(key.description).not.toMatch(/acme/i);
    expect(metrics.get('tenant_keys_created')).toBe(2);

    // What every other function does with the tenant's keys, through the aliases only.
    const service = new KmsKeyService({ kms });
    const sealed = await service.encrypt(Buffer.from('a ticket body'), context(id));
    expect(Buffer.from(await service.decrypt(sealed, context(id))).toString()).toBe('a ticket body');
    const indexed = await service.blindIndex(id, 'address', 'someone@example.com');
    expect(indexed).toMatch(/^[0-9a-f]{64}$/);
    expect(await new KmsKeyService({ kms }).blindIndex(id, 'address', 'someone@example.com')).toBe(indexed);
  });

  it('answers a repeated request with the same tenant and creates no key; another name under the same id is refused', async () => {
    const first = await handle({ task: 'create-tenant', name: 'Repeat AB', id: 'repeat-1' });
    const createKeys = fakeKms.count('CreateKey');
    now = new Date(now.getTime() + 60_000);
    expect(await handle({ task: 'create-tenant', name: 'Repeat AB', id: 'repeat-1' })).toEqual(first);
    expect(fakeKms.count('CreateKey')).toBe(createKeys);
    expect(metrics.get('tenant_keys_created')).toBe(2);
    expect((await rejection(handle({ task: 'create-tenant', name: 'Someone Else', id: 'repeat-1' }))).message).toBe('tenant repeat-1 exists');
    expect(live('repeat-1')).toHaveLength(2);
  });

  it('after the index key failed, names the generated id; the retry with it creates only the missing key', async () => {
    const createKeys = fakeKms.count('CreateKey');
    fakeKms.failNext('CreateKey', 'LimitExceededException', 1, { after: 1 });
    const error = await rejection(handle({ task: 'create-tenant', name: 'Partial AB' }));
    const id = /"id": "(t-[0-9a-z]+)"/.exec(error.message)?.[1] as string;
    expect(id, error.message).toBeDefined();
    expect(error.name).toBe('TenantCreationIncomplete');
    // Keys first: the half-made tenant has no record, so nobody can invite its admin yet.
    expect(await deps.store.getTenant(id)).toBeUndefined();
    expect((await rejection(handle({ task: 'invite', tenantId: id }))).message).toBe(`no tenant ${id}`);
    expect(keysOf(id).map((key) => key.tags['mail2ticket:role'])).toEqual(['data']);

    const created = await handle({ task: 'create-tenant', name: 'Partial AB', id });
    expect(created).toMatchObject({ id, name: 'Partial AB' });
    expect(fakeKms.count('CreateKey') - createKeys).toBe(3); // data, the failed index, the retry's index
    expect(live(id).map((key) => key.tags['mail2ticket:role']).sort()).toEqual(['data', 'index']);
    expect(keysOf(id)).toHaveLength(2);
    expect(live(id).every((key) => key.aliases.length === 1)).toBe(true);
    expect(metrics.get('tenant_keys_created')).toBe(1);
  });

  it('after rotation failed on a key that has its alias, the retry enables it on that key and creates none in its place', async () => {
    fakeKms.failNext('EnableKeyRotation', 'KMSInvalidStateException');
    await rejection(handle({ task: 'create-tenant', name: 'Rotation AB', id: 'rotation-1' }));
    const [data] = keysOf('rotation-1');
    expect(data).toMatchObject({ rotation: false, aliases: [`${PREFIX}rotation-1`] });
    expect(await deps.store.getTenant('rotation-1')).toBeUndefined();

    await handle({ task: 'create-tenant', name: 'Rotation AB', id: 'rotation-1' });
    const keys = keysOf('rotation-1');
    expect(keys).toHaveLength(2);
    expect(keys.find((key) => key.arn === data?.arn)).toMatchObject({ rotation: true, pendingDeletion: false });
  });

  it('waits out a new key’s tags not yet being honoured (AccessDenied right after CreateKey), creating no second key', async () => {
    fakeKms.failNext('CreateAlias', 'AccessDeniedException', DELAYS.length);
    fakeKms.failNext('EnableKeyRotation', 'AccessDeniedException', 2);
    const createKeys = fakeKms.count('CreateKey');
    await handle({ task: 'create-tenant', name: 'Lag AB', id: 'lag-1' });
    expect(fakeKms.count('CreateKey') - createKeys).toBe(2);
    expect(live('lag-1').map((key) => [key.tags['mail2ticket:role'], key.aliases.length, key.rotation])).toEqual([
      ['data', 1, true],
      ['index', 1, false],
    ]);
  });

  it('a key whose alias stays refused is scheduled for deletion, so the retry leaves one live key per role', async () => {
    fakeKms.failNext('CreateAlias', 'AccessDeniedException', DELAYS.length + 1);
    expect((await rejection(handle({ task: 'create-tenant', name: 'Denied AB', id: 'denied-1' }))).name).toBe('AccessDeniedException');
    expect(keysOf('denied-1')).toMatchObject([{ aliases: [], pendingDeletion: true }]);

    fakeKms.failNext('CreateAlias', 'LimitExceededException');
    expect((await rejection(handle({ task: 'create-tenant', name: 'Alias AB', id: 'alias-1' }))).name).toBe('LimitExceededException');
    const [abandoned] = keysOf('alias-1');
    expect(abandoned).toMatchObject({ aliases: [], pendingDeletion: true });

    await handle({ task: 'create-tenant', name: 'Alias AB', id: 'alias-1' });
    expect(live('alias-1').map((key) => key.tags['mail2ticket:role']).sort()).toEqual(['data', 'index']);
    expect(live('alias-1').every((key) => key.aliases.length === 1)).toBe(true);
  });

  it('two runs racing for one tenant end with one live key per role: the loser abandons its own', async () => {
    const provisioner = new KmsTenantKeyProvisioner({ kms });
    const results = await Promise.all([provisioner.createTenantKeys('race-1'), provisioner.createTenantKeys('race-1')]);
    expect(live('race-1').map((key) => key.tags['mail2ticket:role']).sort()).toEqual(['data', 'index']);
    expect(results.reduce((sum, r) => sum + r.created, 0)).toBe(live('race-1').length);
    expect(await provisioner.tenantKeyState('race-1')).toBe('active');
  });
});

describe('invites', () => {
  it('issues a link the consent site accepts, in the CLI JSON shape, with the expiry asked for', async () => {
    const { id: tenantId } = (await handle({ task: 'create-tenant', name: 'Invited AB', id: 'invited-1' })) as { id: string };
    const issued = (await handle({ task: 'invite', tenantId, expires: '36h' })) as { url: string; id: string; tenantId: string; expiresAt: string };
    expect(Object.keys(issued).sort()).toEqual(['expiresAt', 'id', 'tenantId', 'url']);
    expect(issued).toEqual({ url: expect.stringMatching(new RegExp(`^${BASE}/connect\\?invite=`)), id: expect.any(String), tenantId, expiresAt: new Date(now.getTime() + 36 * 3_600_000).toISOString() });
    const opened = await openInvite(deps, new URL(issued.url).searchParams.get('invite') ?? undefined);
    expect(opened.invite).toMatchObject({ tenantId, inviteId: issued.id, status: 'open' });

    const defaulted = (await handle({ task: 'invite', tenantId })) as { expiresAt: string };
    expect(defaulted.expiresAt).toBe(new Date(now.getTime() + 7 * 86_400_000).toISOString());

    expect(await handle({ task: 'revoke-invite', inviteId: issued.id })).toEqual({ id: issued.id, tenantId, status: 'revoked' });
    expect((await rejection(openInvite(deps, new URL(issued.url).searchParams.get('invite') ?? undefined))).message).toBe('invite_revoked');
    expect((await rejection(handle({ task: 'revoke-invite', inviteId: issued.id }))).message).toMatch(/already revoked/);
  });

  it('refuses to invite the admin of a tenant that has a record but no keys', async () => {
    // As the local CLI would have made it: a record and nothing in KMS.
    await createTenant(deps, 'Keyless AB', 'keyless-1');
    expect((await rejection(handle({ task: 'invite', tenantId: 'keyless-1' }))).message).toMatch(/has no keys yet/);
  });
});

describe('close-tenant', () => {
  it('disconnects the mailboxes, schedules both keys for deletion, counts it, and leaves the data unreadable', async () => {
    const { id } = (await handle({ task: 'create-tenant', name: 'Closing AB', id: 'closing-1' })) as { id: string };
    await deps.retention.repo.putMailbox({ tenantId: id, mailboxId: 'mbx-1', provider: 'local', status: 'connected', createdAt: now.toISOString() });
    const sealed = await new KmsKeyService({ kms }).encrypt(Buffer.from('to be forgotten'), context(id));

    const closed = await handle({ task: 'close-tenant', tenantId: id });
    expect(closed).toEqual({
      tenantId: id,
      mailboxes: 1,
      keysDestroyedBy: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      // The account's own records (access log, restrictions, consent records) go by this deadline.
      recordsPurgeBy: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    });
    const destroyedBy = Date.parse((closed as { keysDestroyedBy: string }).keysDestroyedBy);
    expect(destroyedBy - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(destroyedBy - Date.now()).toBeLessThan(7.1 * 86_400_000);
    expect(fakeKms.isPendingDeletion(`${PREFIX}${id}`)).toBe(true);
    expect(fakeKms.isPendingDeletion(`${PREFIX}${id}-index`)).toBe(true);
    expect(metrics.get('tenant_keys_scheduled_for_deletion')).toBe(1);
    expect((await deps.retention.repo.getMailbox(id, 'mbx-1'))?.status).toBe('disconnected');

    await expect(new KmsKeyService({ kms }).decrypt(sealed, context(id))).rejects.toThrow();
    // A closed account gets no new invite, and its id can't be created again.
    expect((await rejection(handle({ task: 'invite', tenantId: id }))).message).toBe(`tenant ${id} is closed`);
    expect((await rejection(handle({ task: 'create-tenant', name: 'Closing AB', id }))).name).toBe('TenantKeysUnusable');
    // Closing again (a retried invoke) finds the keys pending and answers the same deadline.
    expect(await handle({ task: 'close-tenant', tenantId: id })).toEqual(closed);
  });

  it('destroys nothing for an unknown tenant id', async () => {
    const scheduled = fakeKms.count('ScheduleKeyDeletion');
    expect((await rejection(handle({ task: 'close-tenant', tenantId: 'no-such-tenant' }))).message).toBe('no tenant no-such-tenant');
    expect(fakeKms.count('ScheduleKeyDeletion')).toBe(scheduled);
    expect(metrics.get('tenant_keys_scheduled_for_deletion')).toBe(0);
  });
});

describe('bad payloads', () => {
  it.each([
    [null, /JSON object with a "task"/],
    [[], /JSON object with a "task"/],
    ['create-tenant', /JSON object with a "task"/],
    [{}, /"task" must be one of "create-tenant", "invite", "revoke-invite", "close-tenant"/],
    [{ task: 'delete-everything' }, /"task" must be one of/],
    [{ task: 'create-tenant' }, /"name" must be a non-empty string/],
    [{ task: 'create-tenant', name: '   ' }, /"name" must be a non-empty string/],
    [{ task: 'create-tenant', name: 'x'.repeat(201) }, /1 to 200 characters/],
    [{ task: 'create-tenant', name: 'Bad Id AB', id: '../etc' }, /a tenant id is 1 to 64/],
    [{ task: 'create-tenant', name: 'Bad Id AB', id: 42 }, /"id" must be a non-empty string/],
    [{ task: 'invite' }, /"tenantId" must be a non-empty string/],
    [{ task: 'invite', tenantId: 'invited-1', expires: 'soon' }, /"expires" takes days/],
    [{ task: 'invite', tenantId: 'invited-1', expires: '90d' }, /at most 30 days/],
    [{ task: 'revoke-invite' }, /"inviteId" must be a non-empty string/],
    [{ task: 'close-tenant', tenantId: '' }, /"tenantId" must be a non-empty string/],
    [{ task: 'close-tenant', tenantId: 'a/b' }, /a tenant id is 1 to 64/],
  ])('rejects %j without touching a key', async (payload, message) => {
    const before = fakeKms.count('CreateKey') + fakeKms.count('ScheduleKeyDeletion');
    expect((await rejection(handle(payload))).message).toMatch(message);
    expect(fakeKms.count('CreateKey') + fakeKms.count('ScheduleKeyDeletion')).toBe(before);
    expect(metrics.counts.size).toBe(0);
  });
});

describe('composition', () => {
  it('refuses to start without an https consent base URL', async () => {
    const env = { AWS_REGION: 'eu-west-1', TABLE_NAME: 't', BUCKET_NAME: 'b', CONSENT_SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s' };
    await expect(composeTenantLifecycle({ ...env, CONSENT_BASE_URL: 'http://consent.example' })).rejects.toThrow('CONSENT_BASE_URL must be an https:// URL');
    await expect(composeTenantLifecycle(env)).rejects.toThrow('CONSENT_BASE_URL is required');
  });
});
