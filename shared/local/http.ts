// Small pieces of npm start's HTTP server: bounded body reads, API Gateway's HTTP API (v2) event shape
// (headers, query string) for handlers written for Lambda, JSON answers, and the loopback check of
// local-only routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** The body, or undefined when it is larger than `maxBytes` (reading stops there). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** What API Gateway hands a Lambda for this request, as far as the handlers read it. */
export type HttpApiRequest = Pick<APIGatewayProxyEventV2, 'headers' | 'body' | 'isBase64Encoded'>;

/** Headers lower-cased (Node already does), repeated ones joined with commas as API Gateway does. */
export function toHttpApiEvent(req: IncomingMessage, body: Buffer): HttpApiRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return { headers, body: body.toString('utf8'), isBase64Encoded: false };
}

/**
 * The query string as API Gateway's HTTP API hands it to a Lambda: decoded values, a repeated name's
 * values joined with commas, absent when there is none.
 */
export function toQueryStringParameters(url: URL): Record<string, string> | undefined {
  // A Map, then own properties: a parameter named __proto__ or constructor is just a name.
  const parameters = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const earlier = parameters.get(name);
    parameters.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  return parameters.size > 0 ? Object.fromEntries(parameters) : undefined;
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = typeof result.body === 'string' ? result.body : '';
  res.writeHead(result.statusCode ?? 200, { ...stringHeaders(result.headers), ...(body ? {} : { 'content-length': '0' }) });
  res.end(body);
}

function stringHeaders(headers: APIGatewayProxyStructuredResultV2['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}

export function writeJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * A request addressed to this server by its loopback name. A page in a browser that rebinds its own
 * host name to 127.0.0.1 still sends its own name in Host, so local-only routes refuse it.
 */
export function addressedToLoopback(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host?.toLowerCase();
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}
