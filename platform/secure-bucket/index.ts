import { Duration, FeatureFlags, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { skipCheckov } from '../compliance';

/** How a SecureBucket encrypts: a customer-managed KMS key, or SSE-S3 (for targets of S3 server access logs). */
export type BucketEncryptionKind = 'kms' | 's3-managed';

/** Props of `SecureBucket`: its encryption, lifecycle, logging and removal, all with secure defaults. */
export interface SecureBucketProps {
  /**
   * `kms`: a customer-managed key (created unless `encryptionKey` is given), so access to the data needs both an S3
   * and a KMS grant. `s3-managed`: SSE-S3, for buckets a service can only write with it (S3 server access logs).
   * @default 'kms'
   */
  readonly encryption?: BucketEncryptionKind;
  /** An existing key for `kms` encryption. @default a new key with yearly rotation */
  readonly encryptionKey?: kms.IKey;
  /**
   * Whether deleting the stack deletes the bucket, its objects and its key. Data is retained unless you opt in.
   * @default false
   */
  readonly allowDestroy?: boolean;
  /** How long overwritten or deleted object versions are kept. @default 30 days */
  readonly noncurrentVersionRetention?: Duration;
  /** Lifecycle rules added to the defaults (noncurrent versions, incomplete uploads). */
  readonly lifecycleRules?: s3.LifecycleRule[];
  /** Where server access logs go. @default the stack's shared access-log bucket (one per stack, construct id `AccessLogs`) */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Overrides merged over the secure defaults (applied last: an override wins). */
  readonly bucketProps?: Partial<s3.BucketProps>;
}

/** What every bucket of the project has, data and log buckets alike. */
const ALWAYS: Partial<s3.BucketProps> = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  versioned: true,
};

/**
 * An S3 bucket that is secure without further thought: encrypted (customer-managed KMS key by default), public access
 * blocked, TLS 1.2+ only, versioned, lifecycle for old versions and abandoned uploads, server access logging, and
 * retained with the stack unless destruction is explicitly allowed.
 */
export class SecureBucket extends Construct {
  /** The bucket. */
  readonly bucket: s3.Bucket;
  /** The bucket's key (undefined with `s3-managed` encryption). */
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: SecureBucketProps = {}) {
    super(scope, id);
    const encryption = props.encryption ?? 'kms';
    if (encryption === 's3-managed' && props.encryptionKey) {
      throw new Error(`${this.node.path}: "encryptionKey" requires encryption "kms" (got "s3-managed")`);
    }
    requireBucketPolicyLogDelivery(this);
    const allowDestroy = props.allowDestroy ?? false;
    const removalPolicy = allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    if (encryption === 'kms') {
      this.encryptionKey =
        props.encryptionKey ??
        new kms.Key(this, 'Key', {
          description: `Encrypts s3://${this.node.path}`,
          enableKeyRotation: true,
          removalPolicy,
        });
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...ALWAYS,
      encryption: encryption === 'kms' ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: encryption === 'kms', // one data key per bucket, not per object: far fewer KMS calls
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions-and-abandoned-uploads',
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
        ...(props.lifecycleRules ?? []),
      ],
      serverAccessLogsBucket: props.serverAccessLogsBucket ?? AccessLogsBucket.of(this, allowDestroy),
      serverAccessLogsPrefix: `${this.node.path}/`,
      removalPolicy,
      autoDeleteObjects: allowDestroy,
      ...props.bucketProps,
    });
  }
}

/** The feature flag without which CDK grants log delivery with an ACL, which buckets that enforce ownership refuse. */
const LOG_DELIVERY_FLAG = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

/**
 * The buckets log access to a bucket that grants S3's log delivery through its bucket policy. Apps made by `cdk init`
 * since aws-cdk-lib 2.60 set the flag that does this; an older app gets this message rather than CDK's about ACLs.
 */
function requireBucketPolicyLogDelivery(scope: Construct): void {
  if (FeatureFlags.of(scope).isEnabled(LOG_DELIVERY_FLAG)) return;
  throw new Error(
    `${scope.node.path}: expected the feature flag "${LOG_DELIVERY_FLAG}": true in cdk.json's context (access logs are delivered under a bucket policy; without the flag CDK grants an ACL, which buckets with enforced ownership refuse). \`cdk init\` sets it in new apps.`,
  );
}

/**
 * The one bucket per stack that receives S3 server access logs. S3 log delivery only supports SSE-S3 targets, and
 * the log bucket does not log itself (that would loop); both are acknowledged on this bucket alone (cdk-nag; checkov).
 */
export class AccessLogsBucket extends Construct {
  private static readonly ID = 'AccessLogs';

  /** The stack's access-log bucket, created on first use. */
  static of(scope: IConstruct, allowDestroy = false): s3.IBucket {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(AccessLogsBucket.ID) as AccessLogsBucket | undefined;
    return (existing ?? new AccessLogsBucket(stack, AccessLogsBucket.ID, allowDestroy)).bucket;
  }

  readonly bucket: s3.Bucket;

  private constructor(scope: Construct, id: string, allowDestroy: boolean) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...ALWAYS,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(365),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: allowDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: allowDestroy,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log target; logging it to itself would loop.',
    });
    skipCheckov(this.bucket, 'CKV_AWS_18', 'This is the server access log target; logging it to itself would loop, and to another bucket would only move the problem.');
  }
}
