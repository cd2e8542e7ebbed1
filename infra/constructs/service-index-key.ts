// The service-wide blind-index key. A provider push names only a mailbox address, so connected
// addresses are indexed (HMAC) under a key that belongs to no tenant: the key service reaches it as
// the tenant `_service`, i.e. by the alias `<tenant alias prefix>_service-index`, an HMAC_256 KMS key
// used with GenerateMac (shared/adapters/crypto/kms-index-keys.ts). Retained: losing it makes every
// directory entry unfindable, and every connected mailbox would have to be connected again.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SERVICE_INDEX_TENANT } from '../../shared/domain/connectors/credentials.js';
import { TENANT_KEY_ALIAS_PREFIX } from './mail-ingest.js';

/** `alias/mail2ticket/tenant/_service-index`: the key service's name for the `_service` index key. */
export const SERVICE_INDEX_KEY_ALIAS = `${TENANT_KEY_ALIAS_PREFIX}${SERVICE_INDEX_TENANT}-index`;

export interface ServiceIndexKeyProps {
  /** Default RETAIN (see above). */
  readonly removalPolicy?: RemovalPolicy;
}

export class ServiceIndexKey extends Construct {
  /** HMAC_256, GENERATE_VERIFY_MAC. KMS rotates no HMAC key (and a rotated one would change every index). */
  public readonly key: kms.Key;
  public readonly alias: kms.Alias;

  constructor(scope: Construct, id: string, props: ServiceIndexKeyProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'mail2ticket service-wide blind index (provider addresses)',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      pendingWindow: Duration.days(30),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.alias = new kms.Alias(this, 'Alias', { aliasName: SERVICE_INDEX_KEY_ALIAS, targetKey: this.key });
  }

  /**
   * GenerateMac on this key, by its ARN: what blindIndex calls (it names the key by alias, and KMS
   * authorizes against the key the alias points to). No DescribeKey: the index path never resolves it.
   */
  grantIndex(role: iam.Role): void {
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ServiceIndexKey', actions: ['kms:GenerateMac'], resources: [this.key.keyArn] }));
  }
}
