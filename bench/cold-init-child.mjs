// One cold start in a fresh Node process, as Lambda's runtime makes one: import the bundled handler
// (its module scope reads the config and builds the clients), then invoke it once. Plain JavaScript
// run by plain node, so no TypeScript loader sits in the measured imports.
//
// argv: <bundle path> <event JSON>. The last line of stdout is
// `BENCH_RESULT {"importMs","invokeMs","statusCode"}` (the handler may write EMF metrics before it).
import dns from 'node:dns';
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// fauxqs names its queues http://sqs.<region>.localhost:<port>/…, and the SQS client sends each
// request to its queue URL's host. RFC 6761 makes every *.localhost name loopback, but this
// machine's resolver knows only `localhost` itself: answer the rest here, before the clock starts.
const systemLookup = dns.lookup;
dns.lookup = (hostname, options, callback) => {
  if (typeof hostname !== 'string' || !hostname.endsWith('.localhost')) return systemLookup(hostname, options, callback);
  const done = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all === true;
  process.nextTick(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)));
  return {};
};

const [bundle, eventJson] = process.argv.slice(2);
if (!bundle || !eventJson) throw new Error('usage: cold-init-child.mjs <bundle> <event JSON>');
const event = JSON.parse(eventJson);
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'bench-cold-init',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-cold-init',
  memoryLimitInMB: '1024',
  awsRequestId: `cold-${process.pid}`,
  logGroupName: '/aws/lambda/bench-cold-init',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 30_000,
  done() {},
  fail() {},
  succeed() {},
};

const start = performance.now();
const { handler } = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const result = await handler(event, context);
const done = performance.now();
writeSync(1, `\nBENCH_RESULT ${JSON.stringify({ importMs: imported - start, invokeMs: done - imported, statusCode: result?.statusCode })}\n`);
// The SDK's keep-alive sockets would hold the process open; a frozen Lambda would not care.
process.exit(0);
