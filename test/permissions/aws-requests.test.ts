/** The SDK-command → IAM-request table the permission proof relies on (Service Authorization Reference). */
import { requestsOf } from '../support/aws-requests';

const brief = (prefix: string, command: string, input: Record<string, unknown>) =>
  requestsOf(prefix, command, input).map((r) => [r.action, r.resource, r.context ?? {}, r.mayBeMissing ?? false]);

test('S3: HEAD is a GetObject probe, versions need GetObjectVersion, listing carries s3:prefix', () => {
  expect(brief('s3', 'HeadObjectCommand', { Bucket: 'b', Key: 'k' })).toEqual([['s3:GetObject', 'arn:aws:s3:::b/k', {}, true]]);
  expect(brief('s3', 'GetObjectCommand', { Bucket: 'b', Key: 'k', VersionId: 'v' })).toEqual([['s3:GetObjectVersion', 'arn:aws:s3:::b/k', {}, false]]);
  expect(brief('s3', 'ListObjectsV2Command', { Bucket: 'b', Prefix: 'p/', Delimiter: '/' })).toEqual([
    ['s3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'p/', 's3:delimiter': '/' }, false],
  ]);
});

test('S3: CopyObject reads the source (and its tags) and writes the target (and the tags); multipart is PutObject', () => {
  expect(brief('s3', 'CopyObjectCommand', { Bucket: 'to', Key: 'q/x', CopySource: 'from/a%20b?versionId=v1' })).toEqual([
    ['s3:GetObjectVersion', 'arn:aws:s3:::from/a b', {}, false],
    ['s3:GetObjectVersionTagging', 'arn:aws:s3:::from/a b', {}, false],
    ['s3:PutObject', 'arn:aws:s3:::to/q/x', {}, false],
    ['s3:PutObjectTagging', 'arn:aws:s3:::to/q/x', {}, false],
  ]);
  for (const command of ['CreateMultipartUploadCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand']) {
    expect(requestsOf('s3', command, { Bucket: 'b', Key: 'k' })).toEqual([{ action: 's3:PutObject', resource: 'arn:aws:s3:::b/k', multipart: true }]);
  }
});

test('SQS batch calls are authorized as their single actions on the queue ARN; Glue catalog calls on catalog, database and table', () => {
  const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';
  expect(brief('sqs', 'DeleteMessageBatchCommand', { QueueUrl: url })).toEqual([['sqs:DeleteMessage', 'arn:aws:sqs:eu-west-1:123456789012:q', {}, false]]);
  expect(brief('sqs', 'ChangeMessageVisibilityBatchCommand', { QueueUrl: url })[0][0]).toBe('sqs:ChangeMessageVisibility');
  expect(requestsOf('glue', 'GetTableCommand', { DatabaseName: 'd', Name: 't' }).map((r) => r.resource)).toEqual([
    'arn:aws:glue:eu-west-1:123456789012:catalog',
    'arn:aws:glue:eu-west-1:123456789012:database/d',
    'arn:aws:glue:eu-west-1:123456789012:table/d/t',
  ]);
});

test('an unmapped command is an error naming where to add it, never a guess', () => {
  expect(() => requestsOf('s3', 'PutBucketPolicyCommand', { Bucket: 'b' })).toThrow(/No IAM mapping for s3:PutBucketPolicy.*EXCEPTIONS/);
});
