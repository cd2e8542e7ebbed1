// The KeyService adapters: LocalKeyService on real key files, KmsKeyService through the real
// @aws-sdk/client-kms against a KMS wire-format fake, and both streaming into s3rver through the real
// S3 SDK. Each property is proven on the real code, never on a copy of its logic.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CiphertextRejected } from '../../shared/adapters/crypto/errors.js';
import { KmsKeyService, type IndexKeyStore, type KmsKeyServiceOptions } from '../../shared/adapters/crypto/kms-key-service.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { DependencyUnavailable, InvalidInput } from '../../shared/domain/errors.js';
import type { EncryptionContext, KeyService } from '../../shared/domain/ports.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../../shared/local/s3rver.js';
import { FakeKms } from '../fakes/kms.js';
import { KmsBlindIndex } from '../../shared/adapters/crypto/kms-blind-index.js';

const ctx: EncryptionContext = { tenantId: 'acme', mailboxId: 'support', purpose: 'raw' };
const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2t-crypto-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bytes that are not all alike, so a mixed-up frame order could not pass unnoticed. */
function pattern(bytes: number, seed = 0): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) out.writeUInt32LE((i * 2654435761 + seed) >>> 0, Math.min(i, bytes - 4));
  return out;
}

function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function through(data: Buffer, transform: Duplex): Promise<Buffer> {
  const [out] = await Promise.all([buffer(transform), pipeline(Readable.from(chunksOf(data, 256 * 1024)), transform)]);
  return out;
}

/** Resolves with how many output bytes a transform emitted before its input was ended. */
async function bytesOutBeforeEnd(transform: Duplex, input: Buffer): Promise<number> {
  let seen = 0;
  transform.on('data', (chunk: Buffer) => (seen += chunk.length));
  for (const chunk of chunksOf(input, 64 * 1024)) {
    if (!transform.write(chunk)) await new Promise((resolve) => transform.once('drain', resolve));
  }
  // Let the last frames through the SDK's promise-driven pipeline before looking.
  await vi.waitFor(() => expect(seen).toBeGreaterThan(input.length / 2), { timeout: 5000, interval: 5 });
  const before = seen;
  const done = new Promise((resolve, reject) => transform.once('end', resolve).once('error', reject));
  transform.end();
  await done;
  return before;
}

function keyServiceContract(name: string, make: () => Promise<KeyService>) {
  describe(`${name} (KeyService contract)`, () => {
    it('round-trips and binds a ciphertext to exactly its tenant, mailbox and purpose', async () => {
      const keys = await make();
      const sealed = await keys.encrypt(Buffer.from('PHRASE-SECRET-1'), ctx);
      expect(Buffer.from(sealed).toString('latin1')).not.toContain('PHRASE-SECRET-1');
      expect(Buffer.from(await keys.decrypt(sealed, ctx)).toString()).toBe('PHRASE-SECRET-1');
      for (const other of [{ ...ctx, tenantId: 'globex' }, { ...ctx, mailboxId: 'sales' }, { ...ctx, purpose: 'body' as const }]) {
        await expect(keys.decrypt(sealed, other)).rejects.toBeInstanceOf(CiphertextRejected);
      }
    });

    it('streams 20 MB through encryption and decryption, and refuses the stream under another context', async () => {
      const keys = await make();
      const plain = pattern(20 * MiB, 7);
      const sealed = await through(plain, keys.encryptStream(ctx));
      expect(sealed.length).toBeGreaterThan(plain.length);
      expect((await through(sealed, keys.decryptStream(ctx))).equals(plain)).toBe(true);
      for (const other of [{ ...ctx, tenantId: 'globex' }, { ...ctx, mailboxId: 'sales' }, { ...ctx, purpose: 'attachment' as const }]) {
        const wrong = keys.decryptStream(other);
        const received: Buffer[] = [];
        wrong.on('data', (chunk: Buffer) => received.push(chunk));
        await expect(pipeline(Readable.from([sealed]), wrong)).rejects.toBeInstanceOf(CiphertextRejected);
        expect(received).toEqual([]);
      }
    });

    it('decrypts what encrypt sealed as a stream and the other way round', async () => {
      const keys = await make();
      const plain = pattern(300 * 1024, 3);
      const streamed = await through(plain, keys.encryptStream(ctx));
      expect(Buffer.from(await keys.decrypt(streamed, ctx)).equals(plain)).toBe(true);
      const whole = Buffer.from(await keys.encrypt(plain, ctx));
      expect((await through(whole, keys.decryptStream(ctx))).equals(plain)).toBe(true);
    });

    it('rejects a tampered or truncated ciphertext', async () => {
      const keys = await make();
      const sealed = Buffer.from(await keys.encrypt(pattern(200 * 1024), ctx));
      const flipped = Buffer.from(sealed);
      flipped[flipped.length - 100] = (flipped[flipped.length - 100] ?? 0) ^ 1;
      await expect(keys.decrypt(flipped, ctx)).rejects.toBeInstanceOf(CiphertextRejected);
      await expect(keys.decrypt(sealed.subarray(0, sealed.length - 10), ctx)).rejects.toBeInstanceOf(CiphertextRejected);
      await expect(through(sealed.subarray(0, sealed.length - 10), keys.decryptStream(ctx))).rejects.toBeInstanceOf(CiphertextRejected);
      await expect(keys.decrypt(Buffer.from('not a ciphertext at all'), ctx)).rejects.toBeInstanceOf(CiphertextRejected);
    });

    it('keeps blind indexes equal within a tenant and apart across tenants and kinds', async () => {
      const keys = await make();
      const a = await keys.blindIndex('acme', 'address', 'alice@customer.example');
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      expect(await keys.blindIndex('acme', 'address', 'alice@customer.example')).toBe(a);
      expect(await (await make()).blindIndex('acme', 'address', 'alice@customer.example')).toBe(a);
      expect(await keys.blindIndex('globex', 'address', 'alice@customer.example')).not.toBe(a);
      expect(await keys.blindIndex('acme', 'message-id', 'alice@customer.example')).not.toBe(a);
      // The kind/value boundary can't be shifted to forge a collision.
      expect(await keys.blindIndex('acme', 'ab', 'c')).not.toBe(await keys.blindIndex('acme', 'a', 'bc'));
    });
  });
}

describe('LocalKeyService', () => {
  const keyDir = () => join(dir, 'keys');
  keyServiceContract('LocalKeyService', async () => new LocalKeyService({ keyDir: keyDir() }));

  it('keeps one 32-byte key file per tenant, mode 0600, in a 0700 directory', async () => {
    const keys = new LocalKeyService({ keyDir: join(dir, 'modes', 'keys') });
    await keys.encrypt(Buffer.from('x'), { ...ctx, tenantId: 'modes-tenant' });
    const file = join(dir, 'modes', 'keys', 'modes-tenant.key');
    expect((await readFile(file)).length).toBe(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'modes', 'keys'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'modes', 'keys'))).toEqual(['modes-tenant.key']);
  });

  it('settles a race to create a tenant key on one key, whoever wins', async () => {
    const raceDir = join(dir, 'race');
    const services = Array.from({ length: 8 }, () => new LocalKeyService({ keyDir: raceDir }));
    const sealed = await Promise.all(services.map((s, i) => s.encrypt(Buffer.from(`from ${i}`), ctx)));
    // Every instance opens every other instance's ciphertext: they all ended up with the same key.
    for (const s of services) {
      for (const [i, c] of sealed.entries()) expect(Buffer.from(await s.decrypt(c, ctx)).toString()).toBe(`from ${i}`);
    }
    expect(await readdir(raceDir)).toEqual(['acme.key']);
  });

  it('refuses tenant ids that are not a safe file name, and writes nothing for them', async () => {
    const keys = new LocalKeyService({ keyDir: join(dir, 'unsafe', 'keys') });
    for (const tenantId of ['../escape', 'a/b', '', '.', 'x'.repeat(65), 'nul\0']) {
      await expect(keys.encrypt(Buffer.from('x'), { ...ctx, tenantId })).rejects.toBeInstanceOf(InvalidInput);
      await expect(keys.blindIndex(tenantId, 'address', 'x')).rejects.toBeInstanceOf(InvalidInput);
    }
    await expect(readdir(join(dir, 'unsafe'))).rejects.toThrow(/ENOENT/);
  });

  it('makes a tenant unreadable once its key file is destroyed, and only that tenant', async () => {
    const closureDir = join(dir, 'closure');
    const keys = new LocalKeyService({ keyDir: closureDir });
    const acme = await keys.encrypt(Buffer.from('acme data'), ctx);
    const acmeStream = await through(Buffer.from('acme stream data'), keys.encryptStream(ctx));
    const globex = await keys.encrypt(Buffer.from('globex data'), { ...ctx, tenantId: 'globex' });
    const indexBefore = await keys.blindIndex('acme', 'address', 'alice@customer.example');

    await keys.destroyTenantKey('acme');
    const reopened = new LocalKeyService({ keyDir: closureDir });
    for (const service of [keys, reopened]) {
      await expect(service.decrypt(acme, ctx)).rejects.toBeInstanceOf(CiphertextRejected);
      await expect(through(acmeStream, service.decryptStream(ctx))).rejects.toBeInstanceOf(CiphertextRejected);
    }
    // Reading a destroyed tenant's data does not bring a key back.
    expect(await readdir(closureDir)).toEqual(['globex.key']);
    expect(Buffer.from(await reopened.decrypt(globex, { ...ctx, tenantId: 'globex' })).toString()).toBe('globex data');

    // A new key for the same tenant id opens nothing old, and its indexes don't match the old ones.
    await keys.encrypt(Buffer.from('new life'), ctx);
    await expect(keys.decrypt(acme, ctx)).rejects.toBeInstanceOf(CiphertextRejected);
    expect(await keys.blindIndex('acme', 'address', 'alice@customer.example')).not.toBe(indexBefore);
  });

  it('refuses a ciphertext in a signed suite, even under the right key and context', async () => {
    const keys = new LocalKeyService({ keyDir: join(dir, 'suite') });
    await keys.encrypt(Buffer.from('creates the key'), ctx);
    const keyring = new RawAesKeyringNode({
      keyName: 'acme',
      keyNamespace: 'mail2ticket-local',
      unencryptedMasterKey: await readFile(join(dir, 'suite', 'acme.key')),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });
    const { result } = await buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT).encrypt(keyring, Buffer.from('signed'), {
      encryptionContext: { tenant: 'acme', mailbox: 'support', purpose: 'raw' },
      suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    });
    await expect(keys.decrypt(result, ctx)).rejects.toBeInstanceOf(CiphertextRejected);
  });

  it('is a true streaming transform: ciphertext and plaintext leave before the input ends', async () => {
    const keys = new LocalKeyService({ keyDir: keyDir() });
    const plain = pattern(4 * MiB, 11);
    expect(await bytesOutBeforeEnd(keys.encryptStream(ctx), plain)).toBeGreaterThan(3 * MiB);
    const sealed = await through(plain, keys.encryptStream(ctx));
    expect(await bytesOutBeforeEnd(keys.decryptStream(ctx), sealed)).toBeGreaterThan(3 * MiB);
  });

  it('seals a 200-byte plaintext in a few hundred bytes (one header, one frame)', async () => {
    const keys = new LocalKeyService({ keyDir: keyDir() });
    const sealed = await keys.encrypt(pattern(200), ctx);
    // Header (context, one wrapped data key, commitment) + one final frame + no signature.
    expect(sealed.length).toBeGreaterThan(200 + 100);
    expect(sealed.length).toBeLessThan(200 + 400);
    console.info(`[crypto] ciphertext of a 200-byte plaintext: ${sealed.length} bytes`);
  });
});

describe('KmsKeyService against a KMS wire-format fake', () => {
  const kms = new FakeKms();
  const clients: KMSClient[] = [];
  const client = (maxAttempts = 3) => {
    const c = new KMSClient({ endpoint: kms.endpoint, region: kms.region, maxAttempts, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    await kms.start();
    for (const tenant of ['acme', 'globex', 'bounded', 'aged', 'bytes', 'closing', 'wrapped', 'flaky']) {
      kms.createKey(`alias/mail2ticket/tenant/${tenant}`);
      kms.createKey(`alias/mail2ticket/tenant/${tenant}-index`);
    }
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await kms.stop();
  });
  const make = (options: Partial<KmsKeyServiceOptions> = {}) => new KmsKeyService({ kms: client(), ...options });

  keyServiceContract('KmsKeyService', async () => make());

  it('gives the webhooks\' index-only KmsBlindIndex exactly the indexes KmsKeyService gives, per tenant', async () => {
    const full = make();
    const light = new KmsBlindIndex({ kms: client() });
    for (const [tenant, kind, value] of [['acme', 'gmail-address', 'support@acme.example'], ['globex', 'graph-client-state', 'x'], ['acme', 'address', '']] as const) {
      expect(await light.blindIndex(tenant, kind, value)).toBe(await full.blindIndex(tenant, kind, value));
    }
    expect(await light.blindIndex('acme', 'address', 'a@b.c')).not.toBe(await light.blindIndex('globex', 'address', 'a@b.c'));
    kms.calls.clear();
    for (let i = 0; i < 10; i++) await light.blindIndex('acme', 'address', `x${i}`);
    expect(kms.total()).toBe(0);
  });

  it('calls KMS once per data key, not per object, with a warm cache', async () => {
    const keys = make();
    await keys.encrypt(Buffer.from('warm-up'), ctx);
    kms.calls.clear();
    const sealed: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) sealed.push(await keys.encrypt(Buffer.from(`object ${i}`), ctx));
    for (let i = 0; i < 20; i++) sealed.push(await through(Buffer.from(`stream ${i}`), keys.encryptStream(ctx)));
    expect(kms.total()).toBe(0);
    for (const s of sealed) await keys.decrypt(s, ctx);
    for (let i = 0; i < 50; i++) await keys.blindIndex('acme', 'address', `a${i}@example.org`);
    // One Decrypt for the data key on the read side, one MAC for the index key: a handful in all.
    expect(kms.count('Decrypt')).toBe(1);
    expect(kms.count('GenerateMac')).toBe(1);
    expect(kms.total()).toBe(2);
  });

  it('asks KMS for one data key per (mailbox, purpose), cold, after one DescribeKey', async () => {
    kms.calls.clear();
    const keys = make();
    for (const c of [ctx, { ...ctx, purpose: 'body' as const }, { ...ctx, mailboxId: 'sales' }]) {
      for (let i = 0; i < 10; i++) await keys.encrypt(Buffer.from('x'), c);
    }
    expect(kms.count('DescribeKey')).toBe(1);
    expect(kms.count('GenerateDataKey')).toBe(3);
  });

  it('refuses another context before asking KMS to unwrap anything', async () => {
    const writer = make();
    const sealed = await writer.encrypt(Buffer.from('bound'), ctx);
    kms.calls.clear();
    await expect(make().decrypt(sealed, { ...ctx, mailboxId: 'sales' })).rejects.toBeInstanceOf(CiphertextRejected);
    expect(kms.count('Decrypt')).toBe(0);
  });

  it('binds wrapped keys to their context in the fake exactly as KMS does', async () => {
    const c = client();
    const { CiphertextBlob } = await c.send(new EncryptCommand({ KeyId: 'alias/mail2ticket/tenant/acme', Plaintext: Buffer.from('k'), EncryptionContext: { tenant: 'acme', purpose: 'x' } }));
    const ok = await c.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'x', tenant: 'acme' } }));
    expect(Buffer.from(ok.Plaintext ?? []).toString()).toBe('k');
    await expect(c.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { tenant: 'globex', purpose: 'x' } }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(c.send(new DecryptCommand({ CiphertextBlob }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('renews a data key after maxMessagesEncrypted messages', async () => {
    const keys = make({ cacheBounds: { maxMessagesEncrypted: 10 } });
    const bounded = { ...ctx, tenantId: 'bounded' };
    kms.calls.clear();
    for (let i = 0; i < 25; i++) await keys.encrypt(Buffer.from(`m${i}`), bounded);
    expect(kms.count('GenerateDataKey')).toBe(3); // messages 1-10, 11-20, 21-25
  });

  it('renews a data key after maxBytesEncrypted bytes', async () => {
    const keys = make({ cacheBounds: { maxBytesEncrypted: 1000 } });
    const bytes = { ...ctx, tenantId: 'bytes' };
    kms.calls.clear();
    for (let i = 0; i < 10; i++) await keys.encrypt(pattern(400, i), bytes);
    expect(kms.count('GenerateDataKey')).toBe(5); // two 400-byte messages per 1000-byte key
    // A stream counts as maxStreamBytes, above this bound: each one gets a key of its own.
    for (let i = 0; i < 3; i++) await through(pattern(10), keys.encryptStream(bytes));
    expect(kms.count('GenerateDataKey')).toBe(8);
  });

  it('renews a data key after maxAgeMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const keys = make({ cacheBounds: { maxAgeMs: 5 * 60_000 } });
    const aged = { ...ctx, tenantId: 'aged' };
    kms.calls.clear();
    await keys.encrypt(Buffer.from('a'), aged);
    vi.setSystemTime(Date.now() + 4 * 60_000);
    await keys.encrypt(Buffer.from('b'), aged);
    expect(kms.count('GenerateDataKey')).toBe(1);
    vi.setSystemTime(Date.now() + 2 * 60_000);
    await keys.encrypt(Buffer.from('c'), aged);
    expect(kms.count('GenerateDataKey')).toBe(2);
  });

  it('uses an injected key resolver; a key ARN needs no DescribeKey', async () => {
    const arn = kms.createKey('alias/custom/acme');
    kms.calls.clear();
    const keys = make({ resolveKeyId: async (tenantId, role) => (role === 'data' ? arn : `alias/mail2ticket/tenant/${tenantId}-index`) });
    const sealed = await keys.encrypt(Buffer.from('custom'), ctx);
    expect(Buffer.from(await make({ resolveKeyId: async () => arn }).decrypt(sealed, ctx)).toString()).toBe('custom');
    expect(kms.count('DescribeKey')).toBe(0);
  });

  it('keeps a wrapped random index key in a store: one KMS call per process, one key under a race', async () => {
    const stored = new Map<string, Uint8Array>();
    const store: IndexKeyStore = {
      get: async (tenantId) => stored.get(tenantId),
      putIfAbsent: async (tenantId, wrapped) => {
        if (!stored.has(tenantId)) stored.set(tenantId, wrapped);
        return stored.get(tenantId) as Uint8Array;
      },
    };
    kms.calls.clear();
    const racers = [make({ indexKeyStore: store }), make({ indexKeyStore: store }), make({ indexKeyStore: store })];
    const first = await Promise.all(racers.map((k) => k.blindIndex('wrapped', 'address', 'bob@customer.example')));
    expect(new Set(first).size).toBe(1);
    expect(stored.size).toBe(1);
    expect(kms.count('GenerateMac')).toBe(0);
    for (let i = 0; i < 50; i++) await racers[0]?.blindIndex('wrapped', 'address', `b${i}@example.org`);
    const cold = make({ indexKeyStore: store });
    kms.calls.clear();
    expect(await cold.blindIndex('wrapped', 'address', 'bob@customer.example')).toBe(first[0]);
    expect(await cold.blindIndex('wrapped', 'message-id', 'bob@customer.example')).not.toBe(first[0]);
    expect(kms.count('Decrypt')).toBe(1);
    // The HMAC-key source gives other indexes: the choice is per deployment, not per call.
    expect(await make().blindIndex('wrapped', 'address', 'bob@customer.example')).not.toBe(first[0]);
  });

  it('closes a tenant: both keys scheduled for deletion by ARN, its data unreadable at once', async () => {
    const keys = make({ deletionWindowDays: 7 });
    const closing = { ...ctx, tenantId: 'closing' };
    const sealed = await keys.encrypt(Buffer.from('to be forgotten'), closing);
    const { destroyedBy } = await keys.destroyTenantKeys('closing');
    expect(Date.parse(destroyedBy) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(kms.isPendingDeletion('alias/mail2ticket/tenant/closing')).toBe(true);
    expect(kms.isPendingDeletion('alias/mail2ticket/tenant/closing-index')).toBe(true);
    for (const service of [keys, make()]) {
      await expect(service.decrypt(sealed, closing)).rejects.toBeInstanceOf(CiphertextRejected);
      await expect(service.blindIndex('closing', 'address', 'x')).rejects.toThrow();
    }
    expect(Buffer.from(await keys.decrypt(await keys.encrypt(Buffer.from('ok'), ctx), ctx)).toString()).toBe('ok');
    // A retried closure (say, after a crash between the two keys) succeeds with the same date.
    kms.calls.clear();
    expect(await make().destroyTenantKeys('closing')).toEqual({ destroyedBy });
    expect(kms.count('ScheduleKeyDeletion')).toBe(0);
  });

  it('reports KMS trouble as DependencyUnavailable, on both paths, and recovers', async () => {
    const flaky = { ...ctx, tenantId: 'flaky' };
    const writer = make();
    const sealed = await writer.encrypt(Buffer.from('later'), flaky);

    const noRetry = () => new KmsKeyService({ kms: client(1) });
    kms.failNext('GenerateDataKey', 'ThrottlingException');
    await expect(noRetry().encrypt(Buffer.from('x'), flaky)).rejects.toBeInstanceOf(DependencyUnavailable);
    // The keyring folds Decrypt failures into one message; the transient cause must still show.
    kms.failNext('Decrypt', 'KMSInternalException');
    await expect(noRetry().decrypt(sealed, flaky)).rejects.toBeInstanceOf(DependencyUnavailable);
    kms.failNext('Decrypt', 'KMSInternalException');
    await expect(through(Buffer.from(sealed), noRetry().decryptStream(flaky))).rejects.toBeInstanceOf(DependencyUnavailable);
    kms.failNext('GenerateMac', 'ThrottlingException');
    await expect(noRetry().blindIndex('flaky', 'address', 'x')).rejects.toBeInstanceOf(DependencyUnavailable);
    // Nothing failed is remembered: the same instance works once KMS answers again.
    const service = noRetry();
    kms.failNext('DescribeKey', 'KMSInternalException');
    await expect(service.encrypt(Buffer.from('x'), flaky)).rejects.toBeInstanceOf(DependencyUnavailable);
    expect(Buffer.from(await service.decrypt(sealed, flaky)).toString()).toBe('later');

    const down = new KmsKeyService({
      kms: new KMSClient({ endpoint: 'http://127.0.0.1:9', region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
      resolveKeyId: async () => 'arn:aws:kms:eu-west-1:123456789012:key/00000000000000000000000000000000',
    });
    await expect(down.encrypt(Buffer.from('x'), ctx)).rejects.toBeInstanceOf(DependencyUnavailable);
  });
});

describe('encrypted objects in S3 (s3rver)', () => {
  let s3: RunningS3rver;
  let store: S3BlobStore;
  const raw = () => makeS3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
  beforeAll(async () => {
    s3 = await startS3rver({ dir: join(dir, 's3') });
    store = new S3BlobStore(raw(), s3.bucket);
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('streams 30 MB encrypt → S3 → decrypt, storing only ciphertext', async () => {
    const keys = new LocalKeyService({ keyDir: join(dir, 'keys') });
    const attachment: EncryptionContext = { tenantId: 'acme', mailboxId: 'support', purpose: 'attachment' };
    const phrase = Buffer.from('PHRASE-AT-REST-9e1 confidential invoice text ');
    const plain = Buffer.concat([pattern(30 * MiB - 2 * phrase.length * 1000, 5), Buffer.concat(Array.from({ length: 2000 }, () => phrase))]);

    const encrypt = keys.encryptStream(attachment);
    const stored = store.put('t/acme/m/support/att/secret', encrypt);
    await pipeline(Readable.from(chunksOf(plain, 64 * 1024)), encrypt);
    await stored;

    const object = await raw().send(new GetObjectCommand({ Bucket: s3.bucket, Key: 't/acme/m/support/att/secret' }));
    const bytes = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(bytes.length).toBeGreaterThan(plain.length);
    expect(bytes.includes(Buffer.from('PHRASE-AT-REST'))).toBe(false);

    const decrypt = keys.decryptStream(attachment);
    const hash = createHash('sha256');
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(await store.get('t/acme/m/support/att/secret'), decrypt, sink);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(plain).digest('hex'));

    // The object is bound to its context: read as a raw message, it does not open.
    await expect(pipeline(await store.get('t/acme/m/support/att/secret'), keys.decryptStream({ ...attachment, purpose: 'raw' }), new PassThrough().resume())).rejects.toBeInstanceOf(
      CiphertextRejected,
    );
  });

  it('fails the upload, not hangs it, when the key service fails mid-pipeline', async () => {
    const keys = new LocalKeyService({ keyDir: join(dir, 'keys') });
    const encrypt = keys.encryptStream({ ...ctx, tenantId: '../bad' });
    const stored = store.put('t/bad/raw', encrypt);
    await expect(pipeline(Readable.from([pattern(MiB)]), encrypt)).rejects.toBeInstanceOf(InvalidInput);
    await expect(stored).rejects.toBeInstanceOf(InvalidInput);
  });
});
