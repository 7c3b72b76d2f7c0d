/**
 * Queue consumer benchmark (pipeline 1), against fauxqs (SQS + S3 emulator, its own process):
 *
 *   1. throughput: the consumer's esbuild bundle, run as a child process with its production defaults (but a 1 s
 *      flush age, see consumerRun), drains a queue of N clickstream messages into gzip NDJSON objects in S3 (receive,
 *      parse, partition, gzip, put, delete);
 *      compared with the floor: a bare receive-and-delete loop (same SDK, same number of concurrent pollers, a fresh
 *      process like the consumer, same emulator, same run) that does nothing with the messages. Best of
 *      BENCH_CONSUMER_ROUNDS, interleaved.
 *   2. memory: peak RSS (VmHWM) of the consumer while it buffers 10,000 messages and flushes them as one batch.
 *
 *   npx tsx scripts/bench/consumer.ts
 *   BENCH_CONSUMER_MESSAGES   messages per throughput run (default 20000, a multiple of the 10000-message batch)
 *   BENCH_CONSUMER_ROUNDS     rounds of floor + consumer (default 2)
 *   BENCH_VERBOSE             print each batch the consumer flushes
 *
 * Targets: consumer throughput at least 0.8 of the floor; peak RSS under 256 MiB. Exits 1 when one is missed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { bundleConsumer } from '../../pipelines/queue-to-s3/consumer/build';
import { ENV, METRICS_PATH } from '../../pipelines/queue-to-s3/consumer/contract';
import { SqsEmulator, startSqsEmulator } from '../../test/integration/sqs-emulator';

const MESSAGES = Number(process.env.BENCH_CONSUMER_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_CONSUMER_ROUNDS ?? 2);
const POLLERS = 4; // the consumer's default, used by the floor too
const RSS_MESSAGES = 10_000;
const RATIO_TARGET = 0.8;
const RSS_TARGET = 256 * 1024 * 1024;
const BUCKET = 'bench-lake';
const MiB = 1024 * 1024;

export interface ConsumerBenchResult {
  messages: number;
  messageBytes: number;
  pollers: number;
  floor: Run;
  consumer: Run;
  ratio: number;
  /** CPU per message of the floor loop / of the consumer (1 = the consumer costs no more CPU than the bare loop). */
  cpuRatio: number;
  rss: { messages: number; idleRssBytes: number; peakRssBytes: number; maxBuffered: number };
}

interface Run {
  seconds: number;
  perSecond: number;
  /** CPU seconds the emulator spent during the run, and the measured process (floor loop or consumer). */
  emulatorCpu: number;
  clientCpu: number;
}

const EVENT_TYPES = ['page_view', 'click', 'add_to_cart', 'purchase', 'search'];

/** A clickstream event of about 500 bytes, as publishers send them. */
function eventBody(i: number): string {
  return JSON.stringify({
    event_id: `0b7e4a52-8a1f-4c57-9a39-${i.toString(16).padStart(12, '0')}`,
    event_type: EVENT_TYPES[i % EVENT_TYPES.length],
    occurred_at: new Date(1_790_000_000_000 + i * 37).toISOString(),
    user_id: `u-${i % 50_021}`,
    session_id: `s-${i % 90_001}`,
    page: { url: `https://shop.example.com/p/sku-${i % 997}?ref=home`, referrer: null, title: 'Winter boots – size 42' },
    device: { os: i % 3 === 0 ? 'ios' : 'web', app_version: '4.12.0', screen_width: 390 + (i % 1000) },
    tags: ['boots', 'winter'],
    duration_ms: i % 10_000,
    is_bot: false,
  });
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Sends `count` messages to the queue, 10 per call, 8 calls at a time (not timed). */
async function load(sqs: SQSClient, queueUrl: string, count: number, from: number): Promise<void> {
  const calls: Array<() => Promise<unknown>> = [];
  for (let i = 0; i < count; i += 10) {
    const entries = Array.from({ length: Math.min(10, count - i) }, (_, j) => ({ Id: `m${j}`, MessageBody: eventBody(from + i + j) }));
    calls.push(() => sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));
  }
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < calls.length) await calls[next++]();
  }));
}

/**
 * The floor: POLLERS loops of ReceiveMessage (10) → DeleteMessageBatch until `count` messages are deleted, in a fresh
 * child process like the consumer (so both start with cold JIT; a loop in this process would run on an SDK already
 * warmed up by loading the queue, and look twice as cheap).
 */
async function floorRun(emu: SqsEmulator, count: number): Promise<Run> {
  const emuCpu = cpuSeconds(emu.pid);
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, FLOOR_FLAG], {
    env: { ...process.env, ...emu.sdkEnv, [ENV.queueUrl]: emu.queueUrl, BENCH_FLOOR_COUNT: String(count) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-10_000)));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`floor run failed (${code}):\n${err}`);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; cpu: number };
  return { seconds: result.seconds, perSecond: count / result.seconds, emulatorCpu: cpuSeconds(emu.pid) - emuCpu, clientCpu: result.cpu };
}

const FLOOR_FLAG = '--floor-child';

/** The floor's loop (runs in the child process of floorRun); prints its time and CPU as one JSON line. */
async function floorChild(): Promise<void> {
  const queueUrl = process.env[ENV.queueUrl]!;
  const count = Number(process.env.BENCH_FLOOR_COUNT);
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  let deleted = 0;
  const ownCpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: POLLERS }, async () => {
      while (deleted < count) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
        );
        if (Messages.length === 0) continue;
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        deleted += Messages.length;
      }
    }),
  );
  const s = seconds(start);
  const own = process.cpuUsage(ownCpu);
  process.stdout.write(`${JSON.stringify({ seconds: s, cpu: (own.user + own.system) / 1e6 })}\n`);
  sqs.destroy();
}

interface ConsumerProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  /** Resolves once batches holding `count` messages in all are written and deleted (from the consumer's debug log). */
  flushed(count: number): Promise<void>;
}

async function startConsumer(bundle: string, emu: SqsEmulator, env: Record<string, string>): Promise<ConsumerProcess> {
  const child = spawn(process.execPath, [bundle], {
    cwd: path.dirname(bundle),
    env: {
      PATH: process.env.PATH ?? '',
      ...emu.sdkEnv,
      [ENV.queueUrl]: emu.queueUrl,
      [ENV.outputBucket]: BUCKET,
      [ENV.s3ForcePathStyle]: 'true',
      [ENV.httpPort]: '0',
      [ENV.pollers]: String(POLLERS),
      [ENV.logLevel]: 'DEBUG',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-10_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Progress comes from the log ('Batch flushed' at DEBUG, once per batch), not from polling /metrics, which would
  // cost the consumer CPU while it is being measured.
  let flushedMessages = 0;
  let waiter: { count: number; resolve: () => void } | undefined;
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`consumer exited (${code}):\n${stderr}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (out + chunk.toString()).split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const entry = JSON.parse(line);
        if (entry.message === 'Listening') resolve(entry.port);
        if (entry.message === 'Batch flushed') {
          if (process.env.BENCH_VERBOSE) console.log(`    ${entry.timestamp} batch of ${entry.messages} (${entry.trigger}) flushed in ${entry.ms} ms`);
          if (!entry.ok) reject(new Error(`a batch failed: ${line}`));
          flushedMessages += entry.messages;
          if (waiter && flushedMessages >= waiter.count) waiter.resolve();
        }
      }
    });
  });
  const flushed = (count: number) =>
    new Promise<void>((resolve) => {
      if (flushedMessages >= count) resolve();
      else waiter = { count, resolve };
    });
  return { child, port, exited, flushed };
}

async function metric(c: ConsumerProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${c.port}${METRICS_PATH}`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Kilobyte fields of /proc/<pid>/status (VmRSS, VmHWM), in bytes. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function stop(c: ConsumerProcess): Promise<void> {
  c.child.kill('SIGTERM');
  const code = await c.exited;
  if (code !== 0) throw new Error(`consumer exited with ${code} on SIGTERM`);
}

/**
 * The consumer drains `count` messages; timed from its first poll to its last delete. Its defaults, but for a 1 s flush
 * age: a drain ends with a partial batch that waits out the age, a tail that would otherwise weigh up to 5 s against
 * a run of ~20 s and measure the latency setting rather than throughput.
 */
async function consumerRun(bundle: string, emu: SqsEmulator, count: number): Promise<Run> {
  const consumer = await startConsumer(bundle, emu, { [ENV.flushMaxAgeMs]: '1000' });
  const start = process.hrtime.bigint(); // it polls as soon as it listens
  const [emuCpu, ownCpu] = [cpuSeconds(emu.pid), cpuSeconds(consumer.child.pid!)];
  await consumer.flushed(count);
  const s = seconds(start);
  const [emulatorCpu, clientCpu] = [cpuSeconds(emu.pid) - emuCpu, cpuSeconds(consumer.child.pid!) - ownCpu];
  const written = await metric(consumer, 'queue_consumer_messages_written_total');
  if (written !== count) throw new Error(`consumer wrote ${written} of ${count} messages`);
  await stop(consumer);
  return { seconds: s, perSecond: count / s, emulatorCpu, clientCpu };
}

/** Peak RSS while 10,000 messages are buffered (nothing flushes before the batch is full) and then written. */
async function rssRun(bundle: string, emu: SqsEmulator, sqs: SQSClient): Promise<ConsumerBenchResult['rss']> {
  await load(sqs, emu.queueUrl, RSS_MESSAGES, 10_000_000);
  const consumer = await startConsumer(bundle, emu, {
    [ENV.flushMaxMessages]: String(RSS_MESSAGES),
    [ENV.flushMaxAgeMs]: '600000',
    [ENV.visibilityTimeoutSeconds]: '900',
  });
  const idleRssBytes = procStatus(consumer.child.pid!, 'VmRSS');
  let maxBuffered = 0;
  let done = false;
  const flushed = consumer.flushed(RSS_MESSAGES).then(() => (done = true));
  while (!done) {
    maxBuffered = Math.max(maxBuffered, await metric(consumer, 'queue_consumer_buffered_messages'));
    await new Promise((r) => setTimeout(r, 20));
  }
  await flushed;
  const peakRssBytes = procStatus(consumer.child.pid!, 'VmHWM');
  await stop(consumer);
  return { messages: RSS_MESSAGES, idleRssBytes, peakRssBytes, maxBuffered };
}

export async function runConsumerBench(log: (line: string) => void = console.log): Promise<ConsumerBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-consumer-bench-'));
  const { outfile: bundle } = bundleConsumer(path.join(dir, 'index.js'));
  const emu = await startSqsEmulator({
    topic: 'bench',
    queue: { name: 'bench', visibilityTimeoutSeconds: 60, maxReceiveCount: 10 },
    buckets: [BUCKET],
  });
  const sqs = new SQSClient({ ...emu.clientConfig, maxAttempts: 5 });
  try {
    const floors: Run[] = [];
    const consumers: Run[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await load(sqs, emu.queueUrl, MESSAGES, round * 1_000_000);
      floors.push(await floorRun(emu, MESSAGES));
      await load(sqs, emu.queueUrl, MESSAGES, round * 1_000_000 + 500_000);
      consumers.push(await consumerRun(bundle, emu, MESSAGES));
      const [f, c] = [floors.at(-1)!, consumers.at(-1)!];
      log(
        `  round ${round}: floor ${fmt(f.perSecond)} msg/s (CPU s: emulator ${fmt(f.emulatorCpu, 1)}, loop ${fmt(f.clientCpu, 1)}), ` +
          `consumer ${fmt(c.perSecond)} msg/s (CPU s: emulator ${fmt(c.emulatorCpu, 1)}, consumer ${fmt(c.clientCpu, 1)})`,
      );
    }
    const best = (runs: Run[]) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const floor = best(floors);
    const consumer = best(consumers);
    const rss = await rssRun(bundle, emu, sqs);
    const cpuPerMessage = (runs: Run[]) => Math.min(...runs.map((r) => r.clientCpu)) / MESSAGES;
    return {
      messages: MESSAGES,
      messageBytes: eventBody(0).length,
      pollers: POLLERS,
      floor,
      consumer,
      ratio: consumer.perSecond / floor.perSecond,
      cpuRatio: cpuPerMessage(floors) / cpuPerMessage(consumers),
      rss,
    };
  } finally {
    sqs.destroy();
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`Queue consumer against fauxqs: ${fmt(MESSAGES)} messages per run, ${POLLERS} pollers, best of ${ROUNDS}...`);
  const r = await runConsumerBench();
  const ratioOk = r.ratio >= RATIO_TARGET;
  const rssOk = r.rss.peakRssBytes < RSS_TARGET;
  console.log(`\nThroughput, ${fmt(r.messages)} messages of ${r.messageBytes} bytes:`);
  console.log(`  receive+delete floor  ${fmt(r.floor.perSecond).padStart(8)} msg/s  (${fmt(r.floor.seconds, 2)} s)`);
  console.log(`  consumer (to S3)      ${fmt(r.consumer.perSecond).padStart(8)} msg/s  (${fmt(r.consumer.seconds, 2)} s)`);
  console.log(`  ratio consumer/floor  ${fmt(r.ratio, 2)}   target >= ${RATIO_TARGET}: ${ratioOk ? 'PASS' : 'FAIL'}`);
  console.log(`  CPU per message, floor/consumer ${fmt(r.cpuRatio, 2)} (least CPU of the rounds on each side)`);
  console.log(`\nMemory with ${fmt(r.rss.messages)} messages buffered in one batch (max buffered seen ${fmt(r.rss.maxBuffered)}):`);
  console.log(`  RSS idle ${fmt(r.rss.idleRssBytes / MiB, 1)} MiB, peak ${fmt(r.rss.peakRssBytes / MiB, 1)} MiB   target < 256 MiB: ${rssOk ? 'PASS' : 'FAIL'}`);
  if (!ratioOk || !rssOk) process.exitCode = 1;
}

if (require.main === module) {
  (process.argv.includes(FLOOR_FLAG) ? floorChild() : main()).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
