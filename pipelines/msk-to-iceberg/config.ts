import { z } from 'zod';
import { flag, integer, oneOf, text } from '../../platform/config/settings';
import { noDataMinutesSetting } from '../../platform/pipeline/alarm-settings';
import { MSK_TO_ICEBERG_DEFAULTS as D } from './construct/defaults';

/**
 * The `mskToIceberg` section: Pipeline 5, MSK (Kafka) → Managed Service for Apache Flink → Apache Iceberg on S3.
 * The stack builds one VPC, one MSK cluster, one topic + Flink application + Iceberg table per source that lists
 * `mskToIceberg`, behind a landing zone of its own (validator settings: the `validator` section).
 */

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

const networkSchema = z.strictObject({
  /** Availability zones of the VPC (MSK Serverless needs at least two). */
  maxAzs: integer(2, 3).default(2),
  /** NAT gateways for egress from the private subnets (1: cheapest; one per AZ for AZ-independent egress). */
  natGateways: integer(1, 3).default(1),
  /** Interface endpoints for STS, Glue, CloudWatch Logs and the MSK API (traffic stays off the NAT; ~$7/month each per AZ). */
  interfaceEndpoints: flag().default(false),
});

const clusterSchema = z.strictObject({
  /** `serverless`: MSK Serverless (IAM auth, no brokers to size). `provisioned`: MSK with brokers (TLS + IAM). */
  type: oneOf(['serverless', 'provisioned'] as const).default(D.cluster.type),
  /** Provisioned only: broker count (a multiple of the VPC's availability zones). */
  brokerNodes: integer(2, 30).default(D.cluster.brokerNodes),
  /** Provisioned only: broker instance type. */
  instanceType: text(/^(kafka\.)?[a-z0-9]+\.[a-z0-9]+$/, 'an MSK broker type such as "kafka.m7g.large"').default(D.cluster.instanceType),
  /** Provisioned only: EBS storage per broker, GiB. */
  volumeSizeGiB: integer(1, 16384).default(D.cluster.volumeSizeGiB),
  /** Provisioned only: Kafka version. */
  kafkaVersion: text(/^\d+\.\d+\.(\d+|x)(\.tiered)?$/, 'an MSK Kafka version such as "3.9.x"').default(D.cluster.kafkaVersion),
});

const topicSchema = z.strictObject({
  /** Partitions of each source's topic: the most parallel consumers (Flink source subtasks) that can read it. */
  partitions: integer(1, 120).default(D.topic.partitions),
  /** Hours the topic keeps records: how long the application may be down before records are lost. */
  retentionHours: integer(1, 8760).default(D.topic.retentionHours),
});

const applicationSchema = z.strictObject({
  /** Initial parallelism of each Flink application. */
  parallelism: integer(1, 256).default(D.application.parallelism),
  /** Parallel tasks per KPU (1 vCPU, 4 GB). */
  parallelismPerKpu: integer(1, 8).default(D.application.parallelismPerKpu),
  /** Managed Flink's autoscaling (parallelism grows under load, never above the topic's partitions usefully). */
  autoScaling: flag().default(D.application.autoScaling),
  /** Checkpoint interval: Iceberg commits once per checkpoint (the job's README: 5 s keeps p95 under 10 s). */
  checkpointIntervalMs: integer(1000, 600_000).default(D.application.checkpointIntervalMs),
  /** Minimum pause between checkpoints (Managed Flink's default of 5 s would stretch the period to ~10 s). */
  minPauseBetweenCheckpointsMs: integer(0, 600_000).default(D.application.minPauseBetweenCheckpointsMs),
  /** How long an event id is remembered for deduplication (the job's `dedup.ttl`), in hours. */
  dedupTtlHours: integer(1, 720).default(D.application.dedupTtlHours),
  /**
   * Let the next start or update skip snapshot state the new job has no operator for (Flink's allowNonRestoredState):
   * needed once to change or remove a source's aggregate section (its window state cannot be restored into other
   * windows or measures). Off by default: otherwise an unmapped state fails the deploy loudly instead of vanishing.
   */
  allowNonRestoredState: flag().default(D.application.allowNonRestoredState),
});

const upkeepSchema = z.strictObject({
  /** Glue's compaction optimizer (bin-packing small files into larger ones), beside the running stream. */
  compaction: flag().default(D.upkeep.compaction),
  /** Snapshots older than this many days are expired (and their unreferenced files deleted). */
  snapshotRetentionDays: integer(1, 3650).default(D.upkeep.snapshotRetentionDays),
  /**
   * Expiry always keeps at least this many snapshots: more than other writers (Glue compaction, Athena DML) commit
   * while the application is stopped, so that its restore finds its own last commit (platform/msk-to-iceberg README).
   */
  snapshotsToRetain: integer(1, 1000).default(D.upkeep.snapshotsToRetain),
  /** Files under the table location that no snapshot references, older than this many days, are deleted. */
  orphanFileRetentionDays: integer(1, 3650).default(D.upkeep.orphanFileRetentionDays),
});

const alarmsSchema = z.strictObject({
  /** Consumer lag (MSK MaxOffsetLag of the application's group): records behind the newest. */
  maxOffsetLag: integer(1, 1_000_000_000).default(D.alarms.maxOffsetLag),
  /** Consumer lag in time (MSK EstimatedMaxTimeLag), seconds. */
  maxTimeLagSeconds: integer(10, 86_400).default(D.alarms.maxTimeLagSeconds),
  /** Longest acceptable checkpoint (every Iceberg commit waits for one), milliseconds. */
  maxCheckpointDurationMs: integer(1000, 600_000).default(D.alarms.maxCheckpointDurationMs),
  /** Downtime (Managed Flink `downtime`) above which the application is alarmed, seconds. */
  maxDowntimeSeconds: integer(0, 3600).default(D.alarms.maxDowntimeSeconds),
  /** Minutes without a record read by the application (once records have flowed) before the no-data alarm. */
  noDataMinutes: noDataMinutesSetting(),
});

export const mskToIcebergSchema = z.strictObject({
  network: networkSchema.default(() => networkSchema.parse({})),
  cluster: clusterSchema.default(() => clusterSchema.parse({})),
  topic: topicSchema.default(() => topicSchema.parse({})),
  application: applicationSchema.default(() => applicationSchema.parse({})),
  upkeep: upkeepSchema.default(() => upkeepSchema.parse({})),
  alarms: alarmsSchema.default(() => alarmsSchema.parse({})),
  /**
   * Event-time field per source (a required top-level `date-time` property; the table is partitioned by its day). A
   * source not listed uses the one top-level `format: date-time` property of its schema.
   */
  eventTimeFields: z.record(z.string(), text(FIELD, 'a top-level field name')).default({}),
});

export type MskToIcebergConfig = z.output<typeof mskToIcebergSchema>;
