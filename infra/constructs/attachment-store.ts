// The object bucket for raw messages, bodies and attachments (all encrypted client-side as well):
// KMS at rest, TLS only, private, versioned with short-lived noncurrent versions, access-logged.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ERASURE_JOURNAL_PREFIX } from '../../shared/domain/requester-journal.js';

export interface AttachmentStoreProps {
  /** Days a replaced or deleted version survives (≤ 30, inside the purge promise). */
  readonly noncurrentVersionDays?: number;
  /** Days server access logs are kept (≤ 30: they name object keys, which carry tenant and mailbox ids). */
  readonly accessLogDays?: number;
  /**
   * Days a requester erasure's journal entry is kept: as long as a backup taken before the erasure
   * can be restored (the longer of the backups' retention and PITR's 35 days), plus a day. After
   * that no restore can bring the erased records back, and the entry (a blind index and ids) goes.
   */
  readonly erasureJournalDays?: number;
  /** Default RETAIN, for the bucket, its key and the access logs. */
  readonly removalPolicy?: RemovalPolicy;
}

export class AttachmentStore extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;
  /** The bucket's SSE-KMS key: whoever reads or writes objects needs it. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AttachmentStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new kms.Key(this, 'Key', { description: 'mail2ticket objects', enableKeyRotation: true, removalPolicy });
    // Server access logs can only be delivered to an SSE-S3 bucket. The log service is let in by the
    // bucket policy (feature flag serverAccessLogsUseBucketPolicy), so ACLs can stay disabled.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogDays ?? 30) }],
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'objects/',
      lifecycleRules: [
        // Once its noncurrent versions are gone, a deleted key's lone delete marker goes too.
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30), expiredObjectDeleteMarker: true },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-orphaned-intake', prefix: 'intake/', expiration: Duration.days(14) },
        { id: 'expire-erasure-journal', prefix: ERASURE_JOURNAL_PREFIX, expiration: Duration.days(props.erasureJournalDays ?? 366) },
      ],
      removalPolicy,
    });
  }
}
