import { gunzipSync } from 'node:zlib';
import { AsyncBuffer, parquetReadObjects } from 'hyparquet';

/**
 * Reads DMS's Parquet change-log files with hyparquet (pure JavaScript). hyparquet decodes Snappy itself; DMS's files
 * here are GZIP (the target endpoint's `compressionType`), which Node's zlib decodes: no compressor package needed.
 */
const COMPRESSORS = { GZIP: (input: Uint8Array) => gunzipSync(input) };

/** The named columns of every row of a Parquet file. */
export async function readColumns(file: AsyncBuffer, columns: string[]): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file, columns, compressors: COMPRESSORS });
}
