// The loopback HTTP server under the S3 wire-format fakes: each request's body is read whole before
// `handle` sees it. It counts the connections clients open and the requests that asked to wait for
// `100 Continue`, so a test can tell whether uploads share a kept-alive connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export abstract class BufferedHttpFake {
  private server: Server | undefined;
  endpoint = '';
  connections = 0;
  expectContinueRequests = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.headers.expect) this.expectContinueRequests++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks)));
    });
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void;
}
