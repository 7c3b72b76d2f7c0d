/**
 * The MskToIceberg construct's defaults, stated once: the construct applies them to unset props, the `mskToIceberg`
 * section of cdk.json (config.ts) defaults to them, and the props' JSDoc names them.
 */
export const MSK_TO_ICEBERG_DEFAULTS = {
  /** A provisioned cluster's settings (the cluster is serverless unless `cluster.type` says otherwise). */
  cluster: { type: 'serverless', brokerNodes: 2, instanceType: 'kafka.m7g.large', volumeSizeGiB: 100, kafkaVersion: '3.9.x' },
  topic: { partitions: 6, retentionHours: 168 },
  application: {
    parallelism: 2,
    parallelismPerKpu: 1,
    autoScaling: true,
    checkpointIntervalMs: 5000,
    minPauseBetweenCheckpointsMs: 1000,
    dedupTtlHours: 24,
    allowNonRestoredState: false,
  },
  upkeep: {
    compaction: true,
    snapshotRetentionDays: 1,
    /**
     * More than other writers (Glue compaction, Athena DML) commit while the application is stopped, so that its
     * restore finds its own last commit (README).
     */
    snapshotsToRetain: 100,
    orphanFileRetentionDays: 3,
  },
  alarms: { maxOffsetLag: 100_000, maxTimeLagSeconds: 120, maxCheckpointDurationMs: 10_000, maxDowntimeSeconds: 60 },
} as const;
