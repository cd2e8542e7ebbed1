// A provider's response body handed to a consumer that starts reading only later (ingest looks the
// message up first). A connection lost before then must neither crash the process (an 'error' event
// with no listener is an uncaught exception) nor be missed (a consumer attaching to a stream that has
// already failed would wait for ever). The body is pulled as the consumer reads, and a failure
// surfaces then, to the consumer's own listeners.
import { Readable } from 'node:stream';

export function pullOnRead(source: Readable, translate: (error: unknown) => Error = (error) => error as Error): Readable {
  // Quiet until read: the iterator below reports the failure from the stream's errored state.
  source.on('error', () => undefined);
  let iterator: AsyncIterator<Buffer> | undefined;
  return new Readable({
    async read() {
      iterator ??= source[Symbol.asyncIterator]();
      try {
        const { value, done } = await iterator.next();
        this.push(done ? null : value);
      } catch (error) {
        this.destroy(translate(error));
      }
    },
    destroy(error, callback) {
      // Abandoned or failed: the connection goes too.
      source.destroy();
      callback(error);
    },
  });
}
