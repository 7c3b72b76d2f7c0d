/**
 * Pipeline 2 on this machine: s3rver (landing, error and lake buckets, kept on disk under the demo's directory),
 * kinesalite (the stream), the real landing validator (processObject with the Lambda's own publisher, KinesisWriter)
 * and the real PySpark job (the Glue entry script with the construct's arguments and local endpoints, run by
 * scripts/demo/spark_delta_driver.py on a local Spark with Delta, as the job's tests run it). The Delta tables are
 * local directories: Spark's S3A against s3rver is not what the tests exercise either.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KinesisWriter } from '../../platform/handlers/kinesis-writer';
import { sourcesFeeding } from '../../platform/config';
import { PROJECT_ROOT } from '../../platform/paths';
import { dataSource } from '../../platform/data-source';
import { canaryEvent } from '../../platform/freshness/canary';
import { parseReceiptKey, RECEIPTS_PREFIX } from '../../platform/freshness/contract';
import { canaryTemplate } from '../../platform/freshness/template';
import { pipeline as registryEntry, stackName } from '../../pipelines';
import { startKinesalite } from '../../test/integration/emulators';
import { Accounting, DEMO_RETRY, DemoContext, demoBatch, landingAccounting, localValidator, progress, uploadThroughValidator, waitFor } from './common';

const NAME = 'pipeline 2 (landing zone -> Kinesis -> Spark -> Delta)';
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
/** s3rver's own key pair (it refuses any other); kinesalite accepts any. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** The first run resolves Delta and the Kinesis connector from ~/.ivy2; a cold JVM on 2 busy cores is slow. */
const ENGINE_TIMEOUT_MS = 600_000;

export async function runKinesisToDeltaLake(ctx: DemoContext): Promise<Accounting[]> {
  const sources = ctx.sources ?? sourcesFeeding(ctx.config, 'kinesisToDeltaLake');
  const results: Accounting[] = [];
  for (const source of sources) results.push(await runSource(ctx, source));
  return results;
}

/** s3rver with `buckets`, storing under `directory`, which stays for the user to look at. */
async function startS3rver(directory: string, buckets: string[]): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver');
  fs.mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = (await server.run()) as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

/** The Spark driver process and its line protocol (spark_delta_driver.py). */
interface Engine {
  ask(cmd: 'status' | 'report' | 'stop'): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function startEngine(jobArgv: string[], workDir: string, env: Record<string, string>, stderrLog: string): Engine {
  const python = path.join(PROJECT_ROOT, '.venv', 'bin', 'python');
  // The project's venv (PySpark, Delta), as npm test sets it up: a no-op once done, pip installs on a fresh clone.
  const setup = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'setup', 'python-venv.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (setup.status !== 0 || !fs.existsSync(python)) throw new Error(`scripts/setup/python-venv.sh failed (${setup.status}): ${python} is needed for the Spark job`);
  const log = fs.createWriteStream(stderrLog);
  const child: ChildProcess = spawn(python, [path.join(__dirname, 'spark_delta_driver.py'), JSON.stringify(jobArgv), path.join(workDir, 'spark-warehouse')], {
    cwd: workDir,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(log);
  const waiting: Array<(m: Record<string, unknown>) => void> = [];
  let exited: string | undefined;
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('@@')) waiting.shift()?.(JSON.parse(line.slice(2)));
  });
  child.once('exit', (code, signal) => {
    exited = `the Spark driver exited (${signal ?? code}); its log: ${stderrLog}`;
    for (const w of waiting.splice(0)) w({ failed: exited });
  });
  const engine: Engine = {
    ask: (cmd) =>
      new Promise((resolve) => {
        if (exited) return resolve({ failed: exited });
        waiting.push(resolve);
        child.stdin!.write(JSON.stringify({ cmd }) + '\n');
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end(JSON.stringify({ cmd: 'stop' }) + '\n');
      const timer = setTimeout(() => child.kill('SIGTERM'), 60_000);
      const force = setTimeout(() => child.kill('SIGKILL'), 70_000);
      await gone;
      clearTimeout(timer);
      clearTimeout(force);
    },
  };
  return engine;
}

async function runSource(ctx: DemoContext, source: string): Promise<Accounting> {
  const ds = dataSource(ctx.config, source, 'kinesisToDeltaLake');
  const { idField } = ds;
  const stack = stackName(registryEntry('kinesisToDeltaLake'), ctx.config);
  const lower = stack.toLowerCase();
  const buckets = { landing: `${lower}-landing`, errors: `${lower}-errors`, lake: `${lower}-lake` };
  const streamName = `${stack}-${source}`;
  const dir = path.join(ctx.workDir, 'kinesis-to-delta-lake');
  const lakeDir = path.join(dir, 'lake', source);

  progress(NAME, `starting s3rver (buckets ${Object.values(buckets).join(', ')}) and kinesalite (stream ${streamName})`);
  const s3rver = await startS3rver(path.join(dir, 's3'), Object.values(buckets));
  ctx.onStop('s3rver', () => s3rver.stop());
  const kinesalite = await startKinesalite();
  ctx.onStop('kinesalite', () => kinesalite.stop());
  const s3 = new S3Client({ region: REGION, endpoint: s3rver.endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  const kinesis = new KinesisClient({ region: REGION, endpoint: kinesalite.endpoint, credentials: CREDENTIALS, requestHandler: new NodeHttpHandler() });
  ctx.onStop('SDK clients', () => {
    s3.destroy();
    kinesis.destroy();
  });
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));

  const deps = localValidator(s3, ds, buckets.errors, async () =>
    new KinesisWriter({ client: kinesis, streamArn: `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${streamName}`, retry: DEMO_RETRY }),
  );
  const upload = (key: string, lines: string[]) => uploadThroughValidator(NAME, deps, buckets.landing, key, lines, streamName);

  // The job, with the arguments the construct passes (construct/job.ts, contract.json) and the local ones its tests use.
  const job = ctx.config.kinesisToDeltaLake;
  const jobArgv = [
    '--JOB_NAME', `${stack}-${source}`,
    '--source', source,
    '--schema-path', ds.schemaFile,
    '--event-time-field', ds.eventTimeField!,
    '--id-field', idField,
    '--table-path', path.join(lakeDir, 'events'),
    '--error-path', path.join(lakeDir, 'errors'),
    '--checkpoint-location', path.join(lakeDir, 'checkpoint'),
    '--trigger-interval', `${job.job.triggerIntervalSeconds} seconds`,
    '--watermark-delay', `${job.job.watermarkDelayMinutes} minutes`,
    '--source-adapter', 'spark-kinesis',
    '--stream-name', streamName,
    '--region', REGION,
    '--kinesis-endpoint', kinesalite.endpoint,
    '--metrics', 'false',
    '--freshness-receipts-path', `s3://${buckets.lake}/`,
    '--s3-endpoint', s3rver.endpoint,
  ];
  const sparkLog = path.join(dir, 'spark.log');
  progress(NAME, `starting the PySpark job (glue_stream_job.py) on local Spark + Delta; its log: ${sparkLog}`);
  const engine = startEngine(jobArgv, dir, {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    AWS_CBOR_DISABLE: 'true',
  }, sparkLog);
  ctx.onStop('Spark job', () => engine.stop());
  const status = async () => {
    const s = await engine.ask('status');
    if (s.failed) throw new Error(String(s.failed));
    return s as { running: boolean; inputRows: number; batches: number; tableVersion: number };
  };

  const batch = demoBatch(ctx.config, source, ctx.eventsPerSource);
  const first = await upload(`${source}/demo/batch-1.ndjson`, batch.lines);
  let published = first.published;
  let lastShown = '';
  const readAll = (what: string) =>
    waitFor(
      what,
      async () => {
        const s = await status();
        const line = `Spark: ${s.running ? 'running' : 'starting'}, ${s.batches} micro-batches, ${s.inputRows} of ${published} records read, table version ${s.tableVersion}`;
        if (line !== lastShown) progress(NAME, (lastShown = line));
        return s.inputRows >= published;
      },
      ENGINE_TIMEOUT_MS,
      2_000,
    );
  await readAll('the job to read the first upload');
  const replay = await upload(`${source}/demo/batch-1-replayed.ndjson`, batch.replay);
  published += replay.published;
  await readAll('the job to read the replayed batch');

  // Freshness: a canary through the whole path (landing bucket, validator, stream, job), as the canary function sends it.
  const publishedAt = Date.now();
  const canary = canaryEvent({ source, template: canaryTemplate(ds), idField, eventTimeField: ds.eventTimeField }, publishedAt);
  await upload(`${source}/_canary/${publishedAt}.ndjson`, [JSON.stringify(canary)]);
  let freshnessSeconds: number | undefined;
  await waitFor(
    'the canary receipt',
    async () => {
      const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: buckets.lake, Prefix: `${RECEIPTS_PREFIX}${source}/` }));
      const receipt = (Contents ?? []).map((o) => parseReceiptKey(o.Key!)).find(Boolean);
      if (receipt) freshnessSeconds = (receipt.committedAtMs - receipt.publishedAtMs) / 1000;
      return receipt !== undefined;
    },
    120_000,
    1_000,
  ).catch((err: Error) => progress(NAME, `freshness not measured: ${err.message}`));

  const report = (await engine.ask('report')) as {
    failed?: string;
    ids: string[];
    sample: Array<Record<string, unknown>>;
    errors: Array<Record<string, unknown>>;
    tableFiles: string[];
    history: Array<{ version: number; operation: string }>;
  };
  if (report.failed) throw new Error(report.failed);
  await engine.stop();

  // Accounting: each event sent is rejected by the validator (error bucket), by the job (its errors table), or its id
  // is in the events table, once however often it was sent.
  const accounting = await landingAccounting({
    uploads: [first, replay],
    s3,
    errorBucket: buckets.errors,
    jobReasons: report.errors.map((e) => String(e.reason)),
    committedIds: report.ids,
    batch,
  });

  return {
    pipeline: NAME,
    source,
    ...accounting,
    freshnessSeconds,
    rows: report.sample,
    locations: [
      ['Delta table (events)', `${path.join(lakeDir, 'events')} (${report.tableFiles.length} Parquet files, ${report.history.length} versions)`],
      ['Delta table (errors)', path.join(lakeDir, 'errors')],
      ['checkpoint', path.join(lakeDir, 'checkpoint')],
      ['landing bucket', `s3://${buckets.landing}/${source}/ = ${path.join(dir, 's3', buckets.landing)}`],
      ['error bucket', `s3://${buckets.errors}/invalid/source=${source}/ = ${path.join(dir, 's3', buckets.errors)}`],
      ['freshness receipts', `s3://${buckets.lake}/${RECEIPTS_PREFIX}${source}/`],
      ['Spark log', sparkLog],
    ],
    notes: [`the canary counts as read by the job but is kept out of the table (one receipt instead)`],
  };
}
