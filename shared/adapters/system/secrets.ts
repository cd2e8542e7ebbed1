// Provider OAuth client secrets live in Secrets Manager, read once per cold start, never logged.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../domain/errors.js';

export interface OAuthClientSecret {
  clientId: string;
  clientSecret: string;
}

export async function readOAuthClientSecret(client: SecretsManagerClient, secretId: string): Promise<OAuthClientSecret> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const value = JSON.parse(SecretString ?? '{}') as Partial<OAuthClientSecret>;
  if (typeof value.clientId !== 'string' || typeof value.clientSecret !== 'string' || !value.clientId || !value.clientSecret) {
    throw new ConfigError('the OAuth client secret must be JSON {"clientId": "…", "clientSecret": "…"}');
  }
  return { clientId: value.clientId, clientSecret: value.clientSecret };
}

export { SecretsManagerClient };
