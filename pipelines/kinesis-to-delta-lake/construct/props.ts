import { Duration } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DataSource } from '../../../platform/data-source';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { SecureBucketProps } from '../../../platform/secure-bucket';

/**
 * The data source the pipeline carries: one stream, one streaming job, one Delta table. Its name names the table,
 * the lake prefix and the job; the job derives the table's columns from its schema, checks every record against it
 * and drops duplicates within the watermark by its id field.
 */
export interface DeltaLakeSource extends Pick<DataSource, 'name' | 'schemaFile' | 'idField' | 'processing'> {
  /** Required here: event time, the table's `event_date` partition and the watermark. */
  readonly eventTimeField: string;
}

/** The Glue streaming job's version, capacity, micro-batching and restart policy. */
export interface StreamingJobOptions {
  /** AWS Glue version (see the README: Spark 3.5.6, Delta 3.3.2). @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.glueVersion */
  readonly glueVersion?: string;
  /** @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.workerType */
  readonly workerType?: string;
  /**
   * Workers, the driver included: the most the job scales to with `autoScaling`, else the fixed size.
   * @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.workers
   */
  readonly workers?: number;
  /**
   * Glue auto scaling (`--enable-auto-scaling`): Glue adds workers while micro-batches have more parallel work than
   * the running executors take, up to `workers`, and removes idle ones. Sizing: the pipeline's README.
   * @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.autoScaling
   */
  readonly autoScaling?: boolean;
  /** Micro-batch trigger interval. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.triggerInterval */
  readonly triggerInterval?: Duration;
  /** How late (event time) a duplicate may arrive and still be dropped. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.watermarkDelay */
  readonly watermarkDelay?: Duration;
  /** Where a fresh checkpoint starts reading. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.startingPosition */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Ended runs within an hour after which the restarter gives up and alarms. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.maxRestartsPerHour */
  readonly maxRestartsPerHour?: number;
  /** How long a new run must stay RUNNING before a deployment goes on (a failing script rolls back). @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.startupCheck */
  readonly startupCheck?: Duration;
  /** Glue's weekly maintenance window for streaming jobs (`Day:HH`, UTC), when Glue restarts the run. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.job.maintenanceWindow */
  readonly maintenanceWindow?: string;
}

/** Table upkeep, run by the streaming job between micro-batches (one writer per Delta table; see upkeep.ts). */
export interface TableUpkeepOptions {
  /** How often the job runs OPTIMIZE and VACUUM between micro-batches. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.upkeep.interval */
  readonly interval?: Duration;
  /** OPTIMIZE the partitions of the last N days (0: all). @default KINESIS_TO_DELTA_LAKE_DEFAULTS.upkeep.optimizeDays */
  readonly optimizeDays?: number;
  /** VACUUM removes unreferenced files older than this. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.upkeep.vacuumRetention */
  readonly vacuumRetention?: Duration;
  /** `delta.logRetentionDuration` and `delta.deletedFileRetentionDuration`. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.upkeep.logRetention */
  readonly logRetention?: Duration;
}

/** The delivery stream customers read (platform/customer-delivery): the job puts every event it commits there too. */
export interface DeliveryOptions {
  /** The stream customers read, which the job writes every committed event to. */
  readonly stream: kinesis.IStream;
  /** The event field whose value is each record's partition key (per-key order). @default the event id */
  readonly partitionKeyField?: string;
}

/** Thresholds of the pipeline's lag and no-data alarms. */
export interface KinesisToDeltaLakeAlarmOptions {
  /** Iterator age (oldest unread record) above which the lag alarm fires. @default KINESIS_TO_DELTA_LAKE_DEFAULTS.alarms.maxIteratorAge */
  readonly maxIteratorAge?: Duration;
  /** Minutes without a record consumed (once records flowed) before the no-data alarm fires. @default 60 */
  readonly noDataMinutes?: number;
}

/**
 * Props of `KinesisToDeltaLake`: the source, its stream and lake bucket (new or existing), the job, upkeep and alarms.
 */
export interface KinesisToDeltaLakeProps {
  /** The data source this pipeline carries. */
  readonly source: DeltaLakeSource;
  /** Read from this stream instead of creating one (XOR `streamProps`). */
  readonly existingStream?: kinesis.IStream;
  /** Overrides merged over the default stream (on-demand, 24 h retention, KMS-encrypted). */
  readonly streamProps?: kinesis.StreamProps;
  /** Keep the Delta tables and checkpoint in this bucket instead of creating one (XOR `lakeBucketProps`). */
  readonly existingLakeBucket?: s3.IBucket;
  /**
   * Overrides merged over the lake bucket it creates (XOR `existingLakeBucket`). @default a SecureBucket with its
   * defaults
   */
  readonly lakeBucketProps?: SecureBucketProps;
  /** The streaming job's settings. @default each option's default */
  readonly job?: StreamingJobOptions;
  /** How the job maintains the Delta tables (OPTIMIZE, VACUUM, log retention). @default each option's default */
  readonly upkeep?: TableUpkeepOptions;
  /** Alarm thresholds. @default each option's default */
  readonly alarms?: KinesisToDeltaLakeAlarmOptions;
  /** Deliver the processed events to this stream as well (customers read it). @default no delivery */
  readonly delivery?: DeliveryOptions;
  /** Alarms and widgets go here. @default a PipelineMonitoring of its own, named `<stack>-<id>` */
  readonly monitoring?: PipelineMonitoring;
  /** Whether destroying the stack deletes the stream, buckets, keys and logs it created. @default false */
  readonly allowDestroy?: boolean;
  /** How long job and runner logs are kept. @default one month */
  readonly logRetention?: logs.RetentionDays;
}
