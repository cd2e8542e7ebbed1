// KeyService implementations (local key files; KMS through the real SDK against a wire-format fake)
// and the S3 BlobStore against s3rver through the real SDK.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { KMS } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { LocalKeyService } from '../../shared/adapters/crypto/local-key-service.js';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { BlobNotFound } from '../../shared/domain/errors.js';
import type { EncryptionContext, KeyService } from '../../shared/domain/ports.js';
import { startS3rver, type RunningS3rver } from '../../shared/local/s3rver.js';
import { FakeKms } from '../fakes/kms.js';

const ctx: EncryptionContext = { tenantId: 'acme', mailboxId: 'support', purpose: 'raw' };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2t-crypto-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function keyServiceContract(name: string, make: () => Promise<KeyService>) {
  describe(`${name} (KeyService contract)`, () => {
    it('round-trips and binds ciphertexts to tenant, mailbox and purpose', async () => {
      const keys = await make();
      const sealed = await keys.encrypt(Buffer.from('PHRASE-SECRET-1'), ctx);
      expect(Buffer.from(sealed).toString('latin1')).not.toContain('PHRASE-SECRET-1');
      expect(Buffer.from(await keys.decrypt(sealed, ctx)).toString()).toBe('PHRASE-SECRET-1');
      await expect(keys.decrypt(sealed, { ...ctx, mailboxId: 'sales' })).rejects.toThrow();
      await expect(keys.decrypt(sealed, { ...ctx, purpose: 'body' })).rejects.toThrow();
    });

    it('streams 20 MB through encryption and decryption', async () => {
      const keys = await make();
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      const encrypted = await buffer(Readable.from(Array.from({ length: 20 }, () => chunk)).pipe(keys.encryptStream(ctx)));
      const decrypted = await buffer(Readable.from([encrypted]).pipe(keys.decryptStream(ctx)));
      expect(decrypted.length).toBe(20 * 1024 * 1024);
      const wrong = Readable.from([encrypted]).pipe(keys.decryptStream({ ...ctx, tenantId: 'globex' }));
      await expect(buffer(wrong)).rejects.toThrow();
    });

    it('keeps blind indexes equal within a tenant and apart across tenants and kinds', async () => {
      const keys = await make();
      const a = await keys.blindIndex('acme', 'address', 'alice@customer.example');
      expect(await keys.blindIndex('acme', 'address', 'alice@customer.example')).toBe(a);
      expect(await keys.blindIndex('acme', 'message-id', 'alice@customer.example')).not.toBe(a);
      expect(a).toMatch(/^[0-9a-f]{64}$/);
    });
  });
}

keyServiceContract('LocalKeyService', async () => new LocalKeyService({ keyDir: join(dir, 'keys') }));

describe('LocalKeyService', () => {
  it('makes a tenant unreadable once its key file is destroyed, and only that tenant', async () => {
    const keys = new LocalKeyService({ keyDir: join(dir, 'closure') });
    const acme = await keys.encrypt(Buffer.from('acme data'), ctx);
    const globex = await keys.encrypt(Buffer.from('globex data'), { ...ctx, tenantId: 'globex' });
    await keys.destroyTenantKey('acme');
    const reopened = new LocalKeyService({ keyDir: join(dir, 'closure') });
    await expect(reopened.decrypt(acme, ctx)).rejects.toThrow();
    await expect(keys.decrypt(acme, ctx)).rejects.toThrow();
    expect(Buffer.from(await reopened.decrypt(globex, { ...ctx, tenantId: 'globex' })).toString()).toBe('globex data');
  });
});

describe('KmsKeyService against a KMS wire-format fake', () => {
  const kms = new FakeKms();
  let client: KMS;
  beforeAll(async () => {
    await kms.start();
    for (const tenant of ['acme', 'globex']) {
      kms.createKey(`alias/mail2ticket/tenant/${tenant}`);
      kms.createKey(`alias/mail2ticket/tenant/${tenant}-index`);
    }
    client = new KMS({ endpoint: kms.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    client.destroy();
    await kms.stop();
  });
  const make = async () => new KmsKeyService({ kms: client, aliasPrefix: 'alias/mail2ticket/tenant/' });

  keyServiceContract('KmsKeyService', make);

  it('calls KMS once per data key, not per object', async () => {
    const keys = await make();
    kms.calls.clear();
    const sealed = [];
    for (let i = 0; i < 100; i++) sealed.push(await keys.encrypt(Buffer.from(`object ${i}`), ctx));
    for (const s of sealed) await keys.decrypt(s, ctx);
    for (let i = 0; i < 50; i++) await keys.blindIndex('acme', 'address', `a${i}@example.org`);
    expect(kms.count('GenerateDataKey')).toBe(1);
    expect(kms.count('Decrypt')).toBeLessThanOrEqual(1);
    expect(kms.count('GenerateMac')).toBe(1);
    expect(kms.count('DescribeKey')).toBe(1);
  });
});

describe('S3BlobStore on s3rver', () => {
  let s3: RunningS3rver;
  let store: S3BlobStore;
  const client = () => makeS3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  beforeAll(async () => {
    s3 = await startS3rver({ dir: join(dir, 's3') });
    store = new S3BlobStore(client(), s3.bucket, { partSizeBytes: 5 * 1024 * 1024 });
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('streams a 30 MB object up (multipart) and back, byte for byte', async () => {
    const chunk = Buffer.alloc(1024 * 1024);
    const parts = Array.from({ length: 30 }, (_, i) => Buffer.from(chunk.fill(i)));
    await store.put('t/acme/m/support/att/big', Readable.from(parts));
    const back = await buffer(await store.get('t/acme/m/support/att/big'));
    expect(back.equals(Buffer.concat(parts))).toBe(true);
  });

  it('lists by prefix, deletes, and maps a missing key to BlobNotFound', async () => {
    await store.put('t/acme/m/support/raw/a', Buffer.from('a'));
    await store.put('t/acme/m/support/raw/b', Buffer.from('b'));
    await store.put('t/acme/m/sales/raw/c', Buffer.from('c'));
    const listed = [];
    for await (const { key } of store.list('t/acme/m/support/raw/')) listed.push(key);
    expect(listed.sort()).toEqual(['t/acme/m/support/raw/a', 't/acme/m/support/raw/b']);
    await store.delete(listed);
    await expect(store.get('t/acme/m/support/raw/a')).rejects.toBeInstanceOf(BlobNotFound);
    expect((await buffer(await store.get('t/acme/m/sales/raw/c'))).toString()).toBe('c');
  });

  it('stores only ciphertext when fed through the KeyService', async () => {
    const keys = new LocalKeyService({ keyDir: join(dir, 'keys') });
    const encrypt = keys.encryptStream({ tenantId: 'acme', mailboxId: 'support', purpose: 'attachment' });
    const stored = store.put('t/acme/m/support/att/secret', encrypt);
    await pipeline(Readable.from([Buffer.from('PHRASE-AT-REST-9e1 '.repeat(1000))]), encrypt);
    await stored;
    const raw = await client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: 't/acme/m/support/att/secret' }));
    const bytes = Buffer.from(await (raw.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(bytes.toString('latin1')).not.toContain('PHRASE-AT-REST');
    const plain = await buffer((await store.get('t/acme/m/support/att/secret')).pipe(keys.decryptStream({ tenantId: 'acme', mailboxId: 'support', purpose: 'attachment' })));
    expect(plain.toString()).toContain('PHRASE-AT-REST-9e1');
  });
});
