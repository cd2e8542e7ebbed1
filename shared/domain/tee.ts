// Feeds one readable into several writables with shared backpressure: the source pauses while any
// attached sink is full. A sink can be detached early (the parser hit a limit) without stalling the
// others, and the source can be cut at a byte budget while the rest is drained and counted.
import type { Readable, Writable } from 'node:stream';

export interface TeeResult {
  /** Bytes delivered to the sinks. */
  deliveredBytes: number;
  /** Bytes read from the source in total (more than delivered when the budget cut it). */
  totalBytes: number;
}

export class Tee {
  private readonly sinks = new Set<Writable>();
  private waitingFor = new Set<Writable>();
  private delivered = 0;
  private total = 0;

  constructor(
    private readonly source: Readable,
    private readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {}

  attach(sink: Writable): this {
    this.sinks.add(sink);
    return this;
  }

  /** Ends a sink now; the others keep flowing. */
  detach(sink: Writable): void {
    if (!this.sinks.delete(sink)) return;
    this.releaseWait(sink);
    if (!sink.writableEnded && !sink.destroyed) sink.end();
  }

  run(): Promise<TeeResult> {
    return new Promise((resolve, reject) => {
      const { source } = this;
      source.on('data', (chunk: Buffer) => {
        this.total += chunk.length;
        const room = this.maxBytes - this.delivered;
        if (room <= 0) return; // past the budget: drain and count only
        const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
        this.delivered += piece.length;
        for (const sink of this.sinks) {
          if (sink.destroyed || sink.writableEnded) continue;
          if (!sink.write(piece)) this.wait(sink);
        }
        if (this.delivered >= this.maxBytes) this.endSinks();
      });
      source.once('end', () => {
        this.endSinks();
        resolve({ deliveredBytes: this.delivered, totalBytes: this.total });
      });
      source.once('error', (error) => {
        for (const sink of this.sinks) {
          // The sink's own consumer sees the failure, if it has one; the 'error' event must not go
          // unheard either way (an uncaught exception takes the worker down with the source).
          if (sink.listenerCount('error') === 0) sink.once('error', () => undefined);
          sink.destroy(error);
        }
        reject(error);
      });
    });
  }

  private wait(sink: Writable): void {
    if (this.waitingFor.has(sink)) return;
    this.waitingFor.add(sink);
    this.source.pause();
    const release = () => {
      sink.off('drain', release).off('close', release).off('error', release);
      this.releaseWait(sink);
    };
    sink.on('drain', release).on('close', release).on('error', release);
  }

  private releaseWait(sink: Writable): void {
    if (!this.waitingFor.delete(sink)) return;
    if (this.waitingFor.size === 0) this.source.resume();
  }

  private endSinks(): void {
    for (const sink of [...this.sinks]) this.detach(sink);
  }
}
