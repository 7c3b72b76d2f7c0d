import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { PipelineMonitoring } from '../../../platform/pipeline-monitoring';
import { SecureBucketProps } from '../../../platform/secure-bucket';
import { LakeTableSource } from './cdc-table-schema';
import { PostgresSourceOptions } from './source-endpoint';
import { TableMappingOptions } from './table-mappings';
import { S3TargetOptions } from './target-endpoint';
import { TaskSettingsOptions } from './task-settings';

/** The source database's engine: PostgreSQL (logical replication) or MySQL (row binary log). */
export type SourceEngine = 'postgres' | 'mysql';

/** The RDS instance the construct creates (all optional). */
export interface CdcDatabaseProps {
  /** @default RDS_CDC_TO_S3_DEFAULTS.database.instanceClass */
  readonly instanceType?: ec2.InstanceType;
  /** @default RDS_CDC_TO_S3_DEFAULTS.database.allocatedStorageGiB */
  readonly allocatedStorageGiB?: number;
  /** Database created on the instance (PostgreSQL). @default RDS_CDC_TO_S3_DEFAULTS.database.databaseName */
  readonly databaseName?: string;
  /** Master user (its generated password lives in Secrets Manager, rotated). @default 'cdc_admin' */
  readonly masterUsername?: string;
  /** @default RDS_CDC_TO_S3_DEFAULTS.database.deletionProtection (true for production) */
  readonly deletionProtection?: boolean;
  /** @default RDS_CDC_TO_S3_DEFAULTS.database.backupRetentionDays (MySQL needs at least 1 for binary logs) */
  readonly backupRetentionDays?: number;
  /** @default RDS_CDC_TO_S3_DEFAULTS.database.multiAz */
  readonly multiAz?: boolean;
  /**
   * Parameters merged over the CDC parameters (POSTGRES_CDC_PARAMETERS / MYSQL_CDC_PARAMETERS); PostgreSQL overrides are
   * checked so CDC keeps working.
   */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Days between password rotations. @default 30 */
  readonly rotationDays?: number;
}

/** An existing database to replicate from, instead of creating one. */
export interface ExistingCdcSource {
  /** The database's engine. */
  readonly engine: SourceEngine;
  /**
   * Secret with `username`, `password`, `host`, `port` (and `dbname` for PostgreSQL), as an RDS secret attached to its
   * instance has. The database must already capture changes (see the README: parameters, backups).
   */
  readonly secret: secretsmanager.ISecret;
  /** The database's security group: the construct lets the DMS security group in on `port`. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The port the database listens on. */
  readonly port: number;
  /** Database to read (PostgreSQL). */
  readonly databaseName: string;
}

/** The DMS replication instance. */
export interface CdcReplicationProps {
  /** @default RDS_CDC_TO_S3_DEFAULTS.replication.instanceClass */
  readonly instanceClass?: string;
  /** @default RDS_CDC_TO_S3_DEFAULTS.replication.allocatedStorageGiB */
  readonly allocatedStorageGiB?: number;
  /** @default RDS_CDC_TO_S3_DEFAULTS.replication.multiAz (true for production: a standby in another AZ) */
  readonly multiAz?: boolean;
}

/**
 * Thresholds of the pipeline's alarms: CDC latency, no data, and the replication instance's CPU, memory and storage.
 */
export interface CdcAlarmProps {
  /** CDC latency (source and target) above which the latency alarms fire. @default 300 */
  readonly cdcLatencySeconds?: number;
  /** Minutes without a change applied to S3 (once changes flowed). @default 60 */
  readonly noDataMinutes?: number;
  /** @default 80 */
  readonly maxCpuPercent?: number;
  /** @default 256 */
  readonly minFreeableMemoryMiB?: number;
  /** @default 20 % of the replication instance's storage */
  readonly minFreeStorageGiB?: number;
}

/** The freshness canary (construct/freshness.ts). */
export interface CdcFreshnessProps {
  /** Minutes between heartbeat rows. @default FRESHNESS_DEFAULTS.intervalMinutes (1) */
  readonly intervalMinutes?: number;
}

/**
 * Props of `RdsCdcToS3`: the tables to replicate, the source database (new or existing), the network, DMS, the raw
 * bucket and alarms.
 */
export interface RdsCdcToS3Props {
  /** What to replicate (typed DMS table mappings; validated at synth). */
  readonly tables: TableMappingOptions;
  /**
   * The tables as the lake sees them: one Glue table (and an example Athena query) per entry, derived from the same
   * selection the table mappings are built from. @default none
   */
  readonly lakeTables?: readonly LakeTableSource[];
  /** @default RDS_CDC_TO_S3_DEFAULTS.engine */
  readonly engine?: SourceEngine;
  /** Replicate from this database instead of creating one (XOR `databaseProps`); needs `existingVpc`. */
  readonly existingSource?: ExistingCdcSource;
  /** The database the construct creates (XOR `existingSource`). @default each option's default */
  readonly databaseProps?: CdcDatabaseProps;
  /** Put everything in this VPC (private subnets) instead of creating one. */
  readonly existingVpc?: ec2.IVpc;
  /** Subnets of `existingVpc` for the database and DMS. @default private with egress, else isolated */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Interface endpoint for Secrets Manager and gateway endpoint for S3 in the VPC (DMS in a private subnet reaches
   * both only through them or a NAT). @default true for a new VPC, false for `existingVpc`
   */
  readonly createVpcEndpoints?: boolean;
  /** The DMS replication instance. @default each option's default */
  readonly replication?: CdcReplicationProps;
  /** PostgreSQL source options (heartbeat, DDL capture...). */
  readonly source?: Omit<PostgresSourceOptions, 'secretsManagerSecretId' | 'secretsManagerAccessRoleArn'>;
  /** S3 target layout options. */
  readonly target?: Omit<S3TargetOptions, 'bucketName' | 'serviceAccessRoleArn' | 'kmsKeyArn'>;
  /** The DMS task's settings (logging, full load, LOBs, error handling), typed. @default each option's default */
  readonly taskSettings?: TaskSettingsOptions;
  /** Use this bucket (KMS-encrypted with a customer-managed key) for the change log (XOR `rawBucketProps`). */
  readonly existingRawBucket?: s3.IBucket;
  /**
   * Overrides merged over the raw bucket it creates, which must keep KMS encryption (XOR `existingRawBucket`). @default
   * a SecureBucket, noncurrent versions kept 7 days
   */
  readonly rawBucketProps?: SecureBucketProps;
  /** Alarms and widgets go here. @default a PipelineMonitoring of its own */
  readonly monitoring?: PipelineMonitoring;
  /** Alarm thresholds. @default each option's default */
  readonly alarms?: CdcAlarmProps;
  /**
   * The freshness canary: a heartbeat row every `intervalMinutes` through the database, DMS and S3, with a receipt per
   * row at `_freshness/heartbeat/<canary id>/<ms>.json` in the raw bucket (construct/freshness.ts). `false` for none.
   * @default on, every FRESHNESS_DEFAULTS.intervalMinutes, for PostgreSQL; off for MySQL (the writer speaks PostgreSQL only)
   */
  readonly freshness?: CdcFreshnessProps | false;
  /** Whether destroying the stack deletes the buckets, keys, database and logs. @default false */
  readonly allowDestroy?: boolean;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}
