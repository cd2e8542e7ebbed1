// The blind index: HMAC-SHA-256 of kind ‖ 0xff ‖ value under a tenant's index key, hex. kind and
// value are separated by 0xff, a byte no UTF-8 string contains: ('a', 'bc') and ('ab', 'c') can't
// collide, and an index of one kind never equals one of another.
import { createHmac } from 'node:crypto';

export function blindIndexOf(key: Uint8Array, kind: string, value: string): string {
  return createHmac('sha256', key).update(kind).update(Buffer.from([0xff])).update(value).digest('hex');
}
