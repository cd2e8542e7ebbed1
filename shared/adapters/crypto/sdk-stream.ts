// The Encryption SDK's streams are readable-stream (v3) duplexes that can emit one failure more than
// once (the internal pipeline's callback and the stream's own destroy). Exposed as they are, a second
// 'error' with nobody listening would crash the process. This front is a core Node Duplex that keeps
// backpressure both ways, reports the first failure (translated) and absorbs the rest.
import { Duplex } from 'node:stream';

export function fromSdkStream(inner: Duplex, translate: (error: unknown) => Error): Duplex {
  let failed = false;
  const outer: Duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (inner.write(chunk)) callback();
      else inner.once('drain', () => callback());
    },
    final(callback) {
      inner.end();
      callback();
    },
    read() {
      inner.resume();
    },
    destroy(error, callback) {
      failed = true;
      // Not inner.destroy(): @aws-crypto pipes its inner streams with a callback-less readable-stream
      // pipeline(), whose default callback THROWS the premature close of a stream destroyed mid-message
      // (an uncaught exception: a worker lost to any upload or provider download cut short). The
      // inner stream is ended and drained instead; what it still produces is dropped.
      inner.removeAllListeners('data');
      inner.resume();
      if (!ended && !inner.writableEnded) inner.end();
      callback(error);
    },
  });
  inner.on('data', (chunk: Buffer) => {
    if (!outer.push(chunk)) inner.pause();
  });
  let ended = false;
  inner.once('end', () => {
    ended = true;
    outer.push(null);
  });
  // Closed without an end or an error: say so rather than leave the reader waiting forever.
  inner.once('close', () => {
    if (!ended && !failed) outer.destroy(translate(new Error('the encryption stream closed before its end')));
  });
  inner.on('error', (error: unknown) => {
    if (failed) return;
    failed = true;
    outer.destroy(translate(error));
  });
  return outer;
}
