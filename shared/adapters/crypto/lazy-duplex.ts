// A Duplex usable at once whose work is done by a stream that only exists later (after an async
// key lookup). Writes wait for the inner stream; reads and errors pass through with backpressure.
import { Duplex } from 'node:stream';

export function lazyDuplex(inner: Promise<Duplex>): Duplex {
  let target: Duplex | undefined;
  const outer: Duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      inner.then((stream) => {
        if (stream.write(chunk)) callback();
        else stream.once('drain', () => callback());
      }, callback);
    },
    final(callback) {
      inner.then((stream) => {
        stream.end();
        callback();
      }, callback);
    },
    read() {
      target?.resume();
    },
    destroy(error, callback) {
      inner.then((stream) => stream.destroy(error ?? undefined), () => undefined);
      callback(error);
    },
  });
  inner.then(
    (stream) => {
      target = stream;
      stream.on('data', (chunk: Buffer) => {
        if (!outer.push(chunk)) stream.pause();
      });
      stream.once('end', () => outer.push(null));
      // on, not once: the Encryption SDK's streams can emit the same failure more than once.
      stream.on('error', (error) => outer.destroy(error));
    },
    (error: Error) => outer.destroy(error),
  );
  return outer;
}
