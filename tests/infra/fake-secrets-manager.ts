// Secrets Manager's GetSecretValue on the wire (AWS JSON 1.1 over HTTP, on loopback), for the code
// that reads the OAuth client at cold start: the real SDK client reaches it through
// AWS_ENDPOINT_URL_SECRETS_MANAGER (or `endpoint`), exactly as it would reach AWS.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSecretsManager {
  readonly url: string;
  /** The SecretId of every GetSecretValue received, in order. */
  readonly reads: string[];
  /** What GetSecretValue returns for `secretId` from now on. */
  put(secretId: string, secretString: string): void;
  close(): Promise<void>;
}

/** Credentials for the SDK's signer: the fake checks none, as a Lambda role's are never seen here. */
export const FAKE_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key' } as const;

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, string>();
  const reads: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(body));
      };
      if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'UnknownOperationException', message: `unsupported ${String(request.headers['x-amz-target'])}` });
        return;
      }
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: string };
      reads.push(String(SecretId));
      const value = SecretId === undefined ? undefined : secrets.get(SecretId);
      if (value === undefined) {
        reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return;
      }
      reply(200, { ARN: SecretId, Name: SecretId, SecretString: value, VersionId: '00000000-0000-0000-0000-000000000001', VersionStages: ['AWSCURRENT'], CreatedDate: 1_700_000_000 });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    reads,
    put: (secretId, secretString) => void secrets.set(secretId, secretString),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
