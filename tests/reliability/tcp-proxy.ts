// A TCP proxy on loopback in front of a local server (dynalite, s3rver), for outage tests: `refuse()`
// closes its listening socket and destroys every connection under way, so a client's next request fails
// on a reset socket and its next connection with ECONNREFUSED, as when a service endpoint goes away;
// `accept()` listens again on the same port, so the clients pointed at `endpoint` come back unchanged.
// `cutWhen()` loses one request mid-body instead, as a reset connection loses it, and goes on accepting.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class TcpProxy {
  /** Connections accepted and piped to the target, over the proxy's life. */
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  /** Requests cut off by `cutWhen`. */
  cuts = 0;
  private trip: ((chunk: Buffer) => boolean) | undefined;
  private cut: { match: (chunk: Buffer) => boolean; afterBytes: number } | undefined;

  private constructor(
    private readonly target: { host: string; port: number },
    private port: number,
  ) {}

  /** Proxies a free loopback port to `targetEndpoint` (http://host:port). */
  static async start(targetEndpoint: string): Promise<TcpProxy> {
    const url = new URL(targetEndpoint);
    const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port) }, 0);
    await proxy.accept();
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get accepting(): boolean {
    return this.server !== undefined;
  }

  async accept(): Promise<void> {
    this.trip = undefined;
    if (this.server) return;
    const server = createServer((client) => {
      this.connections++;
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        // A reset on either side ends the pair; the client sees it as the endpoint's failure.
        socket.on('error', () => undefined);
      }
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      upstream.pipe(client);
      let cutIn: number | undefined;
      client.on('data', (chunk: Buffer) => {
        if (this.trip?.(chunk)) {
          // The outage begins with this request: it never reaches the server.
          this.trip = undefined;
          void this.refuse();
          return;
        }
        if (cutIn === undefined && this.cut?.match(chunk)) {
          cutIn = this.cut.afterBytes;
          this.cut = undefined;
        }
        upstream.write(chunk);
        if (cutIn !== undefined && (cutIn -= chunk.length) <= 0) {
          this.cuts++;
          client.destroy();
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Refuses from the first request whose bytes `match` (that request included): an outage mid-operation. */
  refuseWhen(match: (chunk: Buffer) => boolean): void {
    this.trip = match;
  }

  /**
   * Cuts the connection of the first request whose bytes `match` (from its first chunk) once `afterBytes`
   * of it have reached the server; the proxy goes on accepting, so a retry finds the server.
   */
  cutWhen(match: (chunk: Buffer) => boolean, afterBytes: number): void {
    this.cut = { match, afterBytes };
  }

  /** Stops listening (new connections are refused) and destroys every connection under way. */
  async refuse(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async stop(): Promise<void> {
    await this.refuse();
  }
}
