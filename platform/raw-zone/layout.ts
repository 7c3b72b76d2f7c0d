import { alphanumeric, catalogName } from '../names';

/**
 * The raw zone's layout, the contract with whatever reads it (the replay script, Athena): every event of source
 * `<name>` as it reached the broker, under `s3://<bucket>/<name>/dt=YYYY-MM-DD/hour=HH/<file>.gz` by UTC arrival
 * hour, gzip, one record per line (its bytes unchanged, then "\n"). Failed deliveries go under `_errors/<name>/`.
 */
export const RAW_ZONE_LAYOUT = {
  /** The prefix of a source's events: `<name>/`. */
  prefix: (name: string) => `${name}/`,
  /** The prefix of one UTC hour: `<name>/dt=YYYY-MM-DD/hour=HH/`. */
  hourPrefix: (name: string, hour: Date) => `${name}/dt=${hour.toISOString().slice(0, 10)}/hour=${hour.toISOString().slice(11, 13)}/`,
  /** Firehose's prefix expression for the same (its `!{timestamp:…}` is the UTC arrival time). */
  firehosePrefix: (name: string) => `${name}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`,
  /** Where Firehose writes what it could not deliver, by error type. */
  firehoseErrorPrefix: (name: string) => `_errors/${name}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`,
  errorPrefix: (name: string) => `_errors/${name}/`,
  /** The one column of a source's raw table: the record's text. */
  column: 'line',
  /** A source's raw table: `<name>_raw` (Glue names: lower case, `_` for other characters). */
  tableName: (name: string) => catalogName(`${name}_raw`),
  /** The stack output (`<key>RawZone`, key = the name without non-alphanumerics) whose value is `s3://<bucket>/<name>/`. */
  outputKey: (name: string) => `${alphanumeric(name)}RawZone`,
} as const;
