// Composition root of the consent site in AWS: the ticket table (tenants, invites, sessions, states,
// mailboxes), the tenant keys, both connectors' connect and release paths, and the providers'
// authorization servers — Google's and Microsoft's own.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDbConsentStore } from '../../shared/adapters/dynamodb/dynamodb-consent-store.js';
import { GoogleGmailConnector } from '../../shared/adapters/gmail/google-gmail-connector.js';
import { MicrosoftGraphConnector } from '../../shared/adapters/graph/microsoft-graph-connector.js';
import { GoogleOAuthAuthorization } from '../../shared/adapters/oauth/google-authorization.js';
import { MsalMicrosoftAuthorization } from '../../shared/adapters/oauth/microsoft-authorization.js';
import { readGraphAppSecret } from '../../shared/adapters/system/graph-app-secret.js';
import { PowertoolsMetrics } from '../../shared/adapters/system/metrics.js';
import { logger } from '../../shared/adapters/system/observability.js';
import { readOAuthClientSecret, readSigningKey, SecretsManagerClient } from '../../shared/adapters/system/secrets.js';
import { traced } from '../../shared/adapters/system/tracing.js';
import { consentBaseUrl, loadGmailSettings, loadGraphSettings, loadRetentionDays, requireEnv } from '../../shared/config.js';
import type { ConsentDeps } from '../../shared/domain/consent/deps.js';
import { releaseGmailMailbox } from '../../shared/domain/gmail/lifecycle.js';
import { releaseGraphMailbox } from '../../shared/domain/graph/lifecycle.js';
import type { ConsentSite } from '../../shared/web/consent-router.js';
import { composeIngestDeps } from '../ingest/compose.js';

type Env = Record<string, string | undefined>;

export const GOOGLE_AUTHORIZATION_ORIGIN = 'https://accounts.google.com';
export const MICROSOFT_AUTHORIZATION_ORIGIN = 'https://login.microsoftonline.com';

export async function composeConsent(env: Env = process.env): Promise<ConsentSite> {
  const region = requireEnv(env, 'AWS_REGION');
  const baseUrl = consentBaseUrl(requireEnv(env, 'CONSENT_BASE_URL'));
  const secrets = traced(new SecretsManagerClient({ region }));
  const [signingKey, google, graph] = await Promise.all([
    readSigningKey(secrets, requireEnv(env, 'CONSENT_SIGNING_SECRET_ARN')),
    readOAuthClientSecret(secrets, requireEnv(env, 'GOOGLE_OAUTH_SECRET_ARN')),
    readGraphAppSecret(secrets, requireEnv(env, 'GRAPH_APP_SECRET_ARN'), env.GRAPH_APP_ID),
  ]);
  const ingest = composeIngestDeps(env);
  const metrics = new PowertoolsMetrics(new Metrics({ namespace: 'mail2ticket', serviceName: 'consent' }));
  const gmail = new GoogleGmailConnector(google);
  const graphConnector = new MicrosoftGraphConnector({ clientId: graph.clientId, credential: graph.credential });
  const gmailLifecycle = { ...ingest, directory: ingest.repo, gmail, metrics, settings: { topicName: loadGmailSettings(env).topicName } };
  const graphLifecycle = { ...ingest, directory: ingest.repo, graph: graphConnector, metrics, settings: loadGraphSettings(env) };
  const deps: ConsentDeps = {
    ...ingest,
    store: new DynamoDbConsentStore(traced(new DynamoDBClient({ region })), requireEnv(env, 'TABLE_NAME')),
    signingKey,
    baseUrl,
    directory: ingest.repo,
    retentionDays: loadRetentionDays(env),
    retention: {
      repo: ingest.repo,
      retention: ingest.repo,
      blobs: ingest.blobs,
      clock: ingest.clock,
      releaseProvider: async (mailbox) => {
        if (mailbox.provider === 'gmail') await releaseGmailMailbox(gmailLifecycle, mailbox);
        if (mailbox.provider === 'graph') await releaseGraphMailbox(graphLifecycle, mailbox);
      },
    },
    google: { authorization: new GoogleOAuthAuthorization({ clientId: google.clientId, clientSecret: google.clientSecret }), lifecycle: gmailLifecycle },
    microsoft: { authorization: new MsalMicrosoftAuthorization({ clientId: graph.clientId, credential: graph.credential }), lifecycle: graphLifecycle },
  };
  return {
    deps,
    formTargets: [GOOGLE_AUTHORIZATION_ORIGIN, MICROSOFT_AUTHORIZATION_ORIGIN],
    reportError: (route, error) => logger.error('consent route failed', { route, error: (error as Error)?.name ?? 'unknown' }),
  };
}
