import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler, TTL_PRINCIPAL } from '../../functions/purge-stream/make-handler.js';
import { MemoryBlobStore } from '../support/memory.js';

function removal(rawKey: string, identity?: DynamoDBRecord['userIdentity']): DynamoDBRecord {
  return {
    eventName: 'REMOVE',
    ...(identity ? { userIdentity: identity } : {}),
    dynamodb: { OldImage: { PK: { S: 'T#t#K#1' }, SK: { S: 'M#1' }, rawKey: { S: rawKey }, bodyKey: { S: `${rawKey}-body` } } },
  };
}

describe('purge stream handler', () => {
  it('deletes the objects of items the TTL service removed, and nothing for anyone else', async () => {
    const blobs = new MemoryBlobStore();
    for (const key of ['ttl', 'ttl-body', 'user', 'user-body']) await blobs.put(key, Buffer.from('x'));
    await makeHandler({ blobs })({
      Records: [
        removal('ttl', { type: 'Service', principalId: TTL_PRINCIPAL }),
        removal('user', { type: 'Service', principalId: 'someone.example.com' }),
        { ...removal('user'), eventName: 'MODIFY' },
      ],
    });
    expect([...blobs.objects.keys()].sort()).toEqual(['user', 'user-body']);
  });
});
