// The Entra app's credential for Graph (app-only, after each customer's admin consent), kept in
// Secrets Manager: preferably a certificate (thumbprint + private key), else a client secret.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../domain/errors.js';
import type { GraphAppCredential } from '../graph/microsoft-graph-connector.js';

export interface GraphAppSecret {
  clientId: string;
  credential: GraphAppCredential;
  /** When the certificate expires (ISO), for the alarm 30 days before. */
  certificateNotAfter?: string;
}

/**
 * `expectedClientId` (GRAPH_APP_ID, from the `msAppId` context) guards against a secret pasted from
 * another app registration: every token request would fail later, and less clearly.
 */
export async function readGraphAppSecret(client: SecretsManagerClient, secretId: string, expectedClientId?: string): Promise<GraphAppSecret> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  const value = JSON.parse(SecretString ?? '{}') as { clientId?: unknown; clientSecret?: unknown; thumbprintSha256?: unknown; privateKey?: unknown; x5c?: unknown; notAfter?: unknown };
  if (typeof value.clientId !== 'string' || !value.clientId) throw new ConfigError('the Graph app secret needs "clientId"');
  // GUIDs compare without regard to case; the ids are not secret, but the message names neither.
  if (expectedClientId && value.clientId.toLowerCase() !== expectedClientId.toLowerCase()) {
    throw new ConfigError('the Graph app secret\'s "clientId" is not the Entra application (client) id the stack was deployed with (GRAPH_APP_ID, CDK context "msAppId"): store the credential of that app, or deploy with its id');
  }
  if (typeof value.thumbprintSha256 === 'string' && typeof value.privateKey === 'string') {
    return {
      clientId: value.clientId,
      credential: { clientCertificate: { thumbprintSha256: value.thumbprintSha256, privateKey: value.privateKey, ...(typeof value.x5c === 'string' ? { x5c: value.x5c } : {}) } },
      ...(typeof value.notAfter === 'string' ? { certificateNotAfter: value.notAfter } : {}),
    };
  }
  if (typeof value.clientSecret === 'string' && value.clientSecret) return { clientId: value.clientId, credential: { clientSecret: value.clientSecret } };
  throw new ConfigError('the Graph app secret needs a certificate ("thumbprintSha256", "privateKey") or a "clientSecret"');
}
