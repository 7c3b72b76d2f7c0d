/**
 * Parquet files shaped as DMS writes the heartbeat table's changes with the target endpoint's settings: `Op`, the
 * commit-timestamp column (a string), the table's columns (`published_at` as a millisecond TIMESTAMP:
 * ParquetTimestampInMillisecond), the change-sequence column; GZIP pages. Written by DuckDB.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_CHANGE_SEQUENCE_COLUMN } from '../../../../pipelines/rds-cdc-to-s3/construct/table-mappings';
import { DEFAULT_TIMESTAMP_COLUMN } from '../../../../pipelines/rds-cdc-to-s3/construct/target-endpoint';

/** One heartbeat change as DMS records it: operation, commit time (the string column), the row. */
export interface HeartbeatChange {
  op: 'I' | 'U' | 'D';
  id: string;
  publishedMs: number;
  commit: string;
}

export class HeartbeatParquetWriter {
  private constructor(
    private readonly dir: string,
    private readonly duck: DuckDBConnection,
  ) {}

  private count = 0;

  static async create(): Promise<HeartbeatParquetWriter> {
    const instance = await DuckDBInstance.create(':memory:');
    return new HeartbeatParquetWriter(mkdtempSync(path.join(tmpdir(), 'sf-heartbeat-')), await instance.connect());
  }

  /** The bytes of one change-log file holding `changes`, in row groups of `rowGroupSize` rows. */
  async file(changes: HeartbeatChange[], rowGroupSize = 100_000): Promise<Buffer> {
    this.count += 1;
    const file = path.join(this.dir, `${this.count}.parquet`);
    const rows = changes.map(
      (c, i) =>
        `SELECT '${c.op}' AS "Op", '${c.commit}' AS "${DEFAULT_TIMESTAMP_COLUMN}", '${c.id}' AS canary_id, ` +
        `make_timestamp_ms(${c.publishedMs}) AS published_at, '${String(i).padStart(35, '0')}' AS "${DEFAULT_CHANGE_SEQUENCE_COLUMN}"`,
    );
    await this.duck.run(`COPY (${rows.join(' UNION ALL ')}) TO '${file}' (FORMAT parquet, COMPRESSION gzip, ROW_GROUP_SIZE ${rowGroupSize})`);
    return readFileSync(file);
  }

  close(): void {
    this.duck.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
