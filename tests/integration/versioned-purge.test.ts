// A versioned bucket keeps old versions and delete markers: a purge must remove all of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { purgeObjectsOfDeletedItems } from '../../shared/domain/retention.js';
import { VersionedS3 } from '../fakes/versioned-s3.js';

const fake = new VersionedS3();
beforeAll(() => fake.start());
afterAll(() => fake.stop());

describe('purge on a versioned bucket', () => {
  it('deletes every version and delete marker of a purged key, and nothing else', async () => {
    const client = makeS3Client({ endpoint: fake.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const plain = new S3BlobStore(client, fake.bucket);
    const key = 't/acme/m/support/raw/01';
    await plain.put(key, Buffer.from('v1'));
    await plain.put(key, Buffer.from('v2'));
    await plain.delete([key]); // unversioned delete: only a marker, both versions survive
    await plain.put(`${key}0`, Buffer.from('a neighbour sharing the prefix'));
    expect(fake.remaining(key)).toBe(4);

    await purgeObjectsOfDeletedItems({ blobs: new S3BlobStore(client, fake.bucket, { versioned: true }) }, [{ rawKey: key }]);
    expect(fake.objects.has(key)).toBe(false);
    expect(fake.remaining(`${key}0`)).toBe(1);
    client.destroy();
  });
});
