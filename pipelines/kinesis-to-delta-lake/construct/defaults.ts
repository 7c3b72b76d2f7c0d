import { Duration } from 'aws-cdk-lib';

/** The Glue version the job is built and tested for (pipelines/kinesis-to-delta-lake/job: pyspark 3.5.6, delta-spark 3.3.2). */
export const GLUE_VERSION = '5.1';

/**
 * The KinesisToDeltaLake construct's defaults, stated once: the construct applies them to unset props, the
 * `kinesisToDeltaLake` section of cdk.json (config.ts) defaults to them, and the props' JSDoc names them.
 */
export const KINESIS_TO_DELTA_LAKE_DEFAULTS = {
  job: {
    glueVersion: GLUE_VERSION,
    workerType: 'G.1X',
    workers: 5,
    autoScaling: true,
    triggerInterval: Duration.seconds(5),
    watermarkDelay: Duration.minutes(10),
    startingPosition: 'TRIM_HORIZON',
    maxRestartsPerHour: 5,
    startupCheck: Duration.minutes(2),
    maintenanceWindow: 'Sun:03',
  },
  /** Table upkeep inside the streaming job (upkeep.ts). */
  upkeep: {
    interval: Duration.hours(1),
    optimizeDays: 2,
    vacuumRetention: Duration.hours(168),
    logRetention: Duration.days(7),
  },
  alarms: { maxIteratorAge: Duration.minutes(5) },
} as const;
