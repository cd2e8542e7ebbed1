// The embedded local stack: dynalite, s3rver and clamd on loopback, everything persisted under
// MAIL2TICKET_DATA_DIR, and the real AWS SDK clients talking to them. This is the composition root
// the CLI and `npm start` share; only what it builds differs from the Lambdas'.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ClamdScanner } from '../adapters/clamav/clamd-scanner.js';
import { LocalKeyService } from '../adapters/crypto/local-key-service.js';
import { DynamoDbTicketRepository } from '../adapters/dynamodb/dynamodb-ticket-repository.js';
import { makeS3Client, S3BlobStore } from '../adapters/s3/s3-blob-store.js';
import { RequestCounter } from '../adapters/system/request-counter.js';
import { systemClock, ulidIds } from '../adapters/system/system.js';
import type { LocalConfig } from '../config.js';
import type { IngestDeps } from '../domain/ingest.js';
import type { AuditLog, MailboxDirectory, ReplyIntentStore, RetentionRepository, Scanner, TenantKeyLifecycle } from '../domain/ports.js';
import { DynamoDbAuditLog } from '../adapters/dynamodb/dynamodb-audit-log.js';
import { DynamoDbConsentStore } from '../adapters/dynamodb/dynamodb-consent-store.js';
import { tenantKeyFile } from '../adapters/crypto/key-file.js';
import type { ConsentStore } from '../domain/consent/store.js';
import { UnavailableScanner } from '../adapters/system/draining-scanners.js';
import { startClamd } from './clamd.js';
import { ensureTable, startDynalite, startDynaliteProcess } from './dynalite.js';
import { startS3rver } from './s3rver.js';
import type { SandboxEndpoints } from './sandbox/endpoints.js';

export interface LocalStack {
  deps: IngestDeps & { audit: AuditLog };
  retention: RetentionRepository;
  /** Provider addresses → mailboxes (connectors). */
  directory: MailboxDirectory;
  /** Replies on their way out through Graph drafts. */
  intents: ReplyIntentStore;
  tenantKeys: TenantKeyLifecycle;
  /** The consent site's tenants, invites, sessions and states, and the key that signs its links. */
  consent: { store: ConsentStore; signingKey: Uint8Array };
  /** The raw client and table, for the local TTL emulator (dynalite has no TTL). */
  dynamo: { client: DynamoDBClient; tableName: string };
  /** Every AWS SDK request the stack's clients sent (benchmarks and tests read it). */
  requests: RequestCounter;
  scannerAvailable: boolean;
  /** What the stack runs on: its own servers, or those of the running `npm start` it attached to. */
  endpoints: StackEndpoints;
  /**
   * Adds to what stack.json tells other processes (npm start's server, queues, sandbox) once they
   * are up. Only for a stack opened with `publish`.
   */
  publish(update: Partial<Omit<StackEndpoints, 'pid'>>): Promise<void>;
  stop(): Promise<void>;
}

// Local servers accept any credentials; these never leave the machine.
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const LOCAL_REGION = 'us-east-1';

/** Where a running stack (`npm start`) tells other processes (the CLI) how to reach it. */
export interface StackEndpoints {
  pid: number;
  dynamodb: string;
  s3: string;
  bucket: string;
  clamdSocket: string | null;
  /** npm start's HTTP server (health, webhooks, sandbox controls), once it listens. */
  server?: string;
  /** The local SQS (fauxqs) and the connectors' sync queues on it. */
  queues?: { endpoint: string; gmailSyncQueueUrl: string; graphSyncQueueUrl: string };
  /** The sandbox's fake providers, when npm start runs it (MAIL2TICKET_SANDBOX=1). */
  sandbox?: SandboxEndpoints;
}

const ENDPOINTS_FILE = 'stack.json';

/**
 * Opens the stack: attaches to the one a running `npm start` serves from the same data dir, else
 * starts dynalite, s3rver and clamd in this process. `publish` records the endpoints for others.
 */
export async function openLocalStack(config: LocalConfig, options: { scanner?: Scanner; publish?: boolean } = {}): Promise<LocalStack> {
  const { dataDir } = config;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const running = options.publish ? null : await readRunningStack(dataDir);
    let endpoints: StackEndpoints;
    if (running) {
      endpoints = running;
    } else {
      const [dynamo, s3, clamd] = await Promise.all([
        // npm start (which publishes) runs it beside itself; a one-off CLI run keeps it in-process.
        options.publish ? startDynaliteProcess({ dir: join(dataDir, 'dynamodb') }) : startDynalite({ dir: join(dataDir, 'dynamodb') }),
        startS3rver({ dir: join(dataDir, 's3'), bucket: config.bucket }),
        options.scanner ? Promise.resolve(null) : startClamd({ dir: join(dataDir, 'clamd'), maxAttachmentBytes: config.limits.maxAttachmentBytes }),
      ]);
      stops.push(dynamo.stop, s3.stop);
      if (clamd) stops.push(clamd.stop);
      endpoints = { pid: process.pid, dynamodb: dynamo.endpoint, s3: s3.endpoint, bucket: s3.bucket, clamdSocket: clamd?.socketPath ?? null };
      if (options.publish) {
        // Published at once, before anything else starts: a CLI run meanwhile attaches to these
        // servers instead of starting a second dynalite on the same files.
        await writeEndpoints(dataDir, endpoints);
        stops.push(() => rm(join(dataDir, ENDPOINTS_FILE), { force: true }));
      }
    }
    const published = endpoints;
    const publish = async (update: Partial<Omit<StackEndpoints, 'pid'>>) => {
      if (!options.publish) throw new Error('publish() needs a stack opened with { publish: true }');
      Object.assign(published, update);
      await writeEndpoints(dataDir, published);
    };
    const dynamo = { endpoint: endpoints.dynamodb };
    const s3 = { endpoint: endpoints.s3, bucket: endpoints.bucket };
    const clamd = endpoints.clamdSocket ? { socketPath: endpoints.clamdSocket } : null;

    const requests = new RequestCounter();
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const s3Client = makeS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    requests.attach(dynamoClient, 'dynamodb');
    requests.attach(s3Client, 's3');
    stops.push(async () => {
      dynamoClient.destroy();
      s3Client.destroy();
    });
    await ensureTable(dynamoClient, config.tableName);

    // The inline scanner of the operator's own ingestion, the CLI's `ingest` and npm start's drop
    // folder: their output (`ingest --json` is a contract) gives each attachment's verdict at once,
    // and no provider pipeline stands behind them to reproduce. The connectors' sync workers ingest
    // as in AWS instead (DeferredScanner, then the scanner handler: scan-runtime.ts), on this scanner.
    const scanner = options.scanner ?? (clamd ? new ClamdScanner({ socketPath: clamd.socketPath }) : new UnavailableScanner());
    const repo = new DynamoDbTicketRepository(dynamoClient, config.tableName);
    const keys = new LocalKeyService({ keyDir: join(dataDir, 'keys') });
    // Beside the tenant keys, not among them: a tenant may not be named like it.
    const signingKey = await tenantKeyFile(join(dataDir, 'consent', 'signing.key'), true);
    return {
      consent: { store: new DynamoDbConsentStore(dynamoClient, config.tableName), signingKey },
      retention: repo,
      directory: repo,
      intents: repo,
      tenantKeys: keys,
      dynamo: { client: dynamoClient, tableName: config.tableName },
      deps: {
        repo,
        audit: new DynamoDbAuditLog(dynamoClient, config.tableName),
        blobs: new S3BlobStore(s3Client, s3.bucket),
        keys,
        scanner,
        clock: systemClock,
        ids: ulidIds(),
        limits: config.limits,
      },
      requests,
      scannerAvailable: options.scanner !== undefined || clamd !== null,
      endpoints: published,
      publish,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Whole or not at all: a reader never sees a half-written file (written aside, then renamed over). */
async function writeEndpoints(dataDir: string, endpoints: StackEndpoints): Promise<void> {
  const file = join(dataDir, ENDPOINTS_FILE);
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, JSON.stringify(endpoints), { mode: 0o600 });
  await rename(partial, file);
}

/** The endpoints of the `npm start` serving this data dir, or null when none runs. */
export async function readRunningStack(dataDir: string): Promise<StackEndpoints | null> {
  let endpoints: StackEndpoints;
  try {
    endpoints = JSON.parse(await readFile(join(dataDir, ENDPOINTS_FILE), 'utf8')) as StackEndpoints;
  } catch {
    return null;
  }
  try {
    process.kill(endpoints.pid, 0); // still alive?
    return endpoints;
  } catch {
    return null; // a stale record from a stack that was killed
  }
}
