// dynalite: a DynamoDB-compatible server on loopback, persisted in the data dir. It has no
// TransactWriteItems, TTL deletion or streams; the code needs none of them (see the README).
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { TABLE_SCHEMA } from '../adapters/dynamodb/table-schema.js';
import { startChildServer } from './child-server.js';

export interface RunningDynalite {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 (a free port); in memory when `dir` is omitted. */
export async function startDynalite(options: { dir?: string } = {}): Promise<RunningDynalite> {
  if (options.dir) await mkdir(options.dir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dir ? { path: options.dir } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const CHILD = `
const { module, path } = JSON.parse(process.env.M2T_DYNALITE);
const dynalite = (await import(module)).default;
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path });
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown).on('error', shutdown).resume();
`;

/**
 * dynalite in a process of its own, as DynamoDB is a service of its own for a Lambda: npm start's
 * event loop then carries the pipeline, not the table's LevelDB work, and the two use both cores.
 * It stops with its parent (its stdin closes).
 */
export async function startDynaliteProcess(options: { dir: string }): Promise<RunningDynalite> {
  await mkdir(options.dir, { recursive: true });
  const module = pathToFileURL(createRequire(import.meta.url).resolve('dynalite')).href;
  const server = await startChildServer('dynalite', CHILD, { env: { M2T_DYNALITE: JSON.stringify({ module, path: options.dir }) } });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: server.stop };
}

export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand({ TableName: tableName, ...TABLE_SCHEMA }));
    } catch (createError) {
      // Another process (npm start's, a benchmark's child) created it between the two calls.
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  // dynalite answers CreateTable before the table (and its indexes) accept requests.
  for (let attempt = 0; attempt < 200; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`table ${tableName} did not become active`);
}
