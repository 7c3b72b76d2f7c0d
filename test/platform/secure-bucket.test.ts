import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SecureBucket } from '../../platform/secure-bucket';
import { complianceFindings, testStack } from '../support/aws';

describe('SecureBucket', () => {
  test('defaults: customer-managed KMS with rotation, bucket key, public access blocked, versioned, retained', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Data');
    const template = Template.fromStack(stack);

    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
    });
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataKey'), 'Arn'] } },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^AccessLogsBucket') }, LogFilePrefix: 'TestStack/Data/' },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('lifecycle expires noncurrent versions and abandoned multipart uploads', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Data', { noncurrentVersionRetention: Duration.days(90) });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            ExpiredObjectDeleteMarker: true,
          }),
        ]),
      },
    });
  });

  test('the bucket policy denies plain HTTP and TLS older than 1.2', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Data');
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: Match.stringLikeRegexp('^DataBucket') } },
    });
    const statements = Object.values(policies)[0].Properties.PolicyDocument.Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]),
    );
  });

  test('one access-log bucket per stack, SSE-S3 (what log delivery supports), TLS-only, logs expire after a year', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Landing');
    new SecureBucket(stack, 'Errors');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 3);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] },
      LoggingConfiguration: Match.absent(),
    });
    // Both data buckets log to the same bucket.
    const logTargets = Object.values(template.findResources('AWS::S3::Bucket'))
      .map((b) => b.Properties.LoggingConfiguration?.DestinationBucketName?.Ref)
      .filter(Boolean);
    expect(new Set(logTargets).size).toBe(1);
    expect(logTargets).toHaveLength(2);
  });

  test('allowDestroy deletes bucket, objects and key with the stack', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Data', { allowDestroy: true });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', Properties: { BucketEncryption: Match.anyValue() } });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2); // the data bucket and the access-log bucket
  });

  test('s3-managed encryption creates no key', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Data', { encryption: 's3-managed' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.allResourcesProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  test('an existing key is used as given', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'SharedKey', { enableKeyRotation: true });
    const bucket = new SecureBucket(stack, 'Data', { encryptionKey: key });
    expect(bucket.encryptionKey).toBe(key);
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 1);
  });

  test('bucketProps override the defaults', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Data', { bucketProps: { bucketName: 'my-landing-bucket' } });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', { BucketName: 'my-landing-bucket' });
  });

  test('an encryption key with s3-managed encryption is a clear error', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    expect(() => new SecureBucket(stack, 'Data', { encryption: 's3-managed', encryptionKey: key })).toThrow(
      'TestStack/Data: "encryptionKey" requires encryption "kms" (got "s3-managed")',
    );
  });

  test('an app without the bucket-policy log delivery flag (older than cdk init of aws-cdk-lib 2.60) is told which flag to set', () => {
    const stack = new Stack(new App(), 'Legacy');
    expect(() => new SecureBucket(stack, 'Data')).toThrow('Legacy/Data: expected the feature flag "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true in cdk.json\'s context');
  });

  test('passes the compliance gate with and without data destruction', () => {
    for (const allowDestroy of [false, true]) {
      const stack = testStack();
      new SecureBucket(stack, 'Data', { allowDestroy });
      expect(complianceFindings(stack)).toEqual([]);
    }
  });
});
