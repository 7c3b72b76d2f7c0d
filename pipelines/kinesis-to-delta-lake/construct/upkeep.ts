import { Duration } from 'aws-cdk-lib';
import { TableUpkeepOptions } from './props';

/**
 * Table upkeep (OPTIMIZE of recent partitions, VACUUM, log retention) runs inside the streaming job, between
 * micro-batches, on the stream's own driver: Delta's storage documentation says concurrent writes to S3 must come
 * from a single Spark driver unless a multi-cluster log store is configured, and a second (scheduled) Glue job would
 * be a second driver committing to the same tables. A failed upkeep is logged and counted (the UpkeepFailed metric
 * alarms); the stream goes on and the next upkeep retries.
 */
export const UPKEEP_DEFAULTS = {
  interval: Duration.hours(1),
  optimizeDays: 2,
  vacuumRetention: Duration.hours(168),
  logRetention: Duration.days(7),
};

/** The job arguments of the upkeep (pipelines/kinesis-to-delta-lake/job/src/stream_foundry_delta/args.py). */
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
    '--upkeep-interval-minutes': String(o.interval.toSeconds() / 60),
    '--optimize-days': String(o.optimizeDays),
    '--vacuum-retention-hours': String(o.vacuumRetention.toHours()),
    '--log-retention': retention,
    '--deleted-file-retention': retention,
    '--vacuum-mode': 'FULL',
  };
}
