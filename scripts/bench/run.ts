/**
 * `npm run bench`: throughput of the landing validator against the floor of plain `JSON.parse` on the same lines,
 * throughput against a local Kinesis endpoint over HTTP with and without 25 ms of latency per call, and peak memory
 * while validating a 1 GiB object.
 *
 *   BENCH_BYTES          size of the throughput object (default 128 MiB; at least 100 MB is the point)
 *   BENCH_LATENCY_BYTES  size of the object of the latency runs (default 48 MiB)
 *   BENCH_RSS_BYTES      size of the object of the memory run (default 1 GiB), validated in a child process
 *
 * Targets: validator throughput (CPU path, Kinesis stubbed in-process) at least 0.6 of the floor that does the same
 * unavoidable work (`JSON.parse` of the lines cut and decoded from the same chunks; the ratio to `JSON.parse` of
 * ready-made strings is printed too); at 25 ms per PutRecords at least 0.7 of the same run at 0 ms; peak RSS under
 * 256 MiB. Exits 1 when one is missed.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { createKinesisClient } from '../../platform/handlers/kinesis-writer';
import { ndjsonChunks, runPipeline } from './pipeline';

const MiB = 1024 * 1024;
const THROUGHPUT_BYTES = Number(process.env.BENCH_BYTES ?? 128 * MiB);
const LATENCY_BYTES = Number(process.env.BENCH_LATENCY_BYTES ?? 48 * MiB);
const RSS_BYTES = Number(process.env.BENCH_RSS_BYTES ?? 1024 * MiB);
const RATIO_TARGET = 0.6;
const LATENCY_MS = 25;
const LATENCY_RATIO_TARGET = 0.7;
const RSS_TARGET = 256 * MiB;

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  console.log(`Generating ${fmt(THROUGHPUT_BYTES / MiB)} MiB of NDJSON clickstream events...`);
  const chunks: Buffer[] = [];
  for await (const chunk of ndjsonChunks(THROUGHPUT_BYTES)) chunks.push(chunk);
  const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
  const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);

  // Best of three after a warm-up, for both, so JIT and GC noise weigh the same on each side.
  const floor = best(4, () => {
    const start = process.hrtime.bigint();
    let parsed = 0;
    for (const line of lines) if (JSON.parse(line)) parsed++;
    return { seconds: seconds(start), events: parsed };
  });
  // The same floor with the unavoidable streaming work added: cutting lines out of the byte chunks and decoding them.
  const streamFloor = best(4, () => {
    const start = process.hrtime.bigint();
    let parsed = 0;
    let carry: Buffer = Buffer.alloc(0);
    for (const chunk of chunks) {
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let from = 0;
      for (let lf = buf.indexOf(10); lf !== -1; lf = buf.indexOf(10, from)) {
        if (JSON.parse(buf.toString('utf8', from, lf))) parsed++;
        from = lf + 1;
      }
      carry = buf.subarray(from);
    }
    return { seconds: seconds(start), events: parsed };
  });
  const validator = await bestAsync(4, async () => {
    const start = process.hrtime.bigint();
    const run = await runPipeline(async function* () {
      yield* chunks;
    });
    return { seconds: seconds(start), events: run.outcome.read, run };
  });
  const { outcome, putRecordsCalls } = validator.run;
  if (outcome.read !== lines.length || outcome.valid + outcome.invalid !== outcome.read || outcome.published !== outcome.valid) {
    throw new Error(`validator lost events: ${JSON.stringify(outcome)} for ${lines.length} lines`);
  }

  const rate = (r: { seconds: number; events: number }) => ({ eventsPerSec: r.events / r.seconds, mbPerSec: bytes / 1e6 / r.seconds });
  const f = rate(floor);
  const sf = rate(streamFloor);
  const v = rate(validator);
  const ratio = v.eventsPerSec / f.eventsPerSec;
  const streamRatio = v.eventsPerSec / sf.eventsPerSec;
  console.log(`\nThroughput on ${fmt(bytes / 1e6, 1)} MB, ${fmt(lines.length)} events (${fmt(outcome.invalid)} invalid), best of 3:`);
  console.log(`  JSON.parse floor      ${fmt(f.eventsPerSec).padStart(12)} events/s  ${fmt(f.mbPerSec, 1).padStart(7)} MB/s`);
  console.log(
    `  validator (full path) ${fmt(v.eventsPerSec).padStart(12)} events/s  ${fmt(v.mbPerSec, 1).padStart(7)} MB/s   ` +
      `(${fmt(putRecordsCalls)} PutRecords calls)`,
  );
  console.log(`  JSON.parse + line cut ${fmt(sf.eventsPerSec).padStart(12)} events/s  ${fmt(sf.mbPerSec, 1).padStart(7)} MB/s   (floor incl. splitting and decoding the chunks)`);
  console.log(`  ratio validator/floor ${fmt(ratio, 2)}`);
  console.log(
    `  ratio validator/floor incl. line cutting ${fmt(streamRatio, 2)}   target >= ${RATIO_TARGET}: ${streamRatio >= RATIO_TARGET ? 'PASS' : 'FAIL'}`,
  );

  const latency = await latencyRuns();

  // Three runs, judged on the median: the peak moves with when V8's concurrent GC threads get a core; all are printed.
  console.log(`\nPeak memory while validating a ${fmt(RSS_BYTES / MiB)} MiB object (child process, 3 runs)...`);
  const runs = [0, 1, 2].map(() => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'rss-child.ts')], {
      env: { ...process.env, BENCH_RSS_BYTES: String(RSS_BYTES) },
      encoding: 'utf8',
      timeout: 10 * 60_000,
    });
    if (child.status !== 0) throw new Error(`memory run failed (${child.status ?? child.signal}): ${child.stderr}`);
    return JSON.parse(child.stdout.trim().split('\n').pop()!);
  });
  const mem = [...runs].sort((a, b) => a.peakRssBytes - b.peakRssBytes)[1];
  const rssOk = mem.peakRssBytes < RSS_TARGET;
  console.log(
    `  ${fmt(mem.outcome.read)} events (${fmt(mem.outcome.invalid)} invalid, ${fmt(mem.errorFileBytes / MiB, 1)} MiB of error file) ` +
      `in ${fmt(mem.seconds, 1)} s, generation included`,
  );
  console.log(`  peak RSS of the runs: ${runs.map((r) => fmt(r.peakRssBytes / MiB, 1)).join(', ')} MiB`);
  console.log(`  peak RSS (median) ${fmt(mem.peakRssBytes / MiB, 1)} MiB   target < 256 MiB: ${rssOk ? 'PASS' : 'FAIL'}`);

  if (streamRatio < RATIO_TARGET || latency.ratio < LATENCY_RATIO_TARGET || !rssOk) process.exitCode = 1;
}

/**
 * The validator against a local Kinesis endpoint (a child process answering PutRecords over HTTP), once answering at
 * once and once after ${LATENCY_MS} ms per call, about what a PutRecords takes from Lambda. Several calls in flight
 * should hide the latency.
 */
async function latencyRuns(): Promise<{ ratio: number }> {
  console.log(`\nAgainst a local Kinesis endpoint over HTTP (${fmt(LATENCY_BYTES / MiB)} MiB object, best of 3 each)...`);
  const chunks: Buffer[] = [];
  for await (const chunk of ndjsonChunks(LATENCY_BYTES)) chunks.push(chunk);
  const events = chunks.reduce((n, c) => n + c.toString('latin1').split('\n').length - 1, 0);
  const endpoint = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'kinesis-endpoint.ts')], {
    env: { ...process.env, BENCH_LATENCIES_MS: `0,${LATENCY_MS}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: endpoint.stdout! })[Symbol.asyncIterator]();
  const { ports } = JSON.parse((await lines.next()).value as string) as { ports: Record<string, number> };
  const rates: Record<number, number> = {};
  let published = 0;
  for (const delay of [0, LATENCY_MS]) {
    // Built as the handler builds it.
    const client = createKinesisClient({
      timeoutMs: 10_000,
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${ports[delay]}`,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    const run = await bestAsync(4, async () => {
      const start = process.hrtime.bigint();
      const r = await runPipeline(async function* () {
        yield* chunks;
      }, client);
      return { seconds: seconds(start), events: r.outcome.read, run: r };
    });
    client.destroy();
    if (run.run.outcome.read !== events || run.run.outcome.published !== run.run.outcome.valid) {
      throw new Error(`validator lost events against the endpoint: ${JSON.stringify(run.run.outcome)} for ${events} lines`);
    }
    published += 4 * run.run.outcome.published;
    rates[delay] = run.events / run.seconds;
    console.log(
      `  ${String(delay).padStart(2)} ms per PutRecords   ${fmt(rates[delay]).padStart(12)} events/s   (${fmt(run.run.putRecordsCalls)} calls, ${fmt(events)} events)`,
    );
  }
  endpoint.kill('SIGTERM');
  const counts = JSON.parse((await lines.next()).value as string) as { records: number };
  if (counts.records !== published) throw new Error(`the endpoint received ${counts.records} records, the validator published ${published}`);
  const ratio = rates[LATENCY_MS] / rates[0];
  console.log(`  ratio ${LATENCY_MS} ms / 0 ms ${fmt(ratio, 2)}   target >= ${LATENCY_RATIO_TARGET}: ${ratio >= LATENCY_RATIO_TARGET ? 'PASS' : 'FAIL'}`);
  return { ratio };
}

type Timed = { seconds: number; events: number };

function best<T extends Timed>(runs: number, fn: () => T): T {
  const results = Array.from({ length: runs }, fn).slice(1);
  return results.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

async function bestAsync<T extends Timed>(runs: number, fn: () => Promise<T>): Promise<T> {
  const results: T[] = [];
  for (let i = 0; i < runs; i++) results.push(await fn());
  return results.slice(1).reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
