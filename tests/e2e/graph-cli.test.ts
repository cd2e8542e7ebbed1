// The Microsoft 365 commands end to end as an operator runs them (child processes of the bin, on the
// real local stack), against the fake identity platform and fake Graph through the real msal-node and
// graph client — trusting the fakes' test CA through NODE_EXTRA_CA_CERTS, as a deployment behind a
// corporate CA would: connect, sync, reply, disconnect (subscription deleted, consent notice).
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGraph } from '../../shared/sandbox/fake-graph.js';
import { FakeIdentity } from '../../shared/sandbox/fake-identity.js';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/mail2ticket.mjs');
const ADDRESS = 'help@fabrikam.example';
const AZURE_TENANT = randomUUID();
const CLIENT_ID = randomUUID();
const CLIENT_SECRET = randomBytes(24).toString('base64url');
let dataDir: string;
let identity: FakeIdentity;
let graph: FakeGraph;
let webhook: Server;
let webhookUrl = '';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        MAIL2TICKET_DATA_DIR: dataDir,
        NODE_EXTRA_CA_CERTS: identity.caCertPath,
        MAIL2TICKET_GRAPH_CLIENT_ID: CLIENT_ID,
        MAIL2TICKET_GRAPH_CLIENT_SECRET: CLIENT_SECRET,
        MAIL2TICKET_GRAPH_BASE_URL: graph.origin,
        MAIL2TICKET_GRAPH_AUTHORITY_HOST: identity.url,
        MAIL2TICKET_GRAPH_NOTIFICATION_URL: `${webhookUrl}/webhooks/graph`,
        MAIL2TICKET_GRAPH_LIFECYCLE_URL: `${webhookUrl}/webhooks/graph/lifecycle`,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'm2t-graph-cli-'));
  identity = new FakeIdentity();
  await identity.start();
  identity.registerApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tenants: [AZURE_TENANT] });
  graph = new FakeGraph({ identity, tenantId: AZURE_TENANT });
  await graph.start();
  graph.addMailbox(ADDRESS);
  identity.grantConsent(AZURE_TENANT, CLIENT_ID);
  // Only the validation handshake matters here: the CLI syncs on demand, not from notifications.
  webhook = createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('validationToken');
    req.resume();
    if (token !== null) res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    else res.writeHead(202).end();
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => webhook.close(() => resolve()));
  await graph.stop();
  await identity.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('microsoft 365 commands', { timeout: 180_000 }, () => {
  it('connects, syncs, replies and disconnects a Microsoft 365 mailbox', async () => {
    const connected = await cli('mailboxes', 'connect-graph', 'fabrikam', '--azure-tenant', AZURE_TENANT, '--address', ADDRESS, '--json');
    expect(connected.stderr).toBe('');
    expect(JSON.parse(connected.stdout)).toMatchObject({ provider: 'graph', status: 'connected' });
    expect(graph.subscriptions(ADDRESS)).toHaveLength(1);

    graph.deliver(ADDRESS, Buffer.from('From: Eve <eve@customer.example>\r\nTo: help@fabrikam.example\r\nSubject: Broken hinge\r\nMessage-ID: <hinge-1@customer.example>\r\n\r\nThe door hinge broke.\r\n'));
    const synced = await cli('mailboxes', 'sync', 'fabrikam', '--json');
    expect(synced.stderr).toBe('');
    expect(JSON.parse(synced.stdout)).toMatchObject({ outcome: 'synced', added: 1 });

    const list = JSON.parse((await cli('tickets', 'list', '--mailbox', 'fabrikam', '--json')).stdout) as Array<{ ticketId: string; subject: string }>;
    expect(list.map((t) => t.subject)).toEqual(['Broken hinge']);

    const body = join(dataDir, 'reply.txt');
    await writeFile(body, 'A new hinge is on its way.\n');
    const replied = await cli('replies', 'send', list[0]!.ticketId, '--body-file', body, '--json');
    expect(replied.stderr).toBe('');
    expect(JSON.parse(replied.stdout)).toMatchObject({ status: 'sent' });
    expect(graph.sent(ADDRESS)).toHaveLength(1);

    const disconnected = await cli('mailboxes', 'disconnect', 'fabrikam');
    expect(disconnected.code).toBe(0);
    expect(disconnected.stderr).toMatch(/Enterprise applications/);
    expect(graph.subscriptions(ADDRESS)).toHaveLength(0);
  });
});
