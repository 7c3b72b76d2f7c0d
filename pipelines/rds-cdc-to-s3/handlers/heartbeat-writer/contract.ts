/**
 * The contract between the RdsCdcToS3 construct (construct/freshness.ts) and its freshness canary's two functions: the
 * heartbeat table both sides name, the receipts' source, and the environment variables the construct sets and the
 * handlers read. (No CDK imports: bundled into the Lambdas.)
 *
 *   heartbeat-writer (schedule) -> INSERT into stream_foundry.heartbeat -> DMS CDC
 *     -> s3://<raw>/<bucketFolder>/stream_foundry/heartbeat/<date>/<time>.parquet
 *     -> heartbeat-receipts (S3 notification) -> s3://<raw>/_freshness/heartbeat/<canary id>/<committed ms>.json
 */

/** The heartbeat table: its own schema, so no business selection (`shop.%`) or lake table ever includes it. */
export const HEARTBEAT_TABLE = { schema: 'stream_foundry', table: 'heartbeat' } as const;

/** The `source` of this pipeline's receipts and of its Freshness metric's Source dimension. */
export const HEARTBEAT_SOURCE = 'heartbeat';

/** Heartbeat rows older than this are deleted (by the writer, in the same transaction as each insert). */
export const HEARTBEAT_RETENTION_HOURS = 24;

/** Environment of the heartbeat writer. */
export const WRITER_ENV = {
  /** The database secret (username, password, host, port): the one the DMS source endpoint reads. */
  secretArn: 'DATABASE_SECRET_ARN',
  /** The database holding the heartbeat table (the DMS endpoint's database). */
  databaseName: 'DATABASE_NAME',
} as const;

/** Environment of the receipt writer. */
export const RECEIPTS_ENV = {
  /** `<bucketFolder>/stream_foundry/heartbeat/`: the folder DMS writes the heartbeat table's files to. */
  changeFolder: 'HEARTBEAT_CHANGE_FOLDER',
  /** The raw bucket's KMS key: receipts are written SSE-KMS with it, as DMS writes the change log. */
  kmsKeyArn: 'RECEIPTS_KMS_KEY_ARN',
} as const;
