/**
 * Child process of `npm run bench`: validates a generated object of BENCH_RSS_BYTES bytes (streamed, never held in
 * memory) and prints one JSON line with the counts and the process's peak resident set size.
 */
import * as fs from 'node:fs';
import { ndjsonChunks, runPipeline } from './pipeline';

/**
 * This process's own peak RSS. Linux keeps getrusage's maxRSS across fork and exec, so a child spawned by a parent
 * holding the throughput data would report the parent's size; VmHWM is the high-water mark of this process image.
 */
function peakRssBytes(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(fs.existsSync('/proc/self/status') ? fs.readFileSync('/proc/self/status', 'utf8') : '');
  return (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) * 1024; // both in KiB
}

async function main(): Promise<void> {
  const bytes = Number(process.env.BENCH_RSS_BYTES);
  if (!Number.isFinite(bytes) || bytes <= 0) throw new Error('BENCH_RSS_BYTES must be a positive number');
  const started = process.hrtime.bigint();
  const run = await runPipeline(() => ndjsonChunks(bytes));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${JSON.stringify({ ...run, seconds, peakRssBytes: peakRssBytes() })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
