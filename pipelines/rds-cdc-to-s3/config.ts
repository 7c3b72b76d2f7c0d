import { z } from 'zod';
import { flag, integer, list, oneOf, text } from '../../platform/config/settings';
import { noDataMinutesSetting } from '../../platform/pipeline/alarm-settings';
import { RDS_CDC_TO_S3_DEFAULTS as D } from './construct/defaults';

/**
 * The `rdsCdcToS3` section: Pipeline 3, RDS → DMS (change data capture) → S3, built when the section is present
 * (it takes no data source: its source is the database). Every setting has a default; the example `tables` replicate
 * `shop.orders`. Production: set `deletionProtection: true`, a larger `instanceClass` and `replicationInstanceClass`,
 * and `replicationMultiAz: true` (see pipelines/rds-cdc-to-s3/README.md).
 */

const PG_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PATTERN = /^[a-z_%][a-z0-9_%]{0,62}$/;

const columnSchema = z.strictObject({
  /** Column name as in the source table (lower-case). */
  name: text(PG_NAME, 'a lower-case column name'),
  /** Source type as `\d` shows it: `bigint`, `numeric(12,2)`, `text`, `timestamptz`... (for the Glue/Athena schema). */
  type: text(/^[a-z][a-z0-9 (),[\]]*$/, 'a column type such as "bigint", "numeric(12,2)" or "timestamp with time zone"'),
});

const tableSchema = z.strictObject({
  /** Source schema (PostgreSQL) or database (MySQL). */
  schema: text(PATTERN, 'a lower-case schema name, or a pattern with % (any characters)'),
  /** Table name, or a pattern with `%`. */
  name: text(PATTERN, 'a lower-case table name, or a pattern with % (any characters)'),
  /** Columns left out of the lake. */
  excludeColumns: list(text(PATTERN, 'a lower-case column name or pattern')).default([]),
  /**
   * The table's columns (after exclusions they give the Glue table Athena reads). Only for an exact table name;
   * without columns the table is replicated but has no Glue table (add one, or run a crawler).
   */
  columns: z.array(columnSchema, { error: 'expected a list of { name, type }' }).optional(),
  /** Primary key column(s): what identifies a row across its changes (needed with `columns`). */
  primaryKey: list(text(PG_NAME, 'a lower-case column name')).optional(),
});

export const rdsCdcToS3Schema = z.strictObject({
  /** Source database engine. */
  engine: oneOf(['postgres', 'mysql'] as const).default(D.engine),
  /** Database created on the instance (PostgreSQL; MySQL replicates the schemas named in `tables`). */
  databaseName: text(PG_NAME, 'a lower-case database name').default(D.database.databaseName),
  /** RDS instance class without the "db." prefix. */
  instanceClass: text(/^[a-z0-9]+\.[a-z0-9]+$/, 'an instance class such as "t4g.micro" or "m7g.large"').default(D.database.instanceClass),
  allocatedStorageGiB: integer(20, 65_536).default(D.database.allocatedStorageGiB),
  /** Days of automated backups (MySQL binary logs need at least 1). */
  backupRetentionDays: integer(1, 35).default(D.database.backupRetentionDays),
  /** Protects the database from deletion (also by `cdk destroy`). On for production. */
  deletionProtection: flag().default(D.database.deletionProtection),
  /** DMS replication instance class. */
  replicationInstanceClass: text(/^dms\.[a-z0-9]+\.[a-z0-9]+$/, 'a DMS instance class such as "dms.t3.small"').default(D.replication.instanceClass),
  replicationStorageGiB: integer(5, 6144).default(D.replication.allocatedStorageGiB),
  replicationMultiAz: flag().default(D.replication.multiAz),
  /** What to replicate. */
  tables: z
    .array(tableSchema, { error: 'expected a list of { schema, name, columns?, primaryKey?, excludeColumns? }' })
    .min(1, { error: 'expected at least one table' }),
  /** Tables (or patterns) left out after the selections. */
  exclude: z.array(z.strictObject({ schema: text(PATTERN, 'a schema name or pattern'), name: text(PATTERN, 'a table name or pattern') })).default([]),
  /** Minutes without a change applied to S3 (once changes have flowed) before the "no changes" alarm. */
  noDataMinutes: noDataMinutesSetting(),
  /** CDC latency (source or target) above which the latency alarms fire, in seconds. */
  cdcLatencySeconds: integer(10, 86_400).default(300),
});

export type RdsCdcToS3Config = z.output<typeof rdsCdcToS3Schema>;
