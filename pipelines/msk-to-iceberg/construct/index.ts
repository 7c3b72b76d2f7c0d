import { Duration, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { dateTimeFields, tableSchema } from '../../../platform/data-source';
import { LandingTarget } from '../../../platform/landing-zone/construct';
import { checkSourceName, pipelineBase, requireEither } from '../../../platform/pipeline';
import { catalogName } from '../../../platform/names';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { RawZone } from '../../../platform/raw-zone';
import { deliveryTopic } from '../../../platform/customer-delivery/catalog';
import { HandlerProvider } from '../../../platform/functions';
import { fromRoot } from '../../../platform/paths';
import { SecureBucket } from '../../../platform/secure-bucket';
import { IngestApplication, START_TIMEOUT } from './application';
import { KafkaCluster } from './cluster';
import { MSK_TO_ICEBERG_DEFAULTS as D } from './defaults';
import { JobBuild } from './job-build';
import { Lake, WAREHOUSE_PREFIX } from './lake';
import { monitorSource, RUNBOOK } from './monitoring';
import { Network } from './network';
import { MskToIcebergProps, MskToIcebergSource } from './props';
import { KafkaTopics } from './topics';

export type * from './props';
export { MSK_TO_ICEBERG_DEFAULTS } from './defaults';
export { RUNBOOK } from './monitoring';

/**
 * Snapshots that expiry always keeps: the job's last commit must survive a stop during which other writers (Glue's
 * compaction) commit, or the restore from the application's snapshot fails (README, "Table upkeep defaults").
 */
export const DEFAULT_SNAPSHOTS_TO_RETAIN = D.upkeep.snapshotsToRetain;

/** Where the job writes a source's malformed records in the error bucket. */
export const jobErrorPrefix = (source: string) => `flink/${source}/`;

/**
 * Pipeline 5: MSK topics, a Managed Flink application per source writing Iceberg on S3; the stack attaches a landing
 * zone in front (attachLandingZone, platform/pipeline-stack.ts), publishing to the topics (`landingTarget`).
 *
 * ```text
 *   publisher -> s3://landing/<source>/ -> validator Lambda (VPC, IAM) -> MSK topic <source>
 *     -> Managed Flink <stack>-<source> (flink-iceberg JAR, built by CodeBuild at deploy) -> Iceberg <database>.<source>
 *     malformed -> s3://errors/flink/<source>/ ; Athena workgroup ; Glue optimizers compact and expire
 * ```
 */
export class MskToIceberg extends Construct {
  /** The VPC the cluster and the Flink applications run in: `existingVpc`, or the one it creates. */
  readonly vpc: ec2.IVpc;
  /** The VPC, security groups and endpoints the cluster and applications use. */
  readonly network: Network;
  /** The MSK cluster (Serverless, or provisioned brokers), TLS and IAM authentication. */
  readonly cluster: KafkaCluster;
  /** Each source's topic, and the delivery topic of each source customers read. */
  readonly topics: KafkaTopics;
  /** Builds the Flink job's JAR (CodeBuild) into the artifact bucket at deploy time. */
  readonly jobBuild: JobBuild;
  /** Each source's Managed Flink application, by source name. */
  readonly applications: Record<string, IngestApplication> = {};
  /** The Iceberg warehouse: the tables' data and metadata. */
  readonly warehouseBucket: s3.IBucket;
  /** Where the applications write the records they reject, with the reason. */
  readonly errorBucket: s3.IBucket;
  /** Holds the built job JARs (expired after 90 days). */
  readonly artifactBucket: s3.IBucket;
  /** The Glue database of the Iceberg tables (`databaseName`). */
  readonly database: glue.CfnDatabase;
  /** The Athena workgroup for querying the tables. */
  readonly workgroup: athena.CfnWorkGroup;
  /** The warehouse bucket, Glue database and Athena workgroup. */
  readonly lake: Lake;
  /** Every record of every topic as it reached the broker, written by the source's job (`rawZone.sources[source]`). */
  readonly rawZone: RawZone;
  /** The alarms and dashboard of the pipeline (`props.monitoring`, or its own). */
  readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: MskToIcebergProps) {
    super(scope, id);
    if (props.sources.length === 0) throw new Error(`${this.node.path}: "sources" must name at least one data source`);
    for (const source of props.sources) checkSourceName(this, source.name, 'sources[].name');
    requireEither(this, props, ['existingRawZone', 'rawZoneProps']);
    const stack = Stack.of(this);
    const { allowDestroy, removalPolicy, logRetention, monitoring } = pipelineBase(this, props, RUNBOOK);
    this.monitoring = monitoring;
    const databaseName = props.databaseName ?? catalogName(stack.stackName);
    const sources = props.sources.map((s) => ({ ...s, eventTimeField: s.eventTimeField ?? eventTimeFieldOf(this, s) }));
    const delivered = (props.deliverySources ?? []).filter((name) => sources.some((s) => s.name === name));

    this.network = new Network(this, 'Network', { ...props, logRetention, removalPolicy });
    this.vpc = this.network.vpc;
    this.cluster = new KafkaCluster(this, 'Cluster', {
      clusterName: stack.stackName.slice(0, 64),
      network: this.network,
      options: props.cluster ?? { type: D.cluster.type },
      logRetention,
      removalPolicy,
    });
    this.topics = new KafkaTopics(this, 'Topics', {
      cluster: this.cluster,
      network: this.network,
      // Each source's topic, and the delivery topic of each source customers read (same partitions and retention).
      topics: [...sources.map((s) => s.name), ...delivered.map(deliveryTopic)].map((name) => ({
        name,
        partitions: props.topic?.partitions ?? D.topic.partitions,
        retentionHours: props.topic?.retentionHours ?? D.topic.retentionHours,
      })),
      logRetention,
      removalPolicy,
    });

    this.lake = new Lake(this, 'Lake', { databaseName, warehouseBucketProps: props.warehouseBucketProps, allowDestroy });
    this.warehouseBucket = this.lake.warehouseBucket;
    this.database = this.lake.database;
    this.workgroup = this.lake.workgroup;
    const errors = new SecureBucket(this, 'ErrorBucket', { allowDestroy }).bucket;
    this.errorBucket = errors;
    this.artifactBucket = new SecureBucket(this, 'ArtifactBucket', {
      allowDestroy,
      lifecycleRules: [{ id: 'expire-old-builds', prefix: 'flink-iceberg/', expiration: Duration.days(90) }],
    }).bucket;
    this.jobBuild = new JobBuild(this, 'JobBuild', { artifactBucket: this.artifactBucket, logRetention, removalPolicy, sources });
    // The job archives its topic itself (README, "Why the job and not Firehose"): no delivery stream, no alarms of its own.
    this.rawZone = props.existingRawZone ?? new RawZone(this, 'RawZone', { ...props.rawZoneProps, runbook: RUNBOOK, monitoring: this.monitoring, allowDestroy, logRetention });

    const starter = new HandlerProvider(this, 'Starter', {
      entry: fromRoot('pipelines', 'msk-to-iceberg', 'handlers', 'flink-app-starter', 'index.ts'),
      purpose: 'Starts the Managed Flink applications after every deployment',
      isComplete: { queryInterval: Duration.seconds(30), totalTimeout: START_TIMEOUT },
      logRetention,
      removalPolicy,
    });
    const app = props.application ?? {};
    const alarms = props.alarms ?? {};
    for (const source of sources) {
      const table = source.name.replace(/-/g, '_');
      const application = new IngestApplication(this, `${source.name}App`, {
        source,
        topic: source.name,
        bootstrapBrokers: this.topics.bootstrapBrokers,
        cluster: this.cluster,
        network: this.network,
        job: this.jobBuild,
        warehouseBucket: this.warehouseBucket,
        errorBucket: errors,
        database: databaseName,
        table,
        warehousePrefix: WAREHOUSE_PREFIX,
        errorPrefix: jobErrorPrefix(source.name),
        // Its `<source>_raw` table beside the source's Iceberg table.
        delivery: delivered.includes(source.name) ? { topic: deliveryTopic(source.name), keyField: deliveryKeyField(source) } : undefined,
        raw: this.rawZone.addArchivedSource(source.name, { database: { databaseName, resource: this.database } }),
        starter,
        parallelism: app.parallelism ?? D.application.parallelism,
        parallelismPerKpu: app.parallelismPerKpu ?? D.application.parallelismPerKpu,
        autoScaling: app.autoScaling ?? D.application.autoScaling,
        checkpointIntervalMs: app.checkpointIntervalMs ?? D.application.checkpointIntervalMs,
        minPauseBetweenCheckpointsMs: app.minPauseBetweenCheckpointsMs ?? D.application.minPauseBetweenCheckpointsMs,
        dedupTtlHours: app.dedupTtlHours ?? D.application.dedupTtlHours,
        allowNonRestoredState: app.allowNonRestoredState ?? D.application.allowNonRestoredState,
        logRetention,
        removalPolicy,
      });
      application.application.node.addDependency(this.database);
      this.applications[source.name] = application;
      const upkeep = props.upkeep ?? {};
      this.lake.addTableUpkeep(
        table,
        {
          compaction: upkeep.compaction ?? D.upkeep.compaction,
          snapshotRetentionDays: upkeep.snapshotRetentionDays ?? D.upkeep.snapshotRetentionDays,
          snapshotsToRetain: upkeep.snapshotsToRetain ?? D.upkeep.snapshotsToRetain,
          orphanFileRetentionDays: upkeep.orphanFileRetentionDays ?? D.upkeep.orphanFileRetentionDays,
        },
        application.starter,
      );
      this.lake.addExampleQuery(table, source.eventTimeField);
      const filterId = `flink-errors-${source.name}`;
      (errors as s3.Bucket).addMetric({ id: filterId, prefix: jobErrorPrefix(source.name) });
      monitorSource(this.monitoring, {
        source: source.name,
        applicationName: application.applicationName,
        clusterName: this.cluster.clusterName,
        topic: source.name,
        consumerGroup: application.consumerGroup,
        errorBucketName: errors.bucketName,
        errorMetricsFilterId: filterId,
        maxOffsetLag: alarms.maxOffsetLag ?? D.alarms.maxOffsetLag,
        maxTimeLagSeconds: alarms.maxTimeLagSeconds ?? D.alarms.maxTimeLagSeconds,
        maxCheckpointDurationMs: alarms.maxCheckpointDurationMs ?? D.alarms.maxCheckpointDurationMs,
        maxDowntimeSeconds: alarms.maxDowntimeSeconds ?? D.alarms.maxDowntimeSeconds,
        noDataMinutes: alarms.noDataMinutes,
      });
    }

  }

  /** Where a landing zone in front publishes a source's events: the source's topic, with IAM auth, from the VPC. */
  landingTarget(source: string): LandingTarget {
    return LandingTarget.kafka({
      bootstrapBrokers: this.topics.bootstrapBrokers,
      topic: source,
      clusterArn: this.cluster.clusterArn,
      vpc: this.vpc,
      vpcSubnets: this.network.subnets,
      securityGroups: [this.network.clientSecurityGroup],
    });
  }

  /** Every alarm of the pipeline (and of a landing zone sharing its monitoring). */
  get alarms() {
    return this.monitoring.alarms;
  }
}

/**
 * The delivery topic's record key: the source's partition-key field when the table has it as a scalar column (the job
 * refuses to start otherwise), else the event id: processing rules may drop or rename that field.
 */
function deliveryKeyField(source: MskToIcebergSource): string {
  const type = [tableSchema(source).properties?.[source.partitionKeyField]?.type].flat();
  return type.some((t) => ['string', 'integer', 'number', 'boolean'].includes(t as string)) ? source.partitionKeyField : source.idField;
}

/** The one top-level `format: date-time` property of the source's schema (required by the job). */
function eventTimeFieldOf(scope: Construct, source: MskToIcebergSource): string {
  const fields = dateTimeFields(source.schemaFile);
  if (fields.length !== 1) {
    throw new Error(`${scope.node.path}: source "${source.name}" needs "eventTimeField": its schema has ${fields.length} top-level date-time properties (${fields.join(', ') || 'none'})`);
  }
  return fields[0];
}
