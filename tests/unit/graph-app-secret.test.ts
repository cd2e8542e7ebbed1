// The Graph app secret against the Entra app the stack was deployed for (CDK context msAppId, passed
// as GRAPH_APP_ID): a credential of another app registration is refused at cold start, by name.
// The secret is read by the real SDK client from the wire-level fake Secrets Manager.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { composeGraphSync } from '../../functions/graph-sync/compose.js';
import { readGraphAppSecret } from '../../shared/adapters/system/graph-app-secret.js';
import { ConfigError } from '../../shared/domain/errors.js';
import { FAKE_CREDENTIALS, startFakeSecretsManager, type FakeSecretsManager } from '../infra/fake-secrets-manager.js';

const APP_ID = '6f1c2a9e-8b7d-4e3f-a1b2-c3d4e5f60718';
const OTHER_APP_ID = '0a0b0c0d-1111-2222-3333-444455556666';
const stored = (clientId: string) => JSON.stringify({ clientId, clientSecret: 'not-a-real-secret' });

let secrets: FakeSecretsManager;
let client: SecretsManagerClient;

beforeAll(async () => {
  secrets = await startFakeSecretsManager();
  client = new SecretsManagerClient({ endpoint: secrets.url, region: 'eu-west-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  secrets.put('ours', stored(APP_ID));
  secrets.put('ours-upper', stored(APP_ID.toUpperCase()));
  secrets.put('another-app', stored(OTHER_APP_ID));
});
afterAll(async () => {
  client.destroy();
  await secrets.close();
});

describe('readGraphAppSecret with the expected app id', () => {
  it('reads the secret of the expected app, whatever the case of its GUID', async () => {
    await expect(readGraphAppSecret(client, 'ours', APP_ID)).resolves.toMatchObject({ clientId: APP_ID });
    await expect(readGraphAppSecret(client, 'ours-upper', APP_ID)).resolves.toMatchObject({ clientId: APP_ID.toUpperCase() });
  });

  it("refuses another app's secret with a ConfigError naming GRAPH_APP_ID and msAppId, and neither id", async () => {
    const refusal = readGraphAppSecret(client, 'another-app', APP_ID);
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    const message = await refusal.then(
      () => '',
      (error: Error) => error.message,
    );
    expect(message).toMatch(/"clientId" is not the Entra application \(client\) id .*GRAPH_APP_ID, CDK context "msAppId"/);
    expect(message).not.toContain(APP_ID);
    expect(message).not.toContain(OTHER_APP_ID);
  });

  it('checks nothing when no app id was given (msAppId unset)', async () => {
    await expect(readGraphAppSecret(client, 'another-app')).resolves.toMatchObject({ clientId: OTHER_APP_ID });
    await expect(readGraphAppSecret(client, 'another-app', '')).resolves.toMatchObject({ clientId: OTHER_APP_ID });
  });
});

describe('the Graph sync composition', () => {
  const env = (appId?: string) => ({
    AWS_REGION: 'eu-west-1',
    GRAPH_APP_SECRET_ARN: 'another-app',
    GRAPH_NOTIFICATION_URL: 'https://hooks.example.org/webhooks/graph',
    GRAPH_LIFECYCLE_URL: 'https://hooks.example.org/webhooks/graph/lifecycle',
    SYNC_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/sync.fifo',
    TABLE_NAME: 'tickets',
    BUCKET_NAME: 'objects',
    TENANT_KEY_ALIAS_PREFIX: 'alias/mail2ticket/tenant/',
    ...(appId ? { GRAPH_APP_ID: appId } : {}),
  });

  it('refuses to start with a secret of another app when GRAPH_APP_ID is set, and starts without it', async () => {
    // The SDK reads its endpoint and credentials from the process environment, as in Lambda.
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secrets.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY);
    try {
      await expect(composeGraphSync(env(APP_ID))).rejects.toThrow(/GRAPH_APP_ID, CDK context "msAppId"/);
      const composed = await composeGraphSync(env());
      expect(composed.deps.graph).toBeDefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
