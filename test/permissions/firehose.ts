/**
 * The requests of the raw zone's Firehose delivery streams (platform/raw-zone), which run in AWS and cannot be
 * recorded here: listed by hand from the Firehose developer guide, "Controlling access with Amazon Data Firehose" →
 * "Grant Firehose access to an Amazon S3 destination" (the S3 and KMS actions), "… Kinesis Data Streams as source"
 * (the stream actions) and "Monitoring Firehose with CloudWatch Logs" (logs:PutLogEvents), and built from what the
 * template deploys: the delivery stream's source stream, bucket, prefix expressions (evaluated for one hour) and log
 * group. The role is the one the delivery stream names for its source and its destination.
 */
import { AwsRequest, REGION, ACCOUNT, StackPolicies } from '../support/iam-proof';

const GUIDE = 'Firehose developer guide, "Grant Firehose access to an Amazon S3 destination"';

/** A Firehose prefix expression as Firehose evaluates it for records that arrived at `at` (UTC). */
export function evaluatePrefix(expression: string, at: Date, errorType = 'processing-failed'): string {
  const iso = at.toISOString();
  const parts: Record<string, string> = { yyyy: iso.slice(0, 4), MM: iso.slice(5, 7), dd: iso.slice(8, 10), HH: iso.slice(11, 13) };
  return expression
    .replace(/!\{timestamp:([^}]+)\}/g, (_m, format: string) => format.replace(/yyyy|MM|dd|HH/g, (token) => parts[token]))
    .replace(/!\{firehose:error-output-type\}/g, errorType)
    .replace(/!\{firehose:random-string\}/g, 'abcdef');
}

/** The role a delivery stream uses (source and destination must name the same one: one role per stream here). */
export function deliveryStreamRole(stack: StackPolicies, id: string): string {
  const p = stack.resources[id].Properties;
  const roles = new Set([p.KinesisStreamSourceConfiguration?.RoleARN, p.ExtendedS3DestinationConfiguration?.RoleARN].filter(Boolean).map((r) => r['Fn::GetAtt'][0]));
  if (roles.size !== 1) throw new Error(`${stack.stackName}/${id}: expected one role for source and destination, found ${[...roles].join(', ')}`);
  return [...roles][0];
}

/** Every request Firehose makes with the role of delivery stream `id`, for records that arrived at `at`. */
export function firehoseRequests(stack: StackPolicies, id: string, at = new Date('2026-12-04T13:05:00Z')): AwsRequest[] {
  const p = stack.value(stack.resources[id].Properties);
  const requests: AwsRequest[] = [];

  const streamArn: string = p.KinesisStreamSourceConfiguration.KinesisStreamARN;
  const source = `Firehose developer guide, "Grant Firehose access to … Kinesis Data Streams as source" (${stack.physicalName(id)} reads ${streamArn})`;
  for (const action of ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards']) {
    requests.push({ action, resource: streamArn, why: source });
  }

  const s3 = p.ExtendedS3DestinationConfiguration;
  const bucketArn: string = s3.BucketARN;
  for (const action of ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads']) {
    requests.push({ action, resource: bucketArn, why: `${GUIDE}: bucket-level calls before and during delivery` });
  }
  const file = `${stack.physicalName(id)}-1-2026-12-04-13-05-00-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.gz`;
  const objects = [
    [`${evaluatePrefix(s3.Prefix, at)}${file}`, 'the data object (Prefix)'],
    [`${evaluatePrefix(s3.ErrorOutputPrefix, at)}${file}`, 'records it could not process (ErrorOutputPrefix)'],
  ];
  for (const [key, what] of objects) {
    const object = `${bucketArn}/${key}`;
    // Large objects are multipart uploads (kms:Decrypt too, implied); an interrupted one is aborted.
    requests.push({ action: 's3:PutObject', resource: object, multipart: true, why: `${GUIDE}: ${what}` });
    requests.push({ action: 's3:AbortMultipartUpload', resource: object, why: `${GUIDE}: ${what}` });
    requests.push({ action: 's3:GetObject', resource: object, why: `${GUIDE}: ${what}` });
  }
  // With an S3 Bucket Key, S3 asks KMS for the bucket's data key in the bucket's encryption context (the bucket ARN,
  // not the object's): the guide's example condition on `<bucket>/<prefix>*` would deny exactly these.
  const key = stack.keyFor(bucketArn);
  if (!key) throw new Error(`${stack.stackName}/${id}: the raw zone bucket ${bucketArn} has no key of this stack`);
  const context = { 'kms:ViaService': `s3.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT, 'kms:EncryptionContext:aws:s3:arn': bucketArn };
  for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
    requests.push({ action, resource: key, context, why: `${GUIDE}; S3 user guide "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys" (encryption context)` });
  }

  const logging = s3.CloudWatchLoggingOptions;
  if (logging?.Enabled) {
    const stream = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logging.LogGroupName}:log-stream:${logging.LogStreamName}`;
    requests.push({ action: 'logs:PutLogEvents', resource: stream, why: 'Firehose developer guide, "Monitoring Firehose with CloudWatch Logs": delivery errors' });
  }
  return requests;
}
