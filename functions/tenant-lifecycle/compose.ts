// Composition root of the tenant-lifecycle function in AWS: the ticket table (tenants, invites,
// mailboxes), the consent signing secret (invite links), and the tenant keys — the one place that
// creates them (KmsTenantKeyProvisioner) and the closure that schedules their deletion (KmsKeyService).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { readSigningKey, SecretsManagerClient } from '../../shared/adapters/system/secrets.js';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { KmsKeyService } from '../../shared/adapters/crypto/kms-key-service.js';
import { KmsTenantKeyProvisioner, type KmsTenantKeyProvisionerOptions } from '../../shared/adapters/crypto/kms-tenant-keys.js';
import { DynamoDbConsentStore } from '../../shared/adapters/dynamodb/dynamodb-consent-store.js';
import { DynamoDbTicketRepository } from '../../shared/adapters/dynamodb/dynamodb-ticket-repository.js';
import { S3_CLIENT_OPTIONS, S3BlobStore } from '../../shared/adapters/s3/s3-blob-store.js';
import { PowertoolsMetrics } from '../../shared/adapters/system/metrics.js';
import { systemClock, ulidIds } from '../../shared/adapters/system/system.js';
import { traced } from '../../shared/adapters/system/tracing.js';
import { consentBaseUrl, loadLambdaConfig, requireEnv } from '../../shared/config.js';
import type { TenantKeyLifecycle, TenantKeyProvisioner } from '../../shared/domain/ports.js';
import type { TenantLifecycleHandlerDeps } from './make-handler.js';

type Env = Record<string, string | undefined>;

export const METRICS_NAMESPACE = 'mail2ticket';
export const METRICS_SERVICE = 'tenant-lifecycle';

/** Creating (provisioner) and destroying (the key service's closure) a tenant's keys, through one KMS client. */
export function kmsTenantKeys(kms: KMSClient, aliasPrefix?: string, options: Pick<KmsTenantKeyProvisionerOptions, 'authorizationDelaysMs'> = {}): TenantKeyProvisioner & TenantKeyLifecycle {
  const prefix = aliasPrefix ? { aliasPrefix } : {};
  const provisioner = new KmsTenantKeyProvisioner({ kms, ...prefix, ...options });
  const service = new KmsKeyService({ kms, ...prefix });
  return {
    createTenantKeys: (tenantId) => provisioner.createTenantKeys(tenantId),
    tenantKeyState: (tenantId) => provisioner.tenantKeyState(tenantId),
    destroyTenantKeys: (tenantId) => service.destroyTenantKeys(tenantId),
  };
}

export async function composeTenantLifecycle(env: Env = process.env): Promise<TenantLifecycleHandlerDeps> {
  const config = loadLambdaConfig(env);
  const baseUrl = consentBaseUrl(requireEnv(env, 'CONSENT_BASE_URL'));
  const signingKey = await readSigningKey(traced(new SecretsManagerClient({ region: config.region })), requireEnv(env, 'CONSENT_SIGNING_SECRET_ARN'));
  const dynamo = traced(new DynamoDBClient({ region: config.region }));
  const repo = new DynamoDbTicketRepository(dynamo, config.tableName);
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  return {
    store: new DynamoDbConsentStore(dynamo, config.tableName),
    clock: systemClock,
    ids: ulidIds(),
    signingKey,
    baseUrl,
    keys: kmsTenantKeys(traced(new KMSClient({ region: config.region })), config.tenantKeyAliasPrefix),
    retention: {
      repo,
      retention: repo,
      // Closure disconnects mailboxes (table writes) and reads or deletes no object: the role has no
      // grant on the bucket, so nothing here can touch a tenant's objects.
      blobs: new S3BlobStore(traced(new S3Client({ ...S3_CLIENT_OPTIONS, region: config.region })), config.bucket, { versioned: true }),
      clock: systemClock,
    },
    metrics: new PowertoolsMetrics(metrics),
    flush: () => metrics.publishStoredMetrics(),
  };
}
