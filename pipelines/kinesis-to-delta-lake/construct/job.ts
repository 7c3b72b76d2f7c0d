import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { skipCheckov } from '../../../platform/compliance';
import { aggregateDigest } from '../../../platform/processing-rules';
import { hashKeySecret, needsHashKey } from '../../../platform/processing-rules/hash-key';
import { GlueJobRole } from './glue-role';
import { KINESIS_TO_DELTA_LAKE_DEFAULTS } from './defaults';
import { JOB_CONTRACT, JobCode } from './job-code';
import { LakeLayout } from './layout';
import { DeliveryOptions, DeltaLakeSource, StreamingJobOptions, TableUpkeepOptions } from './props';
import { upkeepArguments } from './upkeep';

export { GLUE_VERSION } from './defaults';

/** The job's own arguments, by the names in the contract file the job parses them by (args.py). */
const ARGS = JOB_CONTRACT.arguments;
const D = KINESIS_TO_DELTA_LAKE_DEFAULTS.job;

/**
 * Spark settings of the job (one `--conf` argument: Glue takes further settings chained inside its value). Delta
 * itself comes from `--datalake-formats delta`.
 */
export const SPARK_CONF = [
  'spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension',
  'spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog',
  'spark.sql.session.timeZone=UTC',
].join(' --conf ');

/** Glue's own arguments: Delta, the job's package, Glue's metrics and the stack's own log groups. */
export function commonArguments(code: JobCode, role: GlueJobRole): Record<string, string> {
  return {
    '--job-language': 'python',
    '--datalake-formats': 'delta',
    '--conf': SPARK_CONF,
    '--extra-py-files': code.library.s3ObjectUrl,
    '--enable-metrics': 'true',
    '--enable-observability-metrics': 'true',
    '--custom-logGroup-prefix': role.logGroupPrefix,
  };
}

export interface StreamingJobProps {
  readonly jobName: string;
  readonly source: DeltaLakeSource;
  readonly stream: kinesis.IStream;
  readonly layout: LakeLayout;
  readonly code: JobCode;
  /** Where the job also puts the events it committed to the table, for customers (platform/customer-delivery). */
  readonly delivery?: DeliveryOptions;
  readonly options: StreamingJobOptions;
  readonly upkeep: TableUpkeepOptions;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The Glue streaming job (`gluestreaming`, Python 3, Glue 5.1): Kinesis → schema check → dedup within the watermark →
 * Delta table (and error table) in the lake, checkpointed under the source's prefix; between micro-batches, the
 * tables' upkeep (OPTIMIZE, VACUUM): the job is the only writer of its tables. It publishes its own metrics
 * (job-code.ts, JOB_CONTRACT). At most one run at a time; no Glue retries (the runner restarts it, from the
 * checkpoint).
 */
export class StreamingJob extends Construct {
  readonly job: glue.CfnJob;
  readonly role: iam.Role;
  readonly jobName: string;
  /** The job's log groups are `<this>/error` (Spark driver and executors) and `<this>/output` (the script's lines). */
  readonly logGroupPrefix: string;
  /** The job's arguments (without Glue's own), as the run receives them. */
  readonly arguments: Record<string, string>;
  readonly triggerInterval: Duration;

  constructor(scope: Construct, id: string, props: StreamingJobProps) {
    super(scope, id);
    const { source, layout, code, options } = props;
    this.jobName = props.jobName;
    const access = new GlueJobRole(this, 'Access', {
      jobName: props.jobName,
      description: `Runs the ${source.name} stream: reads ${props.stream.node.path}, writes s3://<lake>/${layout.prefix}`,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = access.role;
    this.logGroupPrefix = access.logGroupPrefix;
    this.triggerInterval = options.triggerInterval ?? D.triggerInterval;

    this.arguments = {
      ...commonArguments(code, access),
      // Glue's own: NumberOfWorkers becomes the maximum (Glue "Using auto scaling for AWS Glue", streaming jobs).
      ...((options.autoScaling ?? D.autoScaling) ? { '--enable-auto-scaling': 'true' } : {}),
      [ARGS.source]: source.name,
      [ARGS.schemaResource]: code.schemaResource,
      [ARGS.eventTimeField]: source.eventTimeField,
      [ARGS.idField]: source.idField,
      [ARGS.tablePath]: layout.url(layout.eventsPrefix),
      [ARGS.errorPath]: layout.url(layout.errorsPrefix),
      [ARGS.checkpointLocation]: layout.url(layout.checkpointPrefix),
      [ARGS.triggerInterval]: `${this.triggerInterval.toSeconds()} seconds`,
      [ARGS.watermarkDelay]: `${(options.watermarkDelay ?? D.watermarkDelay).toSeconds()} seconds`,
      [ARGS.sourceAdapter]: 'glue-kinesis',
      [ARGS.streamArn]: props.stream.streamArn,
      [ARGS.startingPosition]: options.startingPosition ?? D.startingPosition,
      [ARGS.metrics]: 'true',
      ...upkeepArguments(this.node.path, props.upkeep),
      ...this.processingArguments(props, access),
      ...(props.delivery
        ? {
            [ARGS.deliveryStreamArn]: props.delivery.stream.streamArn,
            ...(props.delivery.partitionKeyField ? { [ARGS.deliveryPartitionKeyField]: props.delivery.partitionKeyField } : {}),
          }
        : {}),
      // The bucket's root: the job writes each committed canary's receipt at receiptKey (_freshness/<source>/...).
      [ARGS.freshnessReceiptsPath]: layout.url(''),
    };

    this.job = new glue.CfnJob(this, 'Resource', {
      name: props.jobName,
      description: `Kinesis -> Spark Structured Streaming -> Delta Lake: ${source.name} events into ${layout.eventsPrefix}`,
      role: this.role.roleArn,
      command: { name: 'gluestreaming', scriptLocation: code.streamScript.s3ObjectUrl, pythonVersion: '3' },
      glueVersion: options.glueVersion ?? D.glueVersion,
      workerType: options.workerType ?? D.workerType,
      numberOfWorkers: options.workers ?? D.workers,
      executionProperty: { maxConcurrentRuns: 1 },
      maxRetries: 0,
      maintenanceWindow: options.maintenanceWindow ?? D.maintenanceWindow,
      defaultArguments: this.arguments,
    });
    acknowledgeGlueLogging(this.job);

    this.grant(props, access);
  }

  /** The processing rules' arguments, when the source has rules: the document, the aggregates table, the hash key. */
  private processingArguments(props: StreamingJobProps, access: GlueJobRole): Record<string, string> {
    const doc = props.source.processing;
    if (!doc || !props.code.processingResource) return {};
    const args: Record<string, string> = { [ARGS.processingResource]: props.code.processingResource };
    if (doc.aggregateSchema) args[ARGS.aggregatesPath] = props.layout.url(props.layout.aggregatesPrefix(aggregateDigest(doc)));
    if (needsHashKey(doc)) {
      const secret = hashKeySecret(this, props.removalPolicy === RemovalPolicy.DESTROY);
      secret.grantRead(access.role);
      args[ARGS.hashKeySecret] = secret.secretArn;
    }
    return args;
  }

  get jobArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'job', resourceName: this.jobName });
  }

  /**
   * Read this stream; read and write this source's prefix of the lake (tables, errors, checkpoint) with its key; read
   * the job's own code objects. Every request, with its action and resource: pipelines/kinesis-to-delta-lake/job/aws-requests.md.
   */
  private grant(props: StreamingJobProps, access: GlueJobRole): void {
    const { layout, stream, code } = props;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'],
        resources: [stream.streamArn],
      }),
    );
    stream.encryptionKey?.grant(this.role, 'kms:Decrypt');
    if (props.delivery) {
      // PutRecords only (the job names the stream; it never reads it back), and the stream key's data keys.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kinesis:PutRecords'], resources: [props.delivery.stream.streamArn] }));
      props.delivery.stream.encryptionKey?.grant(this.role, 'kms:GenerateDataKey');
    }
    const objects = grantLakePrefixes(this.role, layout, [layout.prefix]);
    // Freshness receipts: PutObject only, under this source's receipts prefix (the key names the canary and the commit
    // time; the job never reads, lists or deletes them). The bucket's key is granted above.
    const receipts = layout.bucket.arnForObjects(`${layout.receiptsPrefix}*`);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [receipts] }));
    code.grantRead(this.role, [code.streamScript, code.library]);
    const nagId = (arn: string) => `Resource::${flattenCfnReference(Stack.of(this).resolve(arn))}`;
    access.acknowledge([
      ...objects.map((arn): [string, string] => [
        nagId(arn),
        `The ${props.source.name} stream writes Delta files, its log and its checkpoint under its own prefix; their keys are not known in advance.`,
      ]),
      [nagId(receipts), `The ${props.source.name} stream writes one receipt per freshness canary it committed; the key names the canary and the commit time, so it is not known in advance.`],
    ]);
  }
}

/**
 * Read, write and delete under each prefix (Delta data files and log, checkpoint files), list the bucket, and use
 * the bucket's key. Returns the wildcard object ARNs granted (for the cdk-nag acknowledgements).
 */
export function grantLakePrefixes(role: iam.IRole, layout: LakeLayout, prefixes: string[]): string[] {
  const bucket = layout.bucket;
  const objects = prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`));
  const markers = prefixes.map((prefix) => bucket.arnForObjects(prefix.replace(/\/$/, '_$folder$')));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: [...objects, ...markers] }),
  );
  // ListBucket WITHOUT an s3:prefix condition (issue 15, finding 2). Glue 5.1's S3A probes keys before it creates
  // them (Delta commit files, checkpoint files) and expects 404 for a missing one; S3 answers 404 only to a caller
  // allowed to ListBucket, 403 otherwise, and AWS does not document whether a prefix-conditioned ListBucket counts
  // for that decision. S3A cannot be told to read 403 as absent, so the role may list the lake bucket: on the
  // pipeline's own bucket that reveals only key names of data the role can already read. With an existing bucket
  // (`existingLakeBucket`) the job can list the names of every key in it (see the construct README).
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  // Multipart uploads to an SSE-KMS bucket need Decrypt as well as GenerateDataKey.
  bucket.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
  return objects;
}

/**
 * No Glue security configuration: the job uses no bookmarks (a streaming job tracks its progress in the checkpoint),
 * and its logs go to the stack's own log groups (`--custom-logGroup-prefix`),
 * encrypted at rest by CloudWatch Logs and kept for the configured retention. A security configuration's log
 * encryption would send them to log groups named after the configuration and role, outside that retention.
 * The lake objects are encrypted by the bucket's KMS key whatever the writer.
 */
export function acknowledgeGlueLogging(job: glue.CfnJob): void {
  Validations.of(job).acknowledge({
    id: 'AwsSolutions-GL1',
    reason: "Logs go to the stack's own log groups (--custom-logGroup-prefix), encrypted at rest by CloudWatch Logs, with retention; the job logs progress counts, not event payloads.",
  });
  Validations.of(job).acknowledge({
    id: 'AwsSolutions-GL3',
    reason: 'The job uses no job bookmarks: a streaming job tracks its progress in its checkpoint (KMS-encrypted lake bucket).',
  });
  skipCheckov(
    job,
    'CKV_AWS_195',
    "No Glue security configuration: the buckets' KMS keys encrypt whatever the job writes, it uses its checkpoint rather than job bookmarks, and a configuration's log encryption would move its logs out of the stack's own log groups and their retention.",
  );
}
