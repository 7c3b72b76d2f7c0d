/**
 * Pipeline 5 on this machine: a real Kafka broker (KRaft, a child JVM: test/integration/kafka-broker.ts) with the
 * topic the stack creates, the real landing validator publishing to it (processObject with the Lambda's KafkaWriter,
 * no IAM, no TLS), and the real Flink job (IcebergIngestJob.main, its compiled classes and Maven classpath) in a child
 * JVM, where getExecutionEnvironment() is a local mini cluster, as the job's tests run it; Iceberg in a Hadoop catalog
 * on local disk instead of Glue. The table's rows are read with DuckDB from the Parquet files of the current snapshot.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { sourcesFeeding } from '../../platform/config';
import { dataSource } from '../../platform/data-source';
import { canaryEvent } from '../../platform/freshness/canary';
import { parseReceiptKey, RECEIPTS_PREFIX } from '../../platform/freshness/contract';
import { canaryTemplate } from '../../platform/freshness/template';
import { createKafkaProducer, KafkaWriter } from '../../platform/handlers/kafka-writer';
import { catalogName } from '../../platform/names';
import { PROJECT_ROOT } from '../../platform/paths';
import { pipeline as registryEntry, stackName } from '../../pipelines';
import { startKafkaBroker } from '../../test/integration/kafka-broker';
import { Accounting, DEMO_RETRY, DemoContext, demoBatch, landingAccounting, localValidator, progress, uploadThroughValidator, waitFor } from './common';

const NAME = 'pipeline 5 (landing zone -> Kafka -> Flink -> Iceberg)';
const JOB_POM = path.join(PROJECT_ROOT, 'pipelines', 'msk-to-iceberg', 'job', 'pom.xml');
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function runMskToIceberg(ctx: DemoContext): Promise<Accounting[]> {
  const sources = ctx.sources ?? sourcesFeeding(ctx.config, 'mskToIceberg');
  const results: Accounting[] = [];
  for (const source of sources) results.push(await runSource(ctx, source));
  return results;
}

/** The job's classes (compiled by Maven when missing or older than its sources) and its full classpath (Flink included). */
function jobClasspath(dir: string): string {
  const file = path.join(dir, 'flink-job.classpath');
  const run = spawnSync('mvn', ['-B', '-q', '-f', JOB_POM, 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${file}`], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`building the Flink job failed (mvn ${run.status}):\n${run.stdout}\n${run.stderr}`);
  return `${path.join(path.dirname(JOB_POM), 'target', 'classes')}${path.delimiter}${fs.readFileSync(file, 'utf8').trim()}`;
}

async function startS3rver(directory: string, buckets: string[]): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver');
  fs.mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = (await server.run()) as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

/** The current snapshot of an Iceberg table in a Hadoop catalog: its summary, from the newest metadata file. */
function currentSnapshot(tableDir: string): { totalRecords: number; snapshots: number } | undefined {
  const metadata = path.join(tableDir, 'metadata');
  const versions = filesUnder(metadata)
    .map((f) => /^v(\d+)\.metadata\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (versions.length === 0) return undefined;
  const doc = JSON.parse(fs.readFileSync(path.join(metadata, `v${Math.max(...versions)}.metadata.json`), 'utf8')) as {
    'current-snapshot-id'?: number;
    snapshots?: Array<{ 'snapshot-id': number; summary: Record<string, string> }>;
  };
  const snapshot = doc.snapshots?.find((s) => s['snapshot-id'] === doc['current-snapshot-id']);
  return { totalRecords: Number(snapshot?.summary['total-records'] ?? 0), snapshots: doc.snapshots?.length ?? 0 };
}

async function runSource(ctx: DemoContext, source: string): Promise<Accounting> {
  const ds = dataSource(ctx.config, source, 'mskToIceberg');
  const { idField } = ds;
  const stack = stackName(registryEntry('mskToIceberg'), ctx.config);
  const lower = stack.toLowerCase();
  const buckets = { landing: `${lower}-landing`, errors: `${lower}-errors` };
  const database = catalogName(stack);
  const table = catalogName(source);
  const dir = path.join(ctx.workDir, 'msk-to-iceberg');
  const lake = path.join(dir, 'lake');
  const tableDir = path.join(lake, 'warehouse', database, table);
  const jobErrors = path.join(lake, 'errors', source);
  fs.mkdirSync(lake, { recursive: true });

  progress(NAME, 'compiling the Flink job and resolving its classpath (mvn; quick once built)');
  const classpath = jobClasspath(dir);
  progress(NAME, `starting a Kafka broker (KRaft) and s3rver (buckets ${Object.values(buckets).join(', ')})`);
  const [broker, s3rver] = await Promise.all([startKafkaBroker(), startS3rver(path.join(dir, 's3'), Object.values(buckets))]);
  ctx.onStop('Kafka broker', () => broker.stop());
  ctx.onStop('s3rver', () => s3rver.stop());
  const s3 = new S3Client({ region: REGION, endpoint: s3rver.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  ctx.onStop('S3 client', () => s3.destroy());
  // One partition here (the stack creates mskToIceberg.topic.partitions): the canary, sent last, then marks the end.
  const admin = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: source, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  progress(NAME, `topic ${source} created on ${broker.bootstrapServers}`);

  const producer = createKafkaProducer({ brokers: [broker.bootstrapServers], auth: 'none', tls: false, region: REGION, clientId: `landing-validator-${source}` });
  await producer.connect();
  ctx.onStop('Kafka producer', () => producer.disconnect());
  const deps = localValidator(s3, ds, buckets.errors, async () => new KafkaWriter({ producer, topic: source, retry: DEMO_RETRY, callTimeoutMs: 15_000 }));
  const upload = (key: string, lines: string[]) => uploadThroughValidator(NAME, deps, buckets.landing, key, lines, `topic ${source}`);

  // The runtime properties the construct sets (construct/application.ts, contract.json), with local values.
  const app = ctx.config.mskToIceberg!.application;
  const properties: Record<string, string> = {
    'kafka.bootstrap.servers': broker.bootstrapServers,
    'kafka.topic': source,
    'kafka.auth': 'none',
    'catalog.type': 'hadoop',
    'catalog.warehouse': `file://${path.join(lake, 'warehouse')}`,
    'catalog.database': database,
    'catalog.table': table,
    'errors.path': `file://${jobErrors}`,
    'source.schema': source,
    'source.id.field': idField,
    'source.event.time.field': ds.eventTimeField!,
    'dedup.ttl': `${app.dedupTtlHours} h`,
    'checkpoint.interval': `${app.checkpointIntervalMs} ms`,
    'freshness.receipts.path': `file://${lake}`,
    'kafka.consumer.fetch.max.wait.ms': '100',
  };
  const flinkLog = path.join(dir, 'flink.log');
  progress(NAME, `starting the Flink job (IcebergIngestJob) on a local mini cluster; its log: ${flinkLog}`);
  // The JVM flags the job's tests run with (the pom's surefire argLine): Flink's serializers need these packages open.
  const opens = [...fs.readFileSync(JOB_POM, 'utf8').matchAll(/--add-opens (\S+)/g)].flatMap((m) => ['--add-opens', m[1]]);
  const log = fs.openSync(flinkLog, 'w');
  // Flink and Iceberg log through log4j2; without a configuration they would say nothing.
  const log4j = path.join(dir, 'log4j2.properties');
  fs.writeFileSync(
    log4j,
    ['rootLogger.level = WARN', 'rootLogger.appenderRef.out.ref = out', 'appender.out.type = Console', 'appender.out.name = out',
      'appender.out.layout.type = PatternLayout', 'appender.out.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n',
      'logger.job.name = dev.streamfoundry', 'logger.job.level = INFO'].join('\n') + '\n',
  );
  const job: ChildProcess = spawn(
    'java',
    ['-Xmx1g', '-XX:TieredStopAtLevel=1', ...opens, `-Dlog4j.configurationFile=${log4j}`, '-cp', classpath, 'dev.streamfoundry.flink.IcebergIngestJob', ...Object.entries(properties).flatMap(([k, v]) => [`--${k}`, v])],
    { cwd: dir, stdio: ['ignore', log, log], env: { ...process.env, AWS_REGION: REGION } },
  );
  let exited: string | undefined;
  job.once('exit', (code, signal) => (exited = `the Flink job exited (${signal ?? code}); its log: ${flinkLog}`));
  ctx.onStop('Flink job', async () => {
    if (job.exitCode !== null || job.signalCode !== null) return;
    const gone = new Promise((resolve) => job.once('exit', resolve));
    job.kill('SIGTERM');
    const force = setTimeout(() => job.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(force);
  });

  const batch = demoBatch(ctx.config, source, ctx.eventsPerSource);
  const first = await upload(`${source}/demo/batch-1.ndjson`, batch.lines);
  const replay = await upload(`${source}/demo/batch-1-replayed.ndjson`, batch.replay);
  let lastShown = '';
  const showProgress = () => {
    if (exited) throw new Error(exited);
    const snapshot = currentSnapshot(tableDir);
    const line = `Flink: ${snapshot ? `${snapshot.snapshots} Iceberg snapshots, ${snapshot.totalRecords} rows committed` : 'starting, no snapshot yet'}`;
    if (line !== lastShown) progress(NAME, (lastShown = line));
    return snapshot?.totalRecords ?? 0;
  };
  // The canary goes once the job is up (its first commit), so it measures the path, not the JVM's start.
  await waitFor('the first commit', async () => showProgress() > 0, 600_000, 2_000);
  const publishedAt = Date.now();
  const canary = canaryEvent({ source, template: canaryTemplate(ds), idField, eventTimeField: ds.eventTimeField }, publishedAt);
  await upload(`${source}/_canary/${publishedAt}.ndjson`, [JSON.stringify(canary)]);

  // The canary is the topic's last record and one partition keeps order: its receipt means everything before it was
  // read, and committed at the same checkpoint or an earlier one.
  let freshnessSeconds: number | undefined;
  await waitFor(
    'the canary receipt (every event before it committed)',
    async () => {
      showProgress();
      const receipt = filesUnder(path.join(lake, RECEIPTS_PREFIX, source))
        .map((f) => parseReceiptKey(`${RECEIPTS_PREFIX}${source}/${f}`))
        .find(Boolean);
      if (receipt) freshnessSeconds = (receipt.committedAtMs - receipt.publishedAtMs) / 1000;
      return receipt !== undefined;
    },
    300_000,
    2_000,
  );

  // The rows, with DuckDB, from the data files of the table (append-only here: no compaction ran in these minutes);
  // their count is checked against the current snapshot's total-records.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const dataFiles = filesUnder(path.join(tableDir, 'data')).filter((f) => f.endsWith('.parquet')).map((f) => path.join(tableDir, 'data', f));
  const list = dataFiles.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
  const rows = dataFiles.length > 0 ? ((await db.runAndReadAll(`SELECT * FROM read_parquet([${list}])`)).getRowObjectsJson() as Array<Record<string, unknown>>) : [];
  db.closeSync();
  const snapshot = currentSnapshot(tableDir);
  const errorLines = filesUnder(jobErrors)
    .filter((f) => !path.basename(f).startsWith('.'))
    .flatMap((f) => fs.readFileSync(path.join(jobErrors, f), 'utf8').split('\n').filter(Boolean));

  const accounting = await landingAccounting({
    uploads: [first, replay],
    s3,
    errorBucket: buckets.errors,
    jobReasons: errorLines.map((l) => l.slice(0, 120)),
    committedIds: rows.map((r) => String(r[idField])),
    batch,
  });
  if (snapshot?.totalRecords !== accounting.committed) accounting.unaccounted.push(`the current snapshot holds ${snapshot?.totalRecords} rows, its data files ${accounting.committed}`);

  return {
    pipeline: NAME,
    source,
    ...accounting,
    freshnessSeconds,
    rows: rows.slice(0, 5),
    locations: [
      ['Iceberg table', `${database}.${table} = ${tableDir} (Hadoop catalog; ${dataFiles.length} Parquet files, ${snapshot?.snapshots ?? 0} snapshots)`],
      ['job errors', jobErrors],
      ['landing bucket', `s3://${buckets.landing}/${source}/ = ${path.join(dir, 's3', buckets.landing)}`],
      ['error bucket', `s3://${buckets.errors}/invalid/source=${source}/ = ${path.join(dir, 's3', buckets.errors)}`],
      ['freshness receipts', path.join(lake, RECEIPTS_PREFIX, source)],
      ['Flink log', flinkLog],
    ],
    notes: ['one topic partition here (the stack creates mskToIceberg.topic.partitions); a Hadoop catalog on disk stands in for Glue'],
  };
}
