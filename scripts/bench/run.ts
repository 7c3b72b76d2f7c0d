/**
 * `npm run bench`: throughput of the landing validator against the floor of plain `JSON.parse` on the same lines,
 * and peak memory while validating a 1 GiB object.
 *
 *   BENCH_BYTES      size of the throughput object (default 128 MiB; at least 100 MB is the point)
 *   BENCH_RSS_BYTES  size of the object of the memory run (default 1 GiB), validated in a child process
 *
 * Targets: validator throughput at least half of the floor; peak RSS under 256 MiB. Exits 1 when one is missed.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ndjsonChunks, runPipeline } from './pipeline';

const MiB = 1024 * 1024;
const THROUGHPUT_BYTES = Number(process.env.BENCH_BYTES ?? 128 * MiB);
const RSS_BYTES = Number(process.env.BENCH_RSS_BYTES ?? 1024 * MiB);
const RATIO_TARGET = 0.5;
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
  console.log(`  ratio validator/floor ${fmt(ratio, 2)}   target >= ${RATIO_TARGET}: ${ratio >= RATIO_TARGET ? 'PASS' : 'FAIL'}`);
  console.log(`  ratio validator/floor incl. line cutting ${fmt(streamRatio, 2)}`);

  console.log(`\nPeak memory while validating a ${fmt(RSS_BYTES / MiB)} MiB object (child process)...`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'rss-child.ts')], {
    env: { ...process.env, BENCH_RSS_BYTES: String(RSS_BYTES) },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (child.status !== 0) throw new Error(`memory run failed (${child.status ?? child.signal}): ${child.stderr}`);
  const mem = JSON.parse(child.stdout.trim().split('\n').pop()!);
  const rssOk = mem.peakRssBytes < RSS_TARGET;
  console.log(
    `  ${fmt(mem.outcome.read)} events (${fmt(mem.outcome.invalid)} invalid, ${fmt(mem.errorFileBytes / MiB, 1)} MiB of error file) ` +
      `in ${fmt(mem.seconds, 1)} s, generation included`,
  );
  console.log(`  peak RSS ${fmt(mem.peakRssBytes / MiB, 1)} MiB   target < 256 MiB: ${rssOk ? 'PASS' : 'FAIL'}`);

  if (ratio < RATIO_TARGET || !rssOk) process.exitCode = 1;
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
