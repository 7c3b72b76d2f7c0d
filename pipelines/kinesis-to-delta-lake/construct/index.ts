import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { checkSourceName, pipelineBase, requireEither } from '../../../platform/pipeline';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { SecureBucket } from '../../../platform/secure-bucket';
import { aggregateDigest } from '../../../platform/processing-rules';
import { DeltaCatalog } from './catalog';
import { KINESIS_TO_DELTA_LAKE_DEFAULTS as D } from './defaults';
import { StreamingJob } from './job';
import { JobCode } from './job-code';
import { errorFilesPrefix, LakeLayout } from './layout';
import { monitorKinesisToDeltaLake, RUNBOOK } from './monitoring';
import { KinesisToDeltaLakeProps } from './props';
import { JobRunner } from './runner';

export type { DeliveryOptions, DeltaLakeSource, KinesisToDeltaLakeAlarmOptions, KinesisToDeltaLakeProps, StreamingJobOptions, TableUpkeepOptions } from './props';
export { GLUE_VERSION, SPARK_CONF } from './job';
export { glueStreamingMetric, restarterMetric, RUNBOOK } from './monitoring';
export { LakeLayout } from './layout';
export { JOB_CONTRACT } from './job-code';
export { UPKEEP_DEFAULTS } from './upkeep';
export { KINESIS_TO_DELTA_LAKE_DEFAULTS } from './defaults';

/**
 * Pipeline 2: Kinesis → Spark Structured Streaming (AWS Glue streaming job, PySpark) → Delta Lake on S3, for one
 * source.
 *
 * ```text
 *   producers / landing zone -> Kinesis stream -> Glue streaming job (5 s micro-batches, checkpoint on S3)
 *                                                   +-> s3://lake/<source>/events/  Delta (Athena: <db>.<source>)
 *                                                   +-> s3://lake/<source>/errors/  Delta (rejected records, reason)
 *                                                   +-> hourly, between micro-batches: OPTIMIZE, VACUUM, retention
 *                                                   +-> its own CloudWatch metrics (events, rejected, batch time)
 *   deploy/update -> runner custom resource: start, or stop and start on the new script;  failures -> restarter
 * ```
 */
export class KinesisToDeltaLake extends Construct {
  /** The Kinesis stream the job reads: `existingStream`, or the one built from `streamProps`. */
  readonly stream: kinesis.IStream;
  /** The bucket holding the Delta tables (events, rejected records) and the job's checkpoints. */
  readonly lakeBucket: s3.IBucket;
  /** Where the source's tables, checkpoints and errors live in the lake bucket. */
  readonly layout: LakeLayout;
  /** The Glue streaming job (Spark Structured Streaming, PySpark). */
  readonly job: glue.CfnJob;
  /** The streaming job's construct: its script, role, connections and settings. */
  readonly streamingJob: StreamingJob;
  /**
   * Starts the job on deploy (restarts it on a new script) and restarts it after a failure, within
   * `maxRestartsPerHour`.
   */
  readonly runner: JobRunner;
  /** The Glue database, tables and Athena workgroup over the Delta tables. */
  readonly catalog: DeltaCatalog;
  /** The Glue database of the source's tables. */
  readonly database: glue.CfnDatabase;
  /** The Glue table of the events, which Athena queries as `<database>.<source>`. */
  readonly table: glue.CfnTable;
  /** The Athena workgroup for the lake (encrypted results). */
  readonly workgroup: athena.CfnWorkGroup;
  /** The alarms and dashboard of the pipeline (`props.monitoring`, or its own). */
  readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: KinesisToDeltaLakeProps) {
    super(scope, id);
    const { source } = props;
    checkSourceName(this, source.name);
    requireEither(this, props, ['existingStream', 'streamProps'], ['existingLakeBucket', 'lakeBucketProps']);
    checkOptions(this, props);
    const { allowDestroy, removalPolicy, logRetention, name, monitoring } = pipelineBase(this, props, RUNBOOK);
    this.monitoring = monitoring;

    this.stream = props.existingStream ?? buildStream(this, props.streamProps, removalPolicy);
    const errorFilter = `${source.name}-rejected`.slice(0, 64);
    this.layout = new LakeLayout(this.lakeBucketFor(props, errorFilter, source.name), source.name);
    this.lakeBucket = this.layout.bucket;

    const code = new JobCode(this, 'Code', source.schemaFile, source.processing);
    const job = props.job ?? {};
    this.streamingJob = new StreamingJob(this, 'Job', {
      jobName: glueName(name),
      source,
      stream: this.stream,
      layout: this.layout,
      code,
      delivery: props.delivery,
      options: job,
      upkeep: props.upkeep ?? {},
      logRetention,
      removalPolicy,
    });
    this.job = this.streamingJob.job;
    this.runner = new JobRunner(this, 'Runner', {
      job: this.streamingJob,
      maxRestartsPerHour: job.maxRestartsPerHour ?? D.job.maxRestartsPerHour,
      startupCheck: job.startupCheck ?? D.job.startupCheck,
      logRetention,
      removalPolicy,
    });
    this.catalog = new DeltaCatalog(this, 'Catalog', {
      databaseName: name,
      workgroupName: name,
      source: source.name,
      eventTimeField: source.eventTimeField,
      layout: this.layout,
      aggregatesDigest: source.processing?.aggregateSchema ? aggregateDigest(source.processing) : undefined,
      allowDestroy,
    });
    this.database = this.catalog.database;
    this.table = this.catalog.eventsTable;
    this.workgroup = this.catalog.workgroup;

    monitorKinesisToDeltaLake(this.monitoring, {
      source: source.name,
      stream: this.stream,
      jobName: this.streamingJob.jobName,
      triggerInterval: this.streamingJob.triggerInterval,
      jobFailedRule: this.runner.stateChangeRule,
      restarter: this.runner.restarter,
      deadLetterQueue: this.runner.deadLetterQueue,
      errorWrites: props.existingLakeBucket ? undefined : { bucket: this.lakeBucket, filterId: errorFilter },
      maxIteratorAge: props.alarms?.maxIteratorAge ?? D.alarms.maxIteratorAge,
      noDataMinutes: props.alarms?.noDataMinutes,
    });
  }

  /** Every alarm of the pipeline (and of whatever shares its monitoring). */
  get alarms() {
    return this.monitoring.alarms;
  }

  /**
   * A bring-your-own bucket, or a new SecureBucket with an S3 request-metrics filter on the error table's data files
   * (the rejected-records alarm counts their writes).
   */
  private lakeBucketFor(props: KinesisToDeltaLakeProps, errorFilter: string, source: string): s3.IBucket {
    if (props.existingLakeBucket) {
      Annotations.of(this).addInfoV2(
        'stream-foundry:noRejectedRecordsAlarm',
        `The rejected-records alarm needs an S3 request-metrics filter "${errorFilter}" on prefix ${source}/errors/error_date= of your lake bucket; it is not created for an existing bucket.`,
      );
      return props.existingLakeBucket;
    }
    return new SecureBucket(this, 'Lake', {
      allowDestroy: props.allowDestroy,
      ...props.lakeBucketProps,
      bucketProps: { metrics: [{ id: errorFilter, prefix: errorFilesPrefix(source) }], ...props.lakeBucketProps?.bucketProps },
    }).bucket;
  }
}

/** The default stream: on-demand, 24 h retention, encrypted with the AWS-managed key; retained with the stack. */
function buildStream(scope: Construct, overrides: kinesis.StreamProps | undefined, removalPolicy: RemovalPolicy): kinesis.Stream {
  return new kinesis.Stream(scope, 'Stream', {
    streamMode: kinesis.StreamMode.ON_DEMAND,
    retentionPeriod: Duration.hours(24),
    encryption: kinesis.StreamEncryption.MANAGED,
    removalPolicy,
    ...overrides,
  });
}

function checkOptions(scope: Construct, props: KinesisToDeltaLakeProps): void {
  const path = scope.node.path;
  const trigger = props.job?.triggerInterval?.toSeconds();
  if (trigger !== undefined && trigger < 1) throw new Error(`${path}: "job.triggerInterval" must be at least 1 second (got ${trigger})`);
}

/** Glue job names: up to 255 characters. */
const glueName = (name: string) => name.slice(0, 255);
