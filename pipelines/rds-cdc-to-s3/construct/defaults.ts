/**
 * The RdsCdcToS3 construct's defaults, stated once: the `rdsCdcToS3` section of cdk.json (config.ts) defaults to them,
 * the props' JSDoc names them, and the construct applies them to unset props.
 */
export const RDS_CDC_TO_S3_DEFAULTS = {
  engine: 'postgres',
  /** The RDS instance the construct creates. */
  database: {
    /** Without the "db." prefix (`new ec2.InstanceType(...)`). */
    instanceClass: 't4g.micro',
    allocatedStorageGiB: 20,
    databaseName: 'appdb',
    deletionProtection: false,
    /** MySQL's binary logs need at least 1. */
    backupRetentionDays: 7,
    multiAz: false,
  },
  /** The DMS replication instance. */
  replication: { instanceClass: 'dms.t3.small', allocatedStorageGiB: 50, multiAz: false },
} as const;
