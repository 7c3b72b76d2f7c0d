/**
 * Turns the AWS SDK v3 calls a test recorded (aws-sdk-client-mock's `calls()`) into the IAM requests the service
 * authorizes, for the permission proof (test/support/iam-proof.ts). Action names follow the Service Authorization
 * Reference: `<prefix>:<Command>` unless the table below says otherwise. KMS calls a service makes for the caller
 * (SSE-KMS, encrypted streams and queues) are added by the proof from the template, which knows the keys.
 */
import type { AwsStub } from 'aws-sdk-client-mock';
import { ACCOUNT, AwsRequest, REGION } from './iam-proof';

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const s3Object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const regional = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
const queueArn = (url: string) => {
  const [, , host, account, name] = url.split('/');
  return `arn:aws:sqs:${host.split('.')[1]}:${account}:${name}`;
};
const streamArn = (i: Input) => i.StreamARN ?? regional('kinesis', `stream/${i.StreamName}`);
const glueTable = (i: Input, name = i.Name ?? i.TableInput?.Name) => [
  regional('glue', 'catalog'),
  regional('glue', `database/${i.DatabaseName}`),
  regional('glue', `table/${i.DatabaseName}/${name}`),
];
const one = (action: string, resource: string, extra: Partial<AwsRequest> = {}): AwsRequest[] => [{ action, resource, ...extra }];
/** arn:...:schema/<registry>/<schema> and its registry's ARN. */
const glueSchema = (action: string, schemaArn: string): AwsRequest[] => [
  { action, resource: schemaArn },
  { action, resource: schemaArn.replace(/:schema\/([^/]+)\/.*$/, ':registry/$1') },
];

/** `bucket/key?versionId=v` (URL-encoded key) of CopyObject's CopySource. */
function copySource(source: string): { bucket: string; key: string; versionId?: string } {
  const [location, query] = source.replace(/^\//, '').split('?');
  const [bucket, ...key] = location.split('/');
  return { bucket, key: decodeURIComponent(key.join('/')), versionId: new URLSearchParams(query ?? '').get('versionId') ?? undefined };
}

/** Where an API call's IAM action or resource differs from `<prefix>:<Command>` on one ARN. */
const EXCEPTIONS: Record<string, (i: Input) => AwsRequest[]> = {
  's3:GetObject': (i) => one(i.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', s3Object(i.Bucket, i.Key)),
  // HEAD is authorized as GetObject and is an existence probe: the 404 needs ListBucket.
  's3:HeadObject': (i) => one(i.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', s3Object(i.Bucket, i.Key), { mayBeMissing: true }),
  's3:PutObject': (i) => [
    ...one('s3:PutObject', s3Object(i.Bucket, i.Key)),
    ...(i.Tagging ? one('s3:PutObjectTagging', s3Object(i.Bucket, i.Key)) : []),
  ],
  's3:CreateMultipartUpload': (i) => one('s3:PutObject', s3Object(i.Bucket, i.Key), { multipart: true }),
  's3:UploadPart': (i) => one('s3:PutObject', s3Object(i.Bucket, i.Key), { multipart: true }),
  's3:CompleteMultipartUpload': (i) => one('s3:PutObject', s3Object(i.Bucket, i.Key), { multipart: true }),
  's3:AbortMultipartUpload': (i) => one('s3:AbortMultipartUpload', s3Object(i.Bucket, i.Key)),
  's3:ListObjectsV2': (i) =>
    one('s3:ListBucket', `arn:aws:s3:::${i.Bucket}`, {
      context: { 's3:prefix': i.Prefix ?? '', ...(i.Delimiter ? { 's3:delimiter': i.Delimiter } : {}), ...(i.MaxKeys ? { 's3:max-keys': String(i.MaxKeys) } : {}) },
    }),
  's3:DeleteObject': (i) => one('s3:DeleteObject', s3Object(i.Bucket, i.Key)),
  // CopyObject: read the source (its tags too, copied by default) and write the target (S3 CopyObject reference).
  's3:CopyObject': (i) => {
    const source = copySource(i.CopySource);
    const copiesTags = (i.TaggingDirective ?? 'COPY') === 'COPY';
    return [
      ...one(source.versionId ? 's3:GetObjectVersion' : 's3:GetObject', s3Object(source.bucket, source.key)),
      ...(copiesTags ? one(source.versionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging', s3Object(source.bucket, source.key)) : []),
      ...one('s3:PutObject', s3Object(i.Bucket, i.Key)),
      ...(copiesTags || i.Tagging ? one('s3:PutObjectTagging', s3Object(i.Bucket, i.Key)) : []),
    ];
  },
  'kinesis:PutRecords': (i) => one('kinesis:PutRecords', streamArn(i)),
  'kinesis:PutRecord': (i) => one('kinesis:PutRecord', streamArn(i)),
  'kinesis:DescribeStreamSummary': (i) => one('kinesis:DescribeStreamSummary', streamArn(i)),
  // A next page of ListShards names only its NextToken: authorized on the stream of the first page (proven there).
  'kinesis:ListShards': (i) => (i.StreamARN || i.StreamName ? one('kinesis:ListShards', streamArn(i)) : []),
  'kinesis:GetShardIterator': (i) => one('kinesis:GetShardIterator', streamArn(i)),
  'kinesis:GetRecords': (i) => {
    if (!i.StreamARN) throw new Error('GetRecords without StreamARN: its resource cannot be told (the iterator is opaque)');
    return one('kinesis:GetRecords', i.StreamARN);
  },
  'kinesis:DescribeStreamConsumer': (i) => one('kinesis:DescribeStreamConsumer', i.ConsumerARN),
  'ssm:GetParameter': (i) => one('ssm:GetParameter', regional('ssm', `parameter/${String(i.Name).replace(/^\//, '')}`)),
  'sqs:ReceiveMessage': (i) => one('sqs:ReceiveMessage', queueArn(i.QueueUrl)),
  'sqs:SendMessage': (i) => one('sqs:SendMessage', queueArn(i.QueueUrl)),
  'sqs:SendMessageBatch': (i) => one('sqs:SendMessage', queueArn(i.QueueUrl)),
  'sqs:DeleteMessage': (i) => one('sqs:DeleteMessage', queueArn(i.QueueUrl)),
  'sqs:DeleteMessageBatch': (i) => one('sqs:DeleteMessage', queueArn(i.QueueUrl)),
  'sqs:ChangeMessageVisibility': (i) => one('sqs:ChangeMessageVisibility', queueArn(i.QueueUrl)),
  'sqs:ChangeMessageVisibilityBatch': (i) => one('sqs:ChangeMessageVisibility', queueArn(i.QueueUrl)),
  'sns:Publish': (i) => one('sns:Publish', i.TopicArn),
  // Glue catalog calls are authorized on the catalog, the database and the table (Glue "specifying resource ARNs").
  'glue:GetTable': (i) => glueTable(i).map((r) => ({ action: 'glue:GetTable', resource: r })),
  'glue:UpdateTable': (i) => glueTable(i).map((r) => ({ action: 'glue:UpdateTable', resource: r })),
  'glue:CreateTable': (i) => glueTable(i).map((r) => ({ action: 'glue:CreateTable', resource: r })),
  'glue:GetDatabase': (i) => glueTable(i).slice(0, 2).map((r) => ({ action: 'glue:GetDatabase', resource: r })),
  // Schema registry calls name the schema by its ARN: authorized on the schema and its registry.
  'glue:ListSchemaVersions': (i) => glueSchema('glue:ListSchemaVersions', i.SchemaId.SchemaArn),
  'glue:GetSchemaVersion': (i) => glueSchema('glue:GetSchemaVersion', i.SchemaId.SchemaArn),
  'glue:GetSchemaVersionsDiff': (i) => glueSchema('glue:GetSchemaVersionsDiff', i.SchemaId.SchemaArn),
  'glue:StartJobRun': (i) => one('glue:StartJobRun', regional('glue', `job/${i.JobName}`)),
  'glue:GetJobRun': (i) => one('glue:GetJobRun', regional('glue', `job/${i.JobName}`)),
  'glue:GetJobRuns': (i) => one('glue:GetJobRuns', regional('glue', `job/${i.JobName}`)),
  'glue:BatchStopJobRun': (i) => one('glue:BatchStopJobRun', regional('glue', `job/${i.JobName}`)),
  'iam:GetRole': (i) => one('iam:GetRole', `arn:aws:iam::${ACCOUNT}:role/${i.RoleName}`),
  'iam:CreateRole': (i) => one('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role${i.Path ?? '/'}${i.RoleName}`),
  'iam:ListAttachedRolePolicies': (i) => one('iam:ListAttachedRolePolicies', `arn:aws:iam::${ACCOUNT}:role/${i.RoleName}`),
  'iam:AttachRolePolicy': (i) =>
    one('iam:AttachRolePolicy', `arn:aws:iam::${ACCOUNT}:role/${i.RoleName}`, { context: { 'iam:PolicyARN': i.PolicyArn } }),
  'dms:StartReplicationTask': (i) => one('dms:StartReplicationTask', i.ReplicationTaskArn),
  'dms:StopReplicationTask': (i) => one('dms:StopReplicationTask', i.ReplicationTaskArn),
  // DescribeReplicationTasks takes filters, not an ARN: authorized on `*` (Service Authorization Reference).
  'dms:DescribeReplicationTasks': () => one('dms:DescribeReplicationTasks', '*'),
  // The Service Authorization Reference lists no resource type ("specify *"). CDK's msk-alpha and AWS's Firehose policy
  // template grant it on the cluster ARN, which suggests MSK evaluates that ARN; undocumented, so the proof requires
  // what the documentation requires (issue 15's rule: do not depend on the undocumented case).
  'kafka:GetBootstrapBrokers': () => one('kafka:GetBootstrapBrokers', '*'),
  'codebuild:StartBuild': (i) => one('codebuild:StartBuild', regional('codebuild', `project/${i.projectName}`)),
  'codebuild:BatchGetBuilds': (i) =>
    [...new Set<string>((i.ids as string[]).map((id) => id.split(':')[0]))].map((p) => ({ action: 'codebuild:BatchGetBuilds', resource: regional('codebuild', `project/${p}`) })),
};

/** The IAM requests of one SDK command sent by a client of service `prefix` (e.g. `s3`, `kinesis`). */
export function requestsOf(prefix: string, commandName: string, input: Input): AwsRequest[] {
  const name = commandName.replace(/Command$/, '');
  const map = EXCEPTIONS[`${prefix}:${name}`];
  if (map) return map(input);
  if (prefix === 'kinesisanalytics') return one(`kinesisanalytics:${name}`, regional('kinesisanalytics', `application/${input.ApplicationName}`));
  throw new Error(`No IAM mapping for ${prefix}:${name}: add it to EXCEPTIONS in test/support/aws-requests.ts (Service Authorization Reference)`);
}

/**
 * Every request recorded by the given mocks, by service prefix: `recorded({ s3: s3Mock, kinesis: kinesisMock })`.
 * `missingKeysExpected`: the code handles NoSuchKey on its GETs (it probes), so each GET implies S3's 404 rule.
 */
export function recorded(mocks: Record<string, AwsStub<any, any, any>>, options: { missingKeysExpected?: boolean } = {}): AwsRequest[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return Object.entries(mocks).flatMap(([prefix, mock]) =>
    mock.calls().flatMap((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: Input };
      return requestsOf(prefix, command.constructor.name, command.input).map((r) =>
        options.missingKeysExpected && prefix === 's3' && /^s3:GetObject(Version)?$/.test(r.action) ? { ...r, mayBeMissing: true } : r,
      );
    }),
  );
}
