/**
 * Replays a source's raw zone for a window of arrival hours into its broker:
 *
 *   npm run replay -- --stack <stack name or CDK id> --source <name> --from 2026-12-04T09:00Z --to 2026-12-04T12:00Z [--dry-run]
 *
 * Reads every object under `s3://<raw bucket>/<name>/dt=YYYY-MM-DD/hour=HH/` for each hour of [from, to) (UTC,
 * whole hours: the raw zone is partitioned by arrival hour), gunzips it as a stream, and republishes each line
 * unchanged to the source's Kinesis stream or Kafka topic with the partition key the landing zone's validator gives
 * it (the source's `partitionKeyField`), through the validator's own writers (batched, bounded in flight, failed
 * entries retried with backoff). A line that is not a JSON object with that field is keyed by its SHA-256, counted
 * as unkeyed. Progress goes to stderr, the final count line to stdout; the exit code is 1 if anything was not
 * published. `--dry-run` prints, per hour, the objects, their record counts and the first records, and sends nothing.
 *
 * Is a replay safe over data the jobs already processed? Yes within each job's deduplication horizon: the Spark job
 * (pipeline 2) drops an event id it has seen while the event is within the watermark (newest event time minus
 * `kinesisToDeltaLake.job.watermarkDelayMinutes`) and drops as late any event older than the watermark; the Flink
 * job (pipeline 5) drops an id seen within `mskToIceberg.application.dedupTtlHours` (processing time). Past that
 * horizon a replay does not restore missing events into the Spark table (they are late), and writes the Flink
 * table's events a second time. Recovering older data is a reset, not a replay: see README.md, "Replay".
 *
 * Sources and brokers: `--stack` reads the stack's outputs (`<name>RawZone`, `<name>Stream` or `BootstrapBrokers`);
 * `--bucket-url s3://<bucket>/<name>/` with `--stream <name|ARN>` or `--bootstrap-servers <h:p,...> [--topic <t>]`
 * bypass the lookup. The MSK brokers (IAM, port 9098) are reachable only inside the cluster's VPC: run the replay
 * there (an instance or CloudShell VPC environment in a private subnet with the pipeline's client security group).
 * Credentials and region: the AWS SDK's default chain (`--region` overrides); endpoints: the SDK's
 * AWS_ENDPOINT_URL_S3 / _KINESIS / _CLOUDFORMATION (S3 then uses path-style addressing, as local emulators need).
 */
import { parseArgs } from 'node:util';
import { canaryPublishedAt } from '../platform/freshness/contract';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { parseConfig, readCdkJsonContext, StreamFoundryConfig } from '../platform/config';
import { PublishError } from '../platform/handlers/backoff';
import { UnreadableObjectError } from '../platform/handlers/object-records';
import { Keyer, keyersFor, recordKeys } from './replay/keys';
import { createPublisher, ReplayPublisher } from './replay/publisher';
import { listObjects, readRecords } from './replay/raw-zone';
import { ReplayTarget, resolveTarget } from './replay/target';
import { formatHour, hourPrefixes, parseWindow, ReplayWindow, UsageError } from './replay/window';

export interface ReplayOptions {
  source: string;
  window: ReplayWindow;
  target: ReplayTarget;
  keyers: Keyer[];
  s3: Pick<S3Client, 'send'>;
  /** Built in a dry run too (a Kinesis stream is looked up), but never connected or sent to. */
  publisher: ReplayPublisher;
  dryRun?: boolean;
  /** Records shown per hour in a dry run. */
  show?: number;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Results (stdout). */
  out: (line: string) => void;
  /** A progress line at least every this many records inside a large object. */
  progressEvery?: number;
}

export interface ReplayResult {
  objects: number;
  records: number;
  published: number;
  /** Records read and not published: too large for the broker, or left when publishing failed. */
  failed: number;
  /** Published with the stable hash as key (no usable partition key field). */
  unkeyed: number;
  /** Empty lines skipped (a Kafka tombstone is archived as one). */
  blank: number;
  /** Freshness canary events skipped: replayed, they would measure the replay's delay, not the pipeline's. */
  canaries: number;
  /** Objects that could not be read to the end (corrupt gzip, ...); the records before the damage are counted. */
  unreadable: string[];
  /** Why publishing stopped, if it did. */
  error?: string;
}

const preview = (bytes: Buffer, max = 300): string => {
  const text = bytes.toString('utf8');
  return text.length > max ? `${text.slice(0, max)}… (${bytes.length} bytes)` : text;
};

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { target, window, keyers, s3, log, out, dryRun = false, show = 3, progressEvery = 50_000 } = options;
  const { publisher } = options.publisher;
  const result: ReplayResult = { objects: 0, records: 0, published: 0, failed: 0, unkeyed: 0, blank: 0, canaries: 0, unreadable: [] };
  const where = `s3://${target.bucket}/${target.name}/`;
  log(`${dryRun ? 'dry run: ' : ''}replaying ${where} [${formatHour(window.from)}, ${formatHour(window.to)}) (${window.hours} h) to ${options.publisher.describe}`);
  if (!dryRun) await options.publisher.connect();
  let tooLarge = 0;
  try {
    for (const { hour, prefix } of hourPrefixes(target.name, window)) {
      const hourCounts = { objects: 0, records: 0 };
      const shown: string[] = [];
      for await (const object of listObjects(s3, target.bucket, prefix)) {
        result.objects++;
        hourCounts.objects++;
        let records = 0;
        let nextProgress = progressEvery;
        try {
          const { batches, blank } = await readRecords(s3, target.bucket, object.key);
          for await (const batch of batches) {
            for (const raw of batch) {
              records++;
              result.records++;
              if (raw.truncated) {
                tooLarge++;
                result.failed++;
                if (tooLarge <= 10) log(`  s3://${target.bucket}/${object.key}:${raw.line}: record of ${raw.byteLength} bytes is over the 1 MiB record limit: not published`);
                continue;
              }
              const keys = recordKeys(raw.bytes, keyers, (key) => publisher.checkPartitionKey(key));
              if (canaryPublishedAt(keys.id) !== undefined) {
                result.canaries++;
                continue;
              }
              if (!keys.keyed) result.unkeyed++;
              const event = { id: keys.id, partitionKey: keys.partitionKey, data: raw.bytes };
              if (dryRun) {
                if (shown.length < show) shown.push(`    [key ${keys.keyed ? keys.partitionKey : `${keys.partitionKey} (hash)`}] ${preview(raw.bytes)}`);
                continue;
              }
              const problem = publisher.checkSize(event);
              if (problem) {
                tooLarge++;
                result.failed++;
                if (tooLarge <= 10) log(`  s3://${target.bucket}/${object.key}:${raw.line}: ${problem}: not published`);
                continue;
              }
              const wait = publisher.add(event);
              if (wait) await wait;
            }
            if (records >= nextProgress) {
              log(`  ${object.key}: ${records} records so far (${publisher.published} published in all)`);
              nextProgress += progressEvery;
            }
          }
          result.blank += blank();
        } catch (err) {
          if (!(err instanceof UnreadableObjectError)) throw err;
          // What came before the damage was read (and sent); the rest is lost to this run, which fails at the end.
          result.unreadable.push(`s3://${target.bucket}/${object.key}: ${err.message} (after ${records} records)`);
          log(`  s3://${target.bucket}/${object.key}: unreadable after ${records} records (${err.message}): the rest of it is skipped`);
          hourCounts.records += records;
          continue;
        }
        hourCounts.records += records;
        log(`[${formatHour(hour)}] ${object.key}: ${records} records${dryRun ? '' : ` (${publisher.published} published in all)`}`);
      }
      if (dryRun) {
        out(`${formatHour(hour)}  s3://${target.bucket}/${prefix}: ${hourCounts.objects} objects, ${hourCounts.records} records`);
        for (const line of shown) out(line);
      }
    }
    if (!dryRun) await publisher.flush();
  } catch (err) {
    if (!(err instanceof PublishError)) throw err;
    result.error = err.message;
  } finally {
    if (!dryRun) await options.publisher.close();
  }
  result.published = publisher.published;
  if (!dryRun) result.failed = result.records - result.canaries - result.published;
  return result;
}

/** The final count line. */
export function summary(source: string, window: ReplayWindow, r: ReplayResult, dryRun: boolean): string {
  const extras = [
    r.unkeyed ? `${r.unkeyed} without a usable partition key, keyed by hash` : '',
    r.blank ? `${r.blank} empty lines skipped` : '',
    r.canaries ? `${r.canaries} freshness canaries skipped` : '',
    r.unreadable.length ? `${r.unreadable.length} objects unreadable` : '',
    r.objects === 0 ? 'no objects in the window: nothing to replay' : '',
    dryRun ? 'dry run: nothing sent' : '',
  ].filter(Boolean);
  return (
    `replay ${source} [${formatHour(window.from)}, ${formatHour(window.to)}): ${r.objects} objects, ${r.records} records, ` +
    `${r.published} published, ${r.failed} failed${extras.length ? ` (${extras.join('; ')})` : ''}`
  );
}

const USAGE = `usage: npm run replay -- --stack <stack name or CDK id> --source <name> --from <YYYY-MM-DDTHH:00Z> --to <YYYY-MM-DDTHH:00Z> [--dry-run]
  [--max-hours N] [--show N] [--region R]
  [--bucket-url s3://<bucket>/<name>/] [--stream <name|ARN> | --bootstrap-servers <host:port,...> [--topic T] [--kafka-plaintext]]`;

export interface Io {
  log: (line: string) => void;
  out: (line: string) => void;
}

const STDIO: Io = { log: (line) => process.stderr.write(`${line}\n`), out: (line) => process.stdout.write(`${line}\n`) };

/** The command line: exit 0 when everything in the window was published, 1 when something was not, 2 for a usage error. */
export async function main(argv: string[], io: Io = STDIO, now = new Date()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: 'string' },
        source: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'max-hours': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        show: { type: 'string', default: '3' },
        region: { type: 'string' },
        'bucket-url': { type: 'string' },
        stream: { type: 'string' },
        'bootstrap-servers': { type: 'string' },
        topic: { type: 'string' },
        'kafka-plaintext': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    io.log(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  try {
    if (!values.source) throw new UsageError('--source <name> is required: a source of cdk.json, or "events" for the LandingZone stack');
    const show = Number(values.show);
    if (!/^\d+$/.test(values.show!) || show > 1000) throw new UsageError(`--show "${values.show}" must be a whole number of records per hour, 0 to 1000`);
    const window = parseWindow({ from: values.from, to: values.to, maxHours: values['max-hours'], now });
    const config: StreamFoundryConfig = parseConfig(readCdkJsonContext());
    const keyers = keyersFor(config, values.source);
    const region = values.region;
    const target = await resolveTarget(
      {
        stack: values.stack,
        source: values.source,
        bucketUrl: values['bucket-url'],
        stream: values.stream,
        bootstrapServers: values['bootstrap-servers'],
        topic: values.topic,
        kafkaPlaintext: values['kafka-plaintext'],
      },
      config,
      () => new CloudFormationClient({ ...(region ? { region } : {}) }),
    );
    const s3 = new S3Client({
      ...(region ? { region } : {}),
      // Local S3 emulators (s3rver) answer on one host name only.
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL),
    });
    // MSK IAM tokens are signed for the cluster's region: the SDK's own (flag, environment or profile).
    const publisher = await createPublisher(target.broker, { region: region ?? (await s3.config.region()) });
    const dryRun = values['dry-run']!;
    const result = await replay({ source: values.source, window, target, keyers, s3, publisher, dryRun, show, log: io.log, out: io.out });
    s3.destroy();
    for (const line of result.unreadable) io.log(`unreadable: ${line}`);
    if (result.error) io.log(`publishing stopped: ${result.error}`);
    io.out(summary(target.name, window, result, dryRun));
    return result.failed > 0 || result.unreadable.length > 0 || result.error ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.log(`${err.message}\n${USAGE}`);
      return 2;
    }
    io.log(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
