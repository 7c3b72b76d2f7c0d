/**
 * The requests of the jobs, which cannot be recorded locally (Glue's Kinesis connector, S3A and Managed Flink's
 * service-side calls exist only in AWS), listed by hand from the code and the engines' documented behaviour (the Spark
 * job's request classes: pipelines/kinesis-to-delta-lake/job/aws-requests.md, kept in step with this file), and
 * built from the argument values the construct deploys (the synthesized Glue job's DefaultArguments, the Flink
 * application's properties). Each says why, and where the call comes from.
 */
import * as fs from 'node:fs';
import { AwsRequest, REGION, ACCOUNT } from '../support/iam-proof';
import { fromRoot } from '../../platform/paths';
import { canaryId, receiptKey } from '../../platform/freshness/contract';

const SPARK = 'pipelines/kinesis-to-delta-lake/job';
const FLINK = 'pipelines/msk-to-iceberg/job';

/** `s3://bucket/key` or `s3a://bucket/key` → [bucket, key]. */
/** The commit time of the receipts the proof writes (any time works: the grant is on the prefix). */
const RECEIPT_MS = Date.UTC(2026, 10, 20, 9, 0, 0);

function s3Location(url: string): [string, string] {
  const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`not an S3 location: ${url}`);
  return [match[1], match[2]];
}
const object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
const dir = (key: string) => (key.endsWith('/') ? key : `${key}/`);

/**
 * S3A as Glue 5.1 uses it ("S3A filesystem has replaced EMRFS", Glue migrating-version-51): `listStatus(dir)` is a
 * LIST with the directory as s3:prefix and "/" as delimiter; `getFileStatus(key)` (every create with overwrite=false,
 * every exists check) is a HEAD of the key, then a LIST of `key/` when the HEAD says 404 (a directory?); HEADs of keys
 * that do not exist yet need S3's 404, hence ListBucket without a prefix condition (iam-proof's `mayBeMissing`).
 */
const s3a = {
  list: (bucket: string, prefix: string, why: string): AwsRequest => ({
    action: 's3:ListBucket', resource: bucketArn(bucket), context: { 's3:prefix': dir(prefix), 's3:delimiter': '/' }, why,
  }),
  probe: (bucket: string, key: string, why: string): AwsRequest[] => [
    { action: 's3:GetObject', resource: object(bucket, key), mayBeMissing: true, why: `HEAD ${why}` },
    { action: 's3:ListBucket', resource: bucketArn(bucket), context: { 's3:prefix': `${key}/`, 's3:delimiter': '/' }, why: `getFileStatus LIST after a 404 ${why}` },
  ],
  read: (bucket: string, key: string, why: string): AwsRequest => ({ action: 's3:GetObject', resource: object(bucket, key), why }),
  write: (bucket: string, key: string, why: string): AwsRequest => ({ action: 's3:PutObject', resource: object(bucket, key), multipart: true, why }),
  remove: (bucket: string, key: string, why: string): AwsRequest => ({ action: 's3:DeleteObject', resource: object(bucket, key), why }),
};

/** A Delta table at `location` written by a streaming query (Delta's S3SingleDriverLogStore over S3A). */
function deltaTableWrites(location: string, what: string): AwsRequest[] {
  const [bucket, key] = s3Location(location);
  const table = dir(key);
  const log = `${table}_delta_log/`;
  const commit = `${log}00000000000000000011.json`;
  const where = `${SPARK}/src/stream_foundry_delta/pipeline.py (${what})`;
  return [
    s3a.list(bucket, log, `Delta lists the log to find the latest version: ${where}`),
    ...s3a.probe(bucket, `${log}_last_checkpoint`, `Delta reads _last_checkpoint, absent until the 10th commit: ${where}`),
    s3a.read(bucket, `${log}00000000000000000010.json`, `Delta reads the log's commits: ${where}`),
    s3a.read(bucket, `${log}00000000000000000010.checkpoint.parquet`, `Delta reads the log checkpoint: ${where}`),
    s3a.write(bucket, `${table}event_date=2026-11-20/part-00000-0.snappy.parquet`, `data files of a micro-batch: ${where}`),
    ...s3a.probe(bucket, commit, `S3SingleDriverLogStore writes the next commit only if absent (create, overwrite=false): ${where}`),
    s3a.write(bucket, commit, `the commit file: ${where}`),
    s3a.write(bucket, `${log}00000000000000000020.checkpoint.parquet`, `a log checkpoint every 10 commits: ${where}`),
    s3a.write(bucket, `${log}_last_checkpoint`, `points to it: ${where}`),
    s3a.remove(bucket, `${log}00000000000000000001.json`, `log cleanup of expired commits (delta.logRetentionDuration): ${where}`),
  ];
}

/** OPTIMIZE and VACUUM of a Delta table (maintenance.py): rewrite small files, list every file, delete the unreferenced. */
function deltaUpkeep(location: string): AwsRequest[] {
  const [bucket, key] = s3Location(location);
  const table = dir(key);
  const where = `${SPARK}/src/stream_foundry_delta/maintenance.py`;
  return [
    s3a.read(bucket, `${table}event_date=2026-11-20/part-00000-0.snappy.parquet`, `OPTIMIZE reads the small files: ${where}`),
    s3a.write(bucket, `${table}event_date=2026-11-20/part-00000-1.zstd.parquet`, `OPTIMIZE writes the compacted file: ${where}`),
    { action: 's3:ListBucket', resource: bucketArn(bucket), context: { 's3:prefix': table }, why: `VACUUM lists the whole table (recursive listFiles, no delimiter): ${where}` },
    s3a.remove(bucket, `${table}event_date=2026-11-20/part-00000-0.snappy.parquet`, `VACUUM deletes unreferenced files: ${where}`),
  ];
}

/** A Spark Structured Streaming checkpoint on S3A (HDFSMetadataLog with the FileContext checkpoint manager: write a temp file, rename). */
function streamingCheckpoint(location: string): AwsRequest[] {
  const [bucket, key] = s3Location(location);
  const root = dir(key);
  const where = `${SPARK}/src/stream_foundry_delta/pipeline.py (writeStream checkpointLocation)`;
  return [
    ...s3a.probe(bucket, `${root}metadata`, `the query's metadata file, absent on the first run: ${where}`),
    s3a.list(bucket, `${root}offsets/`, `latest batch id: ${where}`),
    s3a.list(bucket, `${root}commits/`, `latest committed batch: ${where}`),
    s3a.read(bucket, `${root}offsets/10`, `offsets of the last batch: ${where}`),
    s3a.write(bucket, `${root}offsets/.11.tmp`, `the next batch's offsets, written to a temp file: ${where}`),
    ...s3a.probe(bucket, `${root}offsets/11`, `rename checks the destination does not exist: ${where}`),
    { action: 's3:GetObject', resource: object(bucket, `${root}offsets/.11.tmp`), why: `S3A rename is a CopyObject (reads the source): ${where}` },
    s3a.write(bucket, `${root}offsets/11`, `…and writes the destination: ${where}`),
    s3a.remove(bucket, `${root}offsets/.11.tmp`, `…then deletes the source: ${where}`),
    s3a.write(bucket, `${root}commits/11`, `batch commit marker: ${where}`),
    s3a.write(bucket, `${root}sources/0/0`, `the source's initial offsets: ${where}`),
    s3a.remove(bucket, `${root}offsets/1`, `old batches purged (minBatchesToRetain): ${where}`),
  ];
}

/** S3A's empty-directory markers above a table: `<dir>/` objects, and EMRFS-style `<dir>_$folder$` (aws-requests.md #13). */
function s3aDirectoryMarkers(location: string): AwsRequest[] {
  const [bucket, key] = s3Location(location);
  const source = key.split('/')[0];
  const why = `S3A may create, read and delete empty-directory markers: ${SPARK}/aws-requests.md #13`;
  return [
    s3a.write(bucket, dir(key), why),
    s3a.remove(bucket, dir(key), why),
    s3a.write(bucket, `${source}_$folder$`, why),
  ];
}

/** The job's own metrics namespace, from the contract the job and the construct share (when present). */
function sparkMetricsNamespace(): string | undefined {
  const file = fromRoot(SPARK, 'src', 'stream_foundry_delta', 'contract.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).metrics?.namespace : undefined;
}

/** Requests of one deployed Glue job, from its DefaultArguments and script locations. */
export function glueJobRequests(job: { Command: { ScriptLocation: string }; DefaultArguments: Record<string, string>; Name: string }): AwsRequest[] {
  const args = job.DefaultArguments;
  const requests: AwsRequest[] = [];
  // Glue downloads the script and --extra-py-files with the job's role before the job starts (a GetObject each).
  for (const location of [job.Command.ScriptLocation, ...(args['--extra-py-files']?.split(',') ?? [])]) {
    const [bucket, key] = s3Location(location);
    requests.push({ action: 's3:GetObject', resource: object(bucket, key), why: 'Glue fetches the script and --extra-py-files as the job role' });
  }
  // Continuous logging to the custom log group prefix: /output and /error (Glue "continuous logging").
  const logPrefix = args['--custom-logGroup-prefix'];
  if (logPrefix) {
    for (const stream of ['output', 'error']) {
      const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logPrefix}/${stream}`;
      requests.push({ action: 'logs:CreateLogGroup', resource: `${logGroup}:*`, why: 'Glue continuous logging (answered "exists")' });
      requests.push({ action: 'logs:CreateLogStream', resource: `${logGroup}:log-stream:${job.Name}-run`, why: 'Glue continuous logging' });
      requests.push({ action: 'logs:PutLogEvents', resource: `${logGroup}:log-stream:${job.Name}-run`, why: 'Glue continuous logging' });
    }
  }
  if (args['--enable-metrics'] === 'true' || args['--enable-observability-metrics'] === 'true') {
    requests.push({ action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'Glue' }, why: 'Glue job metrics (--enable-metrics)' });
  }
  if (args['--stream-arn']) {
    const stream = args['--stream-arn'];
    const why = `Glue's Kinesis source (glueContext.create_data_frame.from_options): ${SPARK}/src/stream_foundry_delta/sources.py`;
    for (const action of ['kinesis:DescribeStreamSummary', 'kinesis:DescribeStream', 'kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords']) {
      requests.push({ action, resource: stream, why });
    }
    const namespace = sparkMetricsNamespace();
    if (namespace) {
      requests.push({ action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': namespace }, why: `the job's own metrics: ${SPARK}/src/stream_foundry_delta/metrics.py` });
    }
  }
  const tables = [args['--table-path'], args['--error-path']].filter(Boolean);
  for (const table of tables) requests.push(...deltaTableWrites(table, table === args['--table-path'] ? 'events table' : 'errors table'), ...s3aDirectoryMarkers(table));
  if (args['--checkpoint-location']) requests.push(...streamingCheckpoint(args['--checkpoint-location']));
  // Upkeep (OPTIMIZE, VACUUM) inside the streaming job between micro-batches, or in a job of its own (--table-paths).
  if (args['--vacuum-retention-hours'] || args['--optimize-days']) for (const table of tables) requests.push(...deltaUpkeep(table));
  for (const table of args['--table-paths']?.split(',') ?? []) requests.push(...deltaTableWrites(table, 'upkeep commit'), ...deltaUpkeep(table));
  // Processing rules (docs/processing-rules.md): the aggregates table, written like the others; the hash key, read once.
  if (args['--aggregates-path']) requests.push(...deltaTableWrites(args['--aggregates-path'], 'aggregates table'), ...s3aDirectoryMarkers(args['--aggregates-path']));
  // Customer delivery (platform/customer-delivery): the delivery query puts the committed events, by stream name.
  if (args['--delivery-stream-arn']) {
    requests.push({ action: 'kinesis:PutRecords', resource: args['--delivery-stream-arn'], why: `the delivery query: ${SPARK}/src/stream_foundry_delta/delivery.py` });
  }
  if (args['--hash-key-secret']) {
    requests.push({ action: 'secretsmanager:GetSecretValue', resource: args['--hash-key-secret'], why: `the processing rules' hash key, read once at start: ${SPARK}/src/stream_foundry_delta/rules.py` });
  }
  // Freshness (platform/freshness): one receipt per canary after the batch's commit, by boto3 (one PUT, SSE-KMS).
  if (args['--freshness-receipts-path']) {
    const [bucket] = s3Location(args['--freshness-receipts-path']);
    requests.push({ action: 's3:PutObject', resource: object(bucket, receiptKey({ source: args['--source'], id: canaryId(RECEIPT_MS - 2_000), committedAtMs: RECEIPT_MS })), why: `freshness receipts: ${SPARK}/src/stream_foundry_delta/freshness.py` });
  }
  return requests;
}

/**
 * Requests of the Managed Flink application, from its deployed properties: the request classes of
 * pipelines/msk-to-iceberg/job/aws-requests.md (Iceberg GlueCatalog and S3FileIO, the s3a FileSink, the Kafka source with MSK
 * IAM, logs and the JAR fetch by the service with the application role).
 */
export function flinkJobRequests(
  app: { PropertyMap: Record<string, string>; codeBucketArn: string; codeKey: string; logStreamArn?: string },
  clusterArn: string,
): AwsRequest[] {
  const p = app.PropertyMap;
  const topic = `${clusterArn.replace(':cluster/', ':topic/')}/${p['kafka.topic']}`;
  const group = `${clusterArn.replace(':cluster/', ':group/')}/${p['kafka.group.id']}`;
  const main = `${FLINK}/src/main/java/dev/streamfoundry/flink`;
  const glue = (action: string, table = true) =>
    [`catalog`, `database/${p['catalog.database']}`, ...(table ? [`table/${p['catalog.database']}/${p['catalog.table']}`] : [])].map((r) => ({
      action, resource: `arn:aws:glue:${REGION}:${ACCOUNT}:${r}`, why: `Iceberg GlueCatalog: ${main}/IcebergTables.java`,
    }));
  const [warehouseBucket, warehouseKey] = s3Location(p['catalog.warehouse']);
  const tableKey = `${dir(warehouseKey)}${p['catalog.database']}.db/${p['catalog.table']}/`;
  const dataFile = `${tableKey}data/event_date=2026-11-20/00000-0.parquet`;
  const manifest = `${tableKey}metadata/snap-1.avro`;
  const metadata = `${tableKey}metadata/00001-0.metadata.json`;
  const [errorBucket, errorKey] = s3Location(p['errors.path']);
  const errorDir = `${dir(errorKey)}dt=2026-11-20/`;
  const errorFile = `${errorDir}malformed-0-0.jsonl`;
  const iceberg = `Iceberg S3FileIO: ${main}/IcebergTables.java (${FLINK}/aws-requests.md)`;
  const fileSink = `the error FileSink on s3a (Flink's S3 recoverable writer): ${main}/IcebergIngestJob.java (${FLINK}/aws-requests.md)`;
  const wh = (action: string, key: string, extra: Partial<AwsRequest> = {}) => ({ action, resource: object(warehouseBucket, key), why: iceberg, ...extra });
  const err = (action: string, key: string, extra: Partial<AwsRequest> = {}) => ({ action, resource: object(errorBucket, key), why: fileSink, ...extra });
  // The raw zone (raw.path, when set): the same S3A recoverable writer as the error records, on the raw zone's prefix.
  const rawZone = (path: string): AwsRequest[] => {
    const [bucket, key] = s3Location(path);
    const hourDir = `${dir(key)}dt=2026-11-20/hour=09/`;
    const file = `${hourDir}raw-0-0.gz`;
    const why = `the raw-zone FileSink on s3a (Flink's S3 recoverable writer): ${main}/RawArchive.java (${FLINK}/aws-requests.md)`;
    const raw = (action: string, k: string, extra: Partial<AwsRequest> = {}) => ({ action, resource: object(bucket, k), why, ...extra });
    return [
      raw('s3:PutObject', file, { multipart: true }),
      raw('s3:PutObject', `${file}.tmp-0`),
      raw('s3:GetObject', `${file}.tmp-0`),
      raw('s3:DeleteObject', `${file}.tmp-0`),
      raw('s3:AbortMultipartUpload', file),
      raw('s3:ListMultipartUploadParts', file),
      raw('s3:GetObject', file, { mayBeMissing: true }),
      { action: 's3:ListBucket', resource: bucketArn(bucket), context: { 's3:prefix': hourDir, 's3:delimiter': '/', 's3:max-keys': '2' }, why: `S3A getFileStatus LIST for a "directory": ${why}` },
    ];
  };
  // The processing rules' aggregates table: created and committed like the events table (same catalog, same FileIO).
  const aggregates = (table: string): AwsRequest[] => {
    const key = `${dir(warehouseKey)}${p['catalog.database']}.db/${table}/`;
    const glueTable = { resource: `arn:aws:glue:${REGION}:${ACCOUNT}:table/${p['catalog.database']}/${table}`, why: `Iceberg GlueCatalog: ${main}/IcebergTables.java` };
    return [
      ...['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'].map((action) => ({ action, ...glueTable })),
      wh('s3:GetObject', `${key}data/00000-0.parquet`, { mayBeMissing: true }),
      wh('s3:PutObject', `${key}data/00000-0.parquet`, { multipart: true }),
      wh('s3:PutObject', `${key}metadata/snap-1.avro`),
      wh('s3:GetObject', `${key}metadata/00001-0.metadata.json`, { mayBeMissing: true }),
      wh('s3:PutObject', `${key}metadata/00001-0.metadata.json`),
      wh('s3:GetObject', `${key}metadata/00001-0.metadata.json`),
    ];
  };
  return [
    { action: 's3:GetObject', resource: `${app.codeBucketArn}/${app.codeKey}`, why: 'Managed Flink fetches the application JAR with the service execution role' },
    { action: 's3:GetObjectVersion', resource: `${app.codeBucketArn}/${app.codeKey}`, why: 'Managed Flink fetches the application JAR with the service execution role' },
    { action: 'kafka-cluster:Connect', resource: clusterArn, why: `KafkaSource with MSK IAM: ${main}/IcebergIngestJob.java` },
    { action: 'kafka-cluster:DescribeCluster', resource: clusterArn, why: 'admin client metadata' },
    { action: 'kafka-cluster:DescribeTopic', resource: topic, why: 'partition discovery, starting offsets' },
    { action: 'kafka-cluster:ReadData', resource: topic, why: 'fetch' },
    { action: 'kafka-cluster:DescribeGroup', resource: group, why: 'committed offsets of the group (OffsetsInitializer.committedOffsets)' },
    { action: 'kafka-cluster:AlterGroup', resource: group, why: 'offsets committed on checkpoints' },
    // Freshness (platform/freshness): a receipt per canary on checkpoint completion, through S3A (aws-requests.md).
    ...(p['freshness.receipts.path']
      ? (() => {
          const [bucket] = s3Location(p['freshness.receipts.path']);
          const key = receiptKey({ source: p['kafka.topic'], id: canaryId(RECEIPT_MS - 2_000), committedAtMs: RECEIPT_MS });
          const why = `freshness receipts: ${main}/FreshnessReceipts.java (${FLINK}/aws-requests.md)`;
          return [
            { action: 's3:ListBucket', resource: bucketArn(bucket), context: { 's3:prefix': `${key}/`, 's3:max-keys': '2' }, why: `S3A create: no "directory" of that name: ${why}` },
            { action: 's3:PutObject', resource: object(bucket, key), why },
          ];
        })()
      : []),
    // Customer delivery (platform/customer-delivery): an idempotent KafkaSink on the delivery topic.
    ...(p['delivery.topic']
      ? [
          { action: 'kafka-cluster:WriteDataIdempotently', resource: clusterArn, why: `idempotent producer (enable.idempotence): ${main}/IcebergIngestJob.java` },
          { action: 'kafka-cluster:DescribeTopic', resource: `${clusterArn.replace(':cluster/', ':topic/')}/${p['delivery.topic']}`, why: 'producer metadata of the delivery topic' },
          { action: 'kafka-cluster:WriteData', resource: `${clusterArn.replace(':cluster/', ':topic/')}/${p['delivery.topic']}`, why: `the delivery KafkaSink: ${main}/IcebergIngestJob.java` },
        ]
      : []),
    ...glue('glue:GetDatabase', false),
    ...glue('glue:GetTable'),
    ...glue('glue:CreateTable'),
    ...glue('glue:UpdateTable'),
    // S3OutputFile.create() HEADs every new key first and treats only 404 as absent.
    wh('s3:GetObject', dataFile, { mayBeMissing: true }),
    wh('s3:PutObject', dataFile, { multipart: true }),
    wh('s3:AbortMultipartUpload', dataFile),
    wh('s3:GetObject', manifest, { mayBeMissing: true }),
    wh('s3:PutObject', manifest),
    wh('s3:GetObject', manifest),
    wh('s3:GetObject', metadata, { mayBeMissing: true }),
    wh('s3:PutObject', metadata),
    wh('s3:GetObject', metadata),
    wh('s3:DeleteObject', `${tableKey}metadata/temp-manifest-0.avro`),
    wh('s3:DeleteObject', `${tableKey}metadata/00000-0.metadata.json`),
    err('s3:PutObject', errorFile, { multipart: true }),
    err('s3:PutObject', `${errorFile}.tmp-0`),
    err('s3:GetObject', `${errorFile}.tmp-0`),
    err('s3:DeleteObject', `${errorFile}.tmp-0`),
    err('s3:AbortMultipartUpload', errorFile),
    err('s3:ListMultipartUploadParts', errorFile),
    err('s3:GetObject', errorFile, { mayBeMissing: true }),
    { action: 's3:ListBucket', resource: bucketArn(errorBucket), context: { 's3:prefix': errorDir, 's3:delimiter': '/', 's3:max-keys': '2' }, why: `S3A getFileStatus LIST for a "directory": ${fileSink}` },
    ...(p['raw.path'] ? rawZone(p['raw.path']) : []),
    ...(p['catalog.aggregates.table'] ? aggregates(p['catalog.aggregates.table']) : []),
    ...(p['rules.hash.key.secret']
      ? [{ action: 'secretsmanager:GetSecretValue', resource: p['rules.hash.key.secret'], why: `the processing rules' hash key, read once per task at open: ${main}/HashKey.java` }]
      : []),
    ...(app.logStreamArn
      ? [
          // CloudWatch Logs evaluates DescribeLogGroups on `log-group::log-stream:` (its AccessDenied messages name it).
          { action: 'logs:DescribeLogGroups', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group::log-stream:`, why: 'Managed Flink checks the logging option\'s group with the application role' },
          { action: 'logs:DescribeLogStreams', resource: app.logStreamArn.replace(/:log-stream:.*$/, ':*'), why: 'Managed Flink delivers the application logs with its role' },
          { action: 'logs:PutLogEvents', resource: app.logStreamArn, why: 'Managed Flink delivers the application logs with its role' },
        ]
      : []),
  ];
}
