import { KINESIS_TO_DELTA_LAKE_DEFAULTS } from './defaults';
import { JOB_CONTRACT } from './job-code';
import { TableUpkeepOptions } from './props';

const ARGS = JOB_CONTRACT.arguments;

/**
 * Table upkeep (OPTIMIZE of recent partitions, VACUUM, log retention) runs inside the streaming job, between
 * micro-batches, on the stream's own driver: Delta's storage documentation says concurrent writes to S3 must come
 * from a single Spark driver unless a multi-cluster log store is configured, and a second (scheduled) Glue job would
 * be a second driver committing to the same tables. A failed upkeep is logged and counted (the UpkeepFailed metric
 * alarms); the stream goes on and the next upkeep retries.
 */
export const UPKEEP_DEFAULTS = KINESIS_TO_DELTA_LAKE_DEFAULTS.upkeep;

/** The job arguments of the upkeep, by the names of the job's contract file (parsed by the job's args.py). */
export function upkeepArguments(scopePath: string, options: TableUpkeepOptions): Record<string, string> {
  const o = { ...UPKEEP_DEFAULTS, ...options };
  if (o.interval.toSeconds() < 60) throw new Error(`${scopePath}: "upkeep.interval" must be at least 1 minute (got ${o.interval.toHumanString()})`);
  if (o.vacuumRetention.toHours() < o.logRetention.toHours()) {
    throw new Error(
      `${scopePath}: "upkeep.vacuumRetention" (${o.vacuumRetention.toHours()} h) must be at least "upkeep.logRetention" (${o.logRetention.toHours()} h): Delta refuses to VACUUM below the deleted-file retention`,
    );
  }
  const retention = `interval ${o.logRetention.toDays()} days`;
  return {
    [ARGS.upkeepIntervalMinutes]: String(o.interval.toSeconds() / 60),
    [ARGS.optimizeDays]: String(o.optimizeDays),
    [ARGS.vacuumRetentionHours]: String(o.vacuumRetention.toHours()),
    [ARGS.logRetention]: retention,
    [ARGS.deletedFileRetention]: retention,
    [ARGS.vacuumMode]: 'FULL',
  };
}
