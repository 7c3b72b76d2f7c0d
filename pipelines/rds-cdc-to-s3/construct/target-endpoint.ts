import type { CfnEndpoint } from 'aws-cdk-lib/aws-dms';
import { CdcOptionError, checkInteger, checkOneOf } from './option-error';

/**
 * The S3 target endpoint settings (`AWS::DMS::Endpoint.S3Settings`) for a change log the lake can query, and the object
 * layout DMS writes with them (which `cdc-table-schema.ts` and the lake tests rely on).
 *
 * Confirmed in the DMS User Guide ("Using Amazon S3 as a target", "Endpoint settings when using Amazon S3 as a
 * target", "Indicating source DB operations in migrated S3 data", "Using date-based folder partitioning") and the
 * API's enums:
 * - `DataFormat: parquet`; `ParquetTimestampInMillisecond: true` because Athena and Glue read only millisecond
 *   TIMESTAMPs (it does not change the timestamp column, which is a string).
 * - `IncludeOpForFullLoad: true`: without it a full load + CDC task writes *no* operation column in the CDC files
 *   either (DMS makes CDC records conform to the full load); with it full-load rows carry `I` and CDC rows `I`/`U`/`D`
 *   (`D` rows hold the row as it was before the delete).
 * - `TimestampColumnName`: adds a STRING column `yyyy-MM-dd HH:mm:ss.SSSSSS`, the commit time for CDC rows and the
 *   transfer time for full-load rows, or the task start time with `UseTaskStartTimeForFullLoadTimestamp: true` (set
 *   here: a full-load row then sorts before every change committed after the task started, whatever the clocks).
 * - `DatePartitionEnabled` with `DatePartitionSequence` (YYYYMMDD, YYYYMMDDHH, YYYYMM, MMYYYYDD, DDMMYYYY) and
 *   `DatePartitionDelimiter` (SLASH, DASH, UNDERSCORE, NONE): folders by transaction commit date. Not combinable with
 *   `PreserveTransactions`/`CdcPath` (which would also force CSV), so those stay unset.
 * - `EncryptionMode: sse-kms` with `ServerSideEncryptionKmsKeyId` (API values `sse-s3`/`sse-kms`; the guide writes
 *   SSE_KMS). A mode can be changed from sse-kms to sse-s3 later, not the other way round.
 * - `CdcMaxBatchInterval` (seconds, default 60) / `CdcMinFileSize` (KB, default 32000): a CDC file is written when either
 *   is reached.
 * - `AddColumnName` only adds a header row to .csv files; Parquet always names its columns, so it is not set.
 */

export const DATE_PARTITION_SEQUENCES = ['YYYYMMDD', 'YYYYMMDDHH', 'YYYYMM', 'MMYYYYDD', 'DDMMYYYY'] as const;
export type DatePartitionSequence = (typeof DATE_PARTITION_SEQUENCES)[number];
export const DATE_PARTITION_DELIMITERS = ['SLASH', 'DASH', 'UNDERSCORE', 'NONE'] as const;
export type DatePartitionDelimiter = (typeof DATE_PARTITION_DELIMITERS)[number];
export const PARQUET_VERSIONS = ['parquet-1-0', 'parquet-2-0'] as const;
export const COMPRESSION_TYPES = ['gzip', 'none'] as const;

/**
 * Seconds between CDC files. The platform's end-to-end target is under 10 s; DMS's default of 60 s alone would miss it.
 * At 5 s a committed change reaches S3 within about 5 s plus capture time (a second or two), while a busy table still
 * gets files of up to `CdcMinFileSize`. The cost is more, smaller files for tables with a trickle of changes (at most
 * 17,280 a day per table, none while a table is idle): compact them if that matters for scan cost.
 */
export const DEFAULT_CDC_MAX_BATCH_INTERVAL_SECONDS = 5;
/** KB: DMS's default (32 MB), so heavy change traffic still produces well-sized Parquet files. */
export const DEFAULT_CDC_MIN_FILE_SIZE_KB = 32000;
export const DEFAULT_TIMESTAMP_COLUMN = 'dms_timestamp';
export const DEFAULT_BUCKET_FOLDER = 'cdc';

/** Where DMS writes the change log: the lake bucket, the role and key it writes with, the file layout. */
export interface S3TargetOptions {
  /** The lake bucket. */
  readonly bucketName: string;
  /** Role DMS assumes to write the bucket (and use the key). */
  readonly serviceAccessRoleArn: string;
  /** The bucket's KMS key: objects are written with SSE-KMS under it. */
  readonly kmsKeyArn: string;
  /** Folder for the change log: `<bucketFolder>/<schema>/<table>/...`. @default 'cdc' */
  readonly bucketFolder?: string;
  /** Name of the commit-timestamp column. @default 'dms_timestamp' */
  readonly timestampColumnName?: string;
  /** Longest wait before DMS writes a batch of changes to S3, in seconds. @default 5 (DEFAULT_CDC_MAX_BATCH_INTERVAL_SECONDS) */
  readonly cdcMaxBatchIntervalSeconds?: number;
  /** @default 32000 */
  readonly cdcMinFileSizeKb?: number;
  /** @default 'YYYYMMDD' */
  readonly datePartitionSequence?: DatePartitionSequence;
  /** @default 'SLASH' */
  readonly datePartitionDelimiter?: DatePartitionDelimiter;
  /** Area/Location time zone for the partition folders and CDC file names. @default UTC */
  readonly datePartitionTimezone?: string;
  /** Compression of the Parquet pages. @default 'gzip' */
  readonly compression?: (typeof COMPRESSION_TYPES)[number];
  /** @default 'parquet-1-0' (DMS's default, readable by every Parquet reader) */
  readonly parquetVersion?: (typeof PARQUET_VERSIONS)[number];
}

const FOLDER = /^[A-Za-z0-9_.=-]+(\/[A-Za-z0-9_.=-]+)*$/;
const COLUMN = /^[a-z_][a-z0-9_]{0,127}$/;
const TIME_ZONE = /^[A-Za-z]+(\/[A-Za-z0-9_+-]+)+$/;

/** The resolved layout options (defaults applied), shared with the Glue schema and the lake tests. */
export interface CdcLayout {
  readonly bucketFolder: string;
  readonly timestampColumnName: string;
  readonly datePartitionSequence: DatePartitionSequence;
  readonly datePartitionDelimiter: DatePartitionDelimiter;
}

export function resolveLayout(options: Partial<S3TargetOptions> = {}): CdcLayout {
  const bucketFolder = options.bucketFolder ?? DEFAULT_BUCKET_FOLDER;
  if (typeof bucketFolder !== 'string' || !FOLDER.test(bucketFolder)) {
    throw new CdcOptionError(
      'target.bucketFolder',
      bucketFolder,
      'an S3 folder like "cdc" or "raw/cdc" (letters, digits, "_", "-", ".", "=", no leading or trailing "/")',
    );
  }
  const timestampColumnName = options.timestampColumnName ?? DEFAULT_TIMESTAMP_COLUMN;
  if (typeof timestampColumnName !== 'string' || !COLUMN.test(timestampColumnName)) {
    throw new CdcOptionError(
      'target.timestampColumnName',
      timestampColumnName,
      'a lower-case column name of letters, digits and "_" (Athena lower-cases column names)',
    );
  }
  return {
    bucketFolder,
    timestampColumnName,
    datePartitionSequence: checkOneOf(
      'target.datePartitionSequence',
      options.datePartitionSequence ?? 'YYYYMMDD',
      DATE_PARTITION_SEQUENCES,
    ),
    datePartitionDelimiter: checkOneOf(
      'target.datePartitionDelimiter',
      options.datePartitionDelimiter ?? 'SLASH',
      DATE_PARTITION_DELIMITERS,
    ),
  };
}

export function s3TargetSettings(options: S3TargetOptions): CfnEndpoint.S3SettingsProperty {
  for (const key of ['bucketName', 'serviceAccessRoleArn', 'kmsKeyArn'] as const) {
    if (typeof options?.[key] !== 'string' || options[key].length === 0) {
      throw new CdcOptionError(`target.${key}`, options?.[key], 'a non-empty string (a token is fine)');
    }
  }
  const layout = resolveLayout(options);
  if (options.datePartitionTimezone !== undefined && !TIME_ZONE.test(options.datePartitionTimezone)) {
    throw new CdcOptionError('target.datePartitionTimezone', options.datePartitionTimezone, 'an Area/Location time zone');
  }
  return {
    bucketName: options.bucketName,
    bucketFolder: layout.bucketFolder,
    serviceAccessRoleArn: options.serviceAccessRoleArn,
    dataFormat: 'parquet',
    parquetVersion:
      options.parquetVersion === undefined
        ? 'parquet-1-0'
        : checkOneOf('target.parquetVersion', options.parquetVersion, PARQUET_VERSIONS),
    parquetTimestampInMillisecond: true,
    compressionType:
      options.compression === undefined ? 'gzip' : checkOneOf('target.compression', options.compression, COMPRESSION_TYPES),
    enableStatistics: true,
    includeOpForFullLoad: true,
    cdcInsertsOnly: false,
    cdcInsertsAndUpdates: false,
    timestampColumnName: layout.timestampColumnName,
    useTaskStartTimeForFullLoadTimestamp: true,
    datePartitionEnabled: true,
    datePartitionSequence: layout.datePartitionSequence,
    datePartitionDelimiter: layout.datePartitionDelimiter,
    ...(options.datePartitionTimezone !== undefined && { datePartitionTimezone: options.datePartitionTimezone }),
    encryptionMode: 'sse-kms',
    serverSideEncryptionKmsKeyId: options.kmsKeyArn,
    cdcMaxBatchInterval:
      options.cdcMaxBatchIntervalSeconds === undefined
        ? DEFAULT_CDC_MAX_BATCH_INTERVAL_SECONDS
        : checkInteger('target.cdcMaxBatchIntervalSeconds', options.cdcMaxBatchIntervalSeconds, 1, 3600),
    cdcMinFileSize:
      options.cdcMinFileSizeKb === undefined
        ? DEFAULT_CDC_MIN_FILE_SIZE_KB
        : checkInteger('target.cdcMinFileSizeKb', options.cdcMinFileSizeKb, 1, 1_048_576),
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * The date-partition folder DMS writes a change committed at `commitTime` (UTC) into, e.g. `2026/11/22` for
 * YYYYMMDD + SLASH, `2026-11-22-13` for YYYYMMDDHH + DASH.
 */
export function datePartitionFolder(layout: CdcLayout, commitTime: Date): string {
  const y = String(commitTime.getUTCFullYear());
  const m = pad(commitTime.getUTCMonth() + 1);
  const d = pad(commitTime.getUTCDate());
  const h = pad(commitTime.getUTCHours());
  const parts: Record<DatePartitionSequence, string[]> = {
    YYYYMMDD: [y, m, d],
    YYYYMMDDHH: [y, m, d, h],
    YYYYMM: [y, m],
    MMYYYYDD: [m, y, d],
    DDMMYYYY: [d, m, y],
  };
  const separator = { SLASH: '/', DASH: '-', UNDERSCORE: '_', NONE: '' }[layout.datePartitionDelimiter];
  return parts[layout.datePartitionSequence].join(separator);
}

/** `<bucketFolder>/<schema>/<table>`: the folder holding every file of one target table (its Glue table location). */
export function tableFolder(layout: CdcLayout, schema: string, table: string): string {
  return `${layout.bucketFolder}/${schema}/${table}`;
}

/** Key of a full-load file: `LOAD` and an 8-digit hexadecimal counter (`LOAD00000001.parquet`, ...`LOAD0000000A`). */
export function fullLoadKey(layout: CdcLayout, schema: string, table: string, counter: number): string {
  return `${tableFolder(layout, schema, table)}/LOAD${counter.toString(16).toUpperCase().padStart(8, '0')}.parquet`;
}

/**
 * Key of a CDC file: in the commit date's partition folder, named by time (`YYYYMMDD-HHMMSSsss.parquet`; the guide's
 * example `20141029-1134010000.csv` shows the same date-time scheme).
 */
export function cdcFileKey(layout: CdcLayout, schema: string, table: string, writtenAt: Date): string {
  const t = writtenAt;
  const name =
    `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}-` +
    `${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}${pad(t.getUTCMilliseconds(), 3)}`;
  return `${tableFolder(layout, schema, table)}/${datePartitionFolder(layout, t)}/${name}.parquet`;
}
