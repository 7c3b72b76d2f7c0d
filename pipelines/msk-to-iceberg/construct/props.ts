import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DataSource } from '../../../platform/data-source';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { RawZone, RawZoneProps } from '../../../platform/raw-zone';
import { SecureBucketProps } from '../../../platform/secure-bucket';

/**
 * A data source of the pipeline: its topic, Flink application, Iceberg table and landing prefix are named after it;
 * the job derives the table from its schema (bundled in its JAR), deduplicates on its id field, keys Kafka messages
 * by its partition key and partitions the table by the day of its event-time field (@default the schema's one
 * top-level date-time property).
 */
export type MskToIcebergSource = DataSource;

/** The Kafka cluster: MSK Serverless (no brokers to size), or provisioned brokers of the given size. */
export type MskToIcebergClusterOptions =
  | {
      /** MSK Serverless: capacity follows the load; IAM authentication only. */
      readonly type: 'serverless';
    }
  | {
      /** Provisioned brokers, spread over the VPC's availability zones. */
      readonly type: 'provisioned';
      /** A multiple of the VPC's availability zones. @default MSK_TO_ICEBERG_DEFAULTS.cluster.brokerNodes */
      readonly brokerNodes?: number;
      /** @default MSK_TO_ICEBERG_DEFAULTS.cluster.instanceType */
      readonly instanceType?: string;
      /** @default MSK_TO_ICEBERG_DEFAULTS.cluster.volumeSizeGiB */
      readonly volumeSizeGiB?: number;
      /** @default MSK_TO_ICEBERG_DEFAULTS.cluster.kafkaVersion */
      readonly kafkaVersion?: string;
    };

/** Each source's topic on the cluster. */
export interface MskToIcebergTopicOptions {
  /** @default MSK_TO_ICEBERG_DEFAULTS.topic.partitions */
  readonly partitions?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.topic.retentionHours */
  readonly retentionHours?: number;
}

/** Each source's Managed Service for Apache Flink application: parallelism, scaling, checkpoints, deduplication. */
export interface MskToIcebergApplicationOptions {
  /** @default MSK_TO_ICEBERG_DEFAULTS.application.parallelism */
  readonly parallelism?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.application.parallelismPerKpu */
  readonly parallelismPerKpu?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.application.autoScaling */
  readonly autoScaling?: boolean;
  /** Iceberg commits once per checkpoint. @default MSK_TO_ICEBERG_DEFAULTS.application.checkpointIntervalMs */
  readonly checkpointIntervalMs?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.application.minPauseBetweenCheckpointsMs */
  readonly minPauseBetweenCheckpointsMs?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.application.dedupTtlHours */
  readonly dedupTtlHours?: number;
  /**
   * Skip snapshot state the new job cannot map (once, to change or remove an aggregate section: the runbook).
   * @default MSK_TO_ICEBERG_DEFAULTS.application.allowNonRestoredState
   */
  readonly allowNonRestoredState?: boolean;
}

/** Upkeep of each source's Iceberg table by Glue's table optimizers: compaction, snapshot expiry, orphan files. */
export interface MskToIcebergUpkeepOptions {
  /** Glue's compaction optimizer. @default MSK_TO_ICEBERG_DEFAULTS.upkeep.compaction */
  readonly compaction?: boolean;
  /** @default MSK_TO_ICEBERG_DEFAULTS.upkeep.snapshotRetentionDays */
  readonly snapshotRetentionDays?: number;
  /**
   * Expiry keeps at least this many snapshots, whatever their age. More than the commits other writers (Glue
   * compaction, Athena DML) may make while the application is stopped: the Flink sink finds what it committed last in
   * the newest snapshot of its own among these, and cannot restore without it (README, "Table upkeep defaults").
   * @default MSK_TO_ICEBERG_DEFAULTS.upkeep.snapshotsToRetain
   */
  readonly snapshotsToRetain?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.upkeep.orphanFileRetentionDays */
  readonly orphanFileRetentionDays?: number;
}

/** Thresholds of the pipeline's alarms: consumer lag, checkpoints, downtime, no data. */
export interface MskToIcebergAlarmOptions {
  /** @default MSK_TO_ICEBERG_DEFAULTS.alarms.maxOffsetLag */
  readonly maxOffsetLag?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.alarms.maxTimeLagSeconds */
  readonly maxTimeLagSeconds?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.alarms.maxCheckpointDurationMs */
  readonly maxCheckpointDurationMs?: number;
  /** @default MSK_TO_ICEBERG_DEFAULTS.alarms.maxDowntimeSeconds */
  readonly maxDowntimeSeconds?: number;
  /** @default 60 */
  readonly noDataMinutes?: number;
}

/**
 * Props of `MskToIceberg`: the sources, the network, the Kafka cluster and topics, the Flink applications, table upkeep
 * and alarms.
 */
export interface MskToIcebergProps {
  /** The data sources: one topic, one Flink application and one Iceberg table each. */
  readonly sources: MskToIcebergSource[];
  /**
   * Sources whose processed events customers read: each gets the topic `delivery.<source>`, which its job writes
   * (platform/customer-delivery grants the customers). @default none
   */
  readonly deliverySources?: string[];
  /** Run in this VPC (private subnets with egress, or endpoints for S3, Glue, STS, CloudWatch Logs and MSK) (XOR `vpcProps`). */
  readonly existingVpc?: ec2.IVpc;
  /** Overrides merged over the default VPC (2 AZs, public + private subnets, 1 NAT gateway, flow logs, S3 endpoint). */
  readonly vpcProps?: ec2.VpcProps;
  /** Interface endpoints for STS, Glue, CloudWatch Logs and the MSK API in the VPC the construct creates. @default false (the NAT gateway carries that traffic) */
  readonly interfaceEndpoints?: boolean;
  /** @default { type: 'serverless' } */
  readonly cluster?: MskToIcebergClusterOptions;
  /** Each source's topic: partitions and retention. @default `MSK_TO_ICEBERG_DEFAULTS.topic` */
  readonly topic?: MskToIcebergTopicOptions;
  /**
   * The Flink applications' parallelism, checkpoints and dedup window. @default `MSK_TO_ICEBERG_DEFAULTS.application`
   */
  readonly application?: MskToIcebergApplicationOptions;
  /**
   * The Glue table optimizers (compaction, snapshot and orphan-file retention). @default
   * `MSK_TO_ICEBERG_DEFAULTS.upkeep`
   */
  readonly upkeep?: MskToIcebergUpkeepOptions;
  /** Lag, checkpoint, downtime and no-data alarm thresholds. @default `MSK_TO_ICEBERG_DEFAULTS.alarms`, `noDataMinutes` 60 */
  readonly alarms?: MskToIcebergAlarmOptions;
  /** Glue database of the tables. @default the stack name with "_" for "-" */
  readonly databaseName?: string;
  /**
   * Archive every source's records in this raw zone (e.g. one shared with other constructs of the stack) (XOR
   * `rawZoneProps`). @default a RawZone of the construct's own
   */
  readonly existingRawZone?: RawZone;
  /** Settings of the construct's own raw zone (lifecycle: archiveAfter, archiveStorageClass, expireAfter). */
  readonly rawZoneProps?: Omit<RawZoneProps, 'runbook' | 'monitoring' | 'allowDestroy' | 'logRetention' | 'database'>;
  /** Overrides of the warehouse bucket (Iceberg data and metadata). */
  readonly warehouseBucketProps?: SecureBucketProps;
  /** Alarms and widgets go here. @default a PipelineMonitoring of its own */
  readonly monitoring?: PipelineMonitoring;
  /** Whether destroying the stack deletes buckets, keys and logs. @default false */
  readonly allowDestroy?: boolean;
  /** How long logs are kept. @default one month */
  readonly logRetention?: logs.RetentionDays;
}
