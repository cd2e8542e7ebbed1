// A connection lost in the middle of an answer, as a client sees it from a real API: the status line and
// headers (Content-Length promising the whole body) arrive, then `afterBytes` bytes of the body, then the
// connection ends. Shared by the fake Gmail and the fake Graph (their `cutBodyAfterBytes` fault).
import type { ServerResponse } from 'node:http';

/**
 * From now on, `res` sends at most `afterBytes` bytes of its body and then closes its socket; whatever
 * the route writes past that is dropped. Call before the route writes its answer.
 */
export function cutBodyAfter(res: ServerResponse, afterBytes: number): void {
  let left = Math.max(0, afterBytes);
  let cut = false;
  const write = res.write.bind(res) as (chunk: unknown, callback?: () => void) => boolean;
  const hangUp = () => {
    if (cut) return;
    cut = true;
    // FIN after the bytes already written are flushed: the body stays short of its Content-Length.
    const socket = res.socket;
    if (!socket) return;
    res.flushHeaders();
    socket.end(() => socket.destroy());
  };
  const take = (chunk: unknown): void => {
    if (cut || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    if (bytes.length <= left) {
      left -= bytes.length;
      if (bytes.length > 0) write(bytes);
      return;
    }
    if (left > 0) write(bytes.subarray(0, left));
    left = 0;
    hangUp();
  };
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    take(chunk);
    if (!cut && left === 0) hangUp();
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    if (callback) queueMicrotask(callback);
    return true;
  }) as ServerResponse['write'];
  res.end = ((chunk?: unknown) => {
    take(chunk);
    hangUp();
    return res;
  }) as ServerResponse['end'];
}
