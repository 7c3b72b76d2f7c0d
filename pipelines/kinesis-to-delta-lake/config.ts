import { z } from 'zod';
import { flag, integer, oneOf, text } from '../../platform/config/settings';
import { noDataMinutesSetting } from '../../platform/pipeline/alarm-settings';
import { KINESIS_TO_DELTA_LAKE_DEFAULTS as D } from './construct/defaults';

/**
 * The `kinesisToDeltaLake` section: Pipeline 2, Kinesis → Spark Structured Streaming (AWS Glue) → Delta Lake on S3.
 * The stack builds one stream, one streaming job and one Delta table per source that lists `kinesisToDeltaLake`,
 * behind a landing zone of its own (validator settings: the `validator` section).
 */

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

const streamSchema = z.strictObject({
  /** 0 = on-demand capacity (scales by itself); otherwise the number of provisioned shards. */
  shards: integer(0, 500).default(0),
  /** Hours the stream keeps records (24 h to 365 days): how long the job may be down before records are lost. */
  retentionHours: integer(24, 8760).default(24),
});

const jobSchema = z.strictObject({
  /** Micro-batch trigger interval in seconds (the platform's end-to-end target is under 10 s). */
  triggerIntervalSeconds: integer(1, 3600).default(D.job.triggerInterval.toSeconds()),
  /** Glue worker type of the streaming job (G.025X is for low-volume streaming jobs). */
  workerType: oneOf(['G.025X', 'G.1X', 'G.2X', 'G.4X', 'G.8X'] as const).default(D.job.workerType),
  /** Glue workers (the driver included): the maximum with autoScaling, else the fixed size. Sizing: the pipeline's README. */
  workers: integer(2, 299).default(D.job.workers),
  /** Glue auto scaling: workers added under load up to `workers`, idle ones removed. */
  autoScaling: flag().default(D.job.autoScaling),
  /** How late (event time) a duplicate may arrive and still be dropped: the job's `--watermark-delay`, in minutes. */
  watermarkDelayMinutes: integer(0, 1440).default(D.job.watermarkDelay.toMinutes()),
  /** Failed runs within an hour after which the restarter stops restarting (and alarms). */
  maxRestartsPerHour: integer(1, 60).default(D.job.maxRestartsPerHour),
});

const maintenanceSchema = z.strictObject({
  /**
   * Minutes between two runs of OPTIMIZE and VACUUM, which the streaming job runs between micro-batches: one writer
   * per Delta table (a second, scheduled job would be a second Spark driver committing to the same tables).
   */
  intervalMinutes: integer(1, 10_080).default(D.upkeep.interval.toMinutes()),
  /** OPTIMIZE only the partitions of the last N days (0: the whole table). */
  optimizeDays: integer(0, 3650).default(D.upkeep.optimizeDays),
  /** VACUUM deletes unreferenced files older than this (Delta refuses less than the deleted-file retention). */
  vacuumRetentionHours: integer(168, 87_600).default(D.upkeep.vacuumRetention.toHours()),
  /** `delta.logRetentionDuration` and `delta.deletedFileRetentionDuration`, in days. */
  logRetentionDays: integer(7, 3650).default(D.upkeep.logRetention.toDays()),
});

const alarmsSchema = z.strictObject({
  /** Age of the oldest unread record (GetRecords.IteratorAgeMilliseconds) above which the lag alarm fires. */
  iteratorAgeSeconds: integer(10, 86_400).default(D.alarms.maxIteratorAge.toSeconds()),
  /** Minutes without a record consumed by the job (once records have flowed) before the no-data alarm fires. */
  noDataMinutes: noDataMinutesSetting(),
});

export const kinesisToDeltaLakeSchema = z.strictObject({
  stream: streamSchema.default(() => streamSchema.parse({})),
  job: jobSchema.default(() => jobSchema.parse({})),
  maintenance: maintenanceSchema.default(() => maintenanceSchema.parse({})),
  alarms: alarmsSchema.default(() => alarmsSchema.parse({})),
  /**
   * Event-time field per source (a top-level `date-time` property). A source not listed uses the one top-level
   * `format: date-time` property of its schema.
   */
  eventTimeFields: z.record(z.string(), text(FIELD, 'a top-level field name')).default({}),
});

export type KinesisToDeltaLakeConfig = z.output<typeof kinesisToDeltaLakeSchema>;
