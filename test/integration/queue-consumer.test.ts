/**
 * End to end against real emulated services: SNS topic → SQS queue (raw delivery, redrive to a DLQ) → the consumer's
 * esbuild bundle, run as a child process from a directory with no node_modules → gzip NDJSON objects in S3, all in
 * fauxqs (a child process too). Every message is read back from S3 and counted.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { bundleConsumer } from '../../pipelines/queue-to-s3/consumer/build';
import { ENV, HEALTH_PATH, METRICS_PATH } from '../../pipelines/queue-to-s3/consumer/contract';
import { canaryId, parseReceiptKey, RECEIPTS_PREFIX } from '../../platform/freshness/contract';
import { SqsEmulator, startSqsEmulator } from './sqs-emulator';

const BUCKET = 'lake';
let bundleDir: string;
let bundle: string;

beforeAll(async () => {
  // Outside the repository, so the bundle cannot fall back on any node_modules.
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-queue-consumer-'));
  bundle = (bundleConsumer(path.join(bundleDir, 'index.js'))).outfile;
});
afterAll(() => fs.rmSync(bundleDir, { recursive: true, force: true }));

let emulator: SqsEmulator | undefined;
const running: ConsumerProcess[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) c.child.kill('SIGKILL');
  await emulator?.stop();
  emulator = undefined;
});

interface ConsumerProcess {
  child: ChildProcess;
  port: number;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the bundle with the emulator's endpoints and `env`; resolves once it listens. */
async function startConsumer(emu: SqsEmulator, env: Record<string, string>): Promise<ConsumerProcess> {
  const child = spawn(process.execPath, [bundle], {
    cwd: bundleDir,
    env: {
      PATH: process.env.PATH ?? '',
      ...emu.sdkEnv,
      [ENV.queueUrl]: emu.queueUrl,
      [ENV.outputBucket]: BUCKET,
      [ENV.s3ForcePathStyle]: 'true',
      [ENV.httpPort]: '0',
      [ENV.receiveWaitSeconds]: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumer did not start within 15 s:\n${err}`)), 15_000);
    void exited.then(({ code }) => reject(new Error(`consumer exited (${code}) before listening:\n${err}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const entry = JSON.parse(line);
        logs.push(entry);
        if (entry.message === 'Listening') {
          clearTimeout(timer);
          resolve(entry.port as number);
        }
      }
    });
  });
  const proc = { child, port, logs, stderr: () => err, exited };
  running.push(proc);
  return proc;
}

/** The value of one metric sample in the consumer's /metrics (0 when absent). */
async function metric(c: ConsumerProcess, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${c.port}${METRICS_PATH}`)).text();
  const line = text.split('\n').find((l) => l.startsWith(sample) && /^[{ ,}]/.test(l.slice(sample.length)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Publishes `bodies` to the topic, 10 per PublishBatch call, 8 calls at a time. */
async function publish(emu: SqsEmulator, bodies: string[]): Promise<void> {
  const sns = new SNSClient(emu.clientConfig);
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches.slice(i, i + 8).map((batch) =>
        sns.send(
          new PublishBatchCommand({
            TopicArn: emu.topicArn,
            PublishBatchRequestEntries: batch.map((Message, j) => ({ Id: `e${j}`, Message })),
          }),
        ),
      ),
    );
  }
  sns.destroy();
}

const events = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ event_id: `ev-${from + i}`, n: from + i, page: `/p/${i % 37}` }));

interface LakeContents {
  keys: string[];
  data: Array<{ event_id: string }>;
  errors: Array<{ reason: string; body: string; messageId: string }>;
  /** Keys of the freshness receipts (`_freshness/...`, JSON: not read here). */
  receipts: string[];
}

/** Every line of every object in the bucket, by prefix. */
async function readLake(emu: SqsEmulator): Promise<LakeContents> {
  const s3 = new S3Client({ ...emu.clientConfig, forcePathStyle: true });
  const result: LakeContents = { keys: [], data: [], errors: [], receipts: [] };
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) {
      if (Key!.startsWith(RECEIPTS_PREFIX)) {
        result.receipts.push(Key!);
        continue;
      }
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      const lines = gunzipSync(await object.Body!.transformToByteArray())
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      result.keys.push(Key!);
      (Key!.startsWith('errors/') ? result.errors : result.data).push(...lines);
    }
    token = page.NextContinuationToken;
  } while (token);
  s3.destroy();
  return result;
}

/** Visible + in-flight + delayed messages of a queue. */
async function depth(emu: SqsEmulator, queueUrl = emu.queueUrl): Promise<number> {
  const sqs = new SQSClient(emu.clientConfig);
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  sqs.destroy();
  return Object.values(Attributes).reduce((sum, v) => sum + Number(v), 0);
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How often each event id occurs in the data lines. */
function occurrences(data: Array<{ event_id: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { event_id } of data) counts.set(event_id, (counts.get(event_id) ?? 0) + 1);
  return counts;
}

const FAST = {
  [ENV.flushMaxMessages]: '500',
  [ENV.flushMaxAgeMs]: '300',
  [ENV.visibilityTimeoutSeconds]: '4',
};

test('every message published to SNS lands in S3 exactly once, in dt/hour partitions; bad JSON goes to errors/', async () => {
  const emu = (emulator = await startSqsEmulator({
    topic: 'clicks',
    queue: { name: 'clicks', visibilityTimeoutSeconds: 4, maxReceiveCount: 5 },
    buckets: [BUCKET],
  }));
  const N = 1_000;
  const bad = ['not json', '{"event_id": "cut', '[1, 2', 'null,'];
  const bodies = events(N);
  bad.forEach((b, i) => bodies.splice(i * 200 + 7, 0, b));
  const started = Date.now();
  const consumer = await startConsumer(emu, FAST);
  await publish(emu, bodies);

  await until(async () => (await metric(consumer, 'queue_consumer_messages_deleted_total')) === N + bad.length, 'every message deleted');
  expect(await depth(emu)).toBe(0);
  const lake = await readLake(emu);
  const counts = occurrences(lake.data);
  expect(lake.data).toHaveLength(N);
  expect(counts.size).toBe(N);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  expect(lake.errors.map((e) => e.body).sort()).toEqual([...bad].sort());
  expect(lake.errors.every((e) => e.reason.startsWith('invalid_json: ') && e.messageId)).toBe(true);
  const hours = new Set([started, Date.now()].map((t) => new Date(t).toISOString()).map((iso) => `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`));
  for (const key of lake.keys) {
    expect(key).toMatch(/^(data|errors)\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/\d{8}T\d{9}Z-[0-9a-f-]{36}\.ndjson\.gz$/);
    expect(hours.has(key.split('/').slice(1, 3).join('/'))).toBe(true);
  }

  const health = await fetch(`http://127.0.0.1:${consumer.port}${HEALTH_PATH}`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', held: 0, consecutiveFailedFlushes: 0 });
  expect(await metric(consumer, 'queue_consumer_messages_received_total')).toBe(N + bad.length);
  expect(await metric(consumer, 'queue_consumer_messages_written_total{output="data"')).toBe(N);
  expect(await metric(consumer, 'queue_consumer_messages_written_total{output="error"')).toBe(bad.length);

  consumer.child.kill('SIGTERM');
  expect(await consumer.exited).toEqual({ code: 0, signal: null });
});

test('the bundle keeps freshness canaries out of the data objects and writes their receipts once their batch is written', async () => {
  const emu = (emulator = await startSqsEmulator({
    topic: 'clicks',
    queue: { name: 'clicks', visibilityTimeoutSeconds: 4, maxReceiveCount: 5 },
    buckets: [BUCKET],
  }));
  const consumer = await startConsumer(emu, { ...FAST, [ENV.sourceName]: 'clicks', [ENV.idField]: 'event_id' });
  const published = Date.now();
  const canaries = [canaryId(published - 1), canaryId(published)];
  const bodies = events(100);
  canaries.forEach((id, i) => bodies.splice(i * 50 + 3, 0, JSON.stringify({ event_id: id, n: -1, page: '/' })));
  await publish(emu, bodies);

  await until(async () => (await metric(consumer, 'queue_consumer_messages_deleted_total')) === bodies.length, 'every message deleted');
  const lake = await readLake(emu);
  expect(lake.data.map((e) => e.event_id).sort()).toEqual(events(100).map((e) => JSON.parse(e).event_id).sort());
  expect(lake.receipts.map((key) => parseReceiptKey(key))).toEqual(
    expect.arrayContaining(canaries.map((id) => ({ source: 'clicks', id, publishedAtMs: expect.any(Number), committedAtMs: expect.any(Number) }))),
  );
  expect(lake.receipts).toHaveLength(2);
  expect(await metric(consumer, 'queue_consumer_canaries_committed_total')).toBe(2);
  expect(await metric(consumer, 'queue_consumer_messages_written_total{output="data"')).toBe(100);
});

test('SIGKILL mid-batch, then a restart: no message is lost (duplicates counted and reported)', async () => {
  const emu = (emulator = await startSqsEmulator({
    topic: 'clicks',
    queue: { name: 'clicks', visibilityTimeoutSeconds: 5, maxReceiveCount: 5 },
    buckets: [BUCKET],
  }));
  const N = 2_000;
  await publish(emu, events(N));
  const env = { [ENV.flushMaxMessages]: '500', [ENV.flushMaxAgeMs]: '2000', [ENV.visibilityTimeoutSeconds]: '5' };
  const first = await startConsumer(emu, env);
  // Kill once at least one batch is written and deleted and the next one is half full.
  let atKill = { deleted: 0, buffered: 0 };
  await until(async () => {
    atKill = {
      deleted: await metric(first, 'queue_consumer_messages_deleted_total'),
      buffered: await metric(first, 'queue_consumer_buffered_messages'),
    };
    return atKill.deleted > 0 && atKill.buffered >= 200;
  }, 'a batch written and the next one buffering');
  first.child.kill('SIGKILL');
  expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
  expect(atKill.deleted).toBeLessThan(N);
  const beforeRestart = occurrences((await readLake(emu)).data);

  const restarted = await startConsumer(emu, env);
  await until(async () => (await depth(emu)) === 0 && (await metric(restarted, 'queue_consumer_buffered_messages')) === 0, 'the queue to drain');
  const lake = await readLake(emu);
  const counts = occurrences(lake.data);
  const missing = events(N).filter((e) => !counts.has(JSON.parse(e).event_id));
  const duplicated = [...counts].filter(([, count]) => count > 1);
  const duplicates = lake.data.length - counts.size;
  console.log(
    `crash test: ${N} messages; SIGKILL with ~${atKill.deleted} deleted, ~${atKill.buffered} buffered, ` +
      `${[...beforeRestart.values()].reduce((a, b) => a + b, 0)} written; after the restart ${counts.size} distinct in S3, ` +
      `${missing.length} missing, ${duplicates} duplicates`,
  );
  expect(missing).toEqual([]);
  expect(counts.size).toBe(N);
  // At least once, and no more than that: a duplicate is a message the killed process had written but not yet
  // deleted, written once more after the restart. Buffered (unwritten) messages are never duplicated.
  for (const [id, count] of duplicated) {
    expect(beforeRestart.get(id)).toBe(1);
    expect(count).toBe(2);
  }
  expect(await readDeadLetters(emu)).toBe(0);
  restarted.child.kill('SIGTERM');
  expect((await restarted.exited).code).toBe(0);
});

test('SIGTERM stops polling, flushes the buffered messages and deletes them before exiting 0', async () => {
  const emu = (emulator = await startSqsEmulator({
    topic: 'clicks',
    queue: { name: 'clicks', visibilityTimeoutSeconds: 40, maxReceiveCount: 5 },
    buckets: [BUCKET],
  }));
  const N = 1_000;
  await publish(emu, events(N));
  // Nothing flushes by itself: the batch is bigger than the queue and older than the test.
  const consumer = await startConsumer(emu, {
    [ENV.flushMaxMessages]: '100000',
    [ENV.flushMaxAgeMs]: '30000',
    [ENV.visibilityTimeoutSeconds]: '40',
  });
  await until(async () => (await metric(consumer, 'queue_consumer_buffered_messages')) === N, 'every message buffered');
  expect((await readLake(emu)).keys).toEqual([]);

  consumer.child.kill('SIGTERM');
  expect(await consumer.exited).toEqual({ code: 0, signal: null });
  // Deleted, not merely hidden: with a 40 s visibility timeout, anything undeleted would still count as in flight.
  expect(await depth(emu)).toBe(0);
  const lake = await readLake(emu);
  expect(lake.data).toHaveLength(N);
  expect(occurrences(lake.data).size).toBe(N);
  expect(consumer.logs.map((l) => l.message)).toEqual(expect.arrayContaining(['Stopping: no more polling; flushing and deleting what is buffered', 'Stopped']));
  expect(consumer.logs.find((l) => l.message === 'Stopped')).toMatchObject({ held: 0 });
});

test('a message that keeps failing reaches the dead-letter queue through the receive count, never looping forever', async () => {
  const emu = (emulator = await startSqsEmulator({
    topic: 'clicks',
    queue: { name: 'clicks', visibilityTimeoutSeconds: 2, maxReceiveCount: 2 },
    buckets: [BUCKET],
  }));
  const N = 20;
  await publish(emu, events(N));
  // Every write fails (the bucket does not exist), so no message is ever deleted by the consumer.
  const consumer = await startConsumer(emu, {
    [ENV.outputBucket]: 'no-such-bucket',
    [ENV.flushMaxAgeMs]: '100',
    [ENV.visibilityTimeoutSeconds]: '2',
  });
  await until(async () => (await depth(emu)) === 0, 'the queue to empty into the DLQ', 30_000);
  expect(await depth(emu, emu.deadLetterQueueUrl)).toBe(N);
  expect(await metric(consumer, 'queue_consumer_messages_deleted_total')).toBe(0);
  expect(await metric(consumer, 'queue_consumer_messages_failed_total{stage="write"')).toBe(2 * N); // maxReceiveCount attempts each
  expect(await metric(consumer, 'queue_consumer_messages_received_total')).toBe(2 * N);
});

test('an invalid environment stops the service at start with one clear message', async () => {
  const child = spawn(process.execPath, [bundle], {
    cwd: bundleDir,
    env: { PATH: process.env.PATH ?? '', [ENV.outputBucket]: 'Bad_Bucket', [ENV.flushMaxAgeMs]: 'soon' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  expect(code).toBe(1);
  expect(stderr).toContain('queue-consumer configuration is invalid: QUEUE_URL is required (got unset); OUTPUT_BUCKET expected an S3 bucket name');
  expect(stderr).toContain('FLUSH_MAX_AGE_MS expected a whole number from 10 to 900000 (got "soon")');
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
});

async function readDeadLetters(emu: SqsEmulator): Promise<number> {
  const sqs = new SQSClient(emu.clientConfig);
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emu.deadLetterQueueUrl, MaxNumberOfMessages: 10 }));
  sqs.destroy();
  return Messages.length;
}
