/**
 * Child process of `npm run bench`: validates a generated object of BENCH_RSS_BYTES bytes (streamed, never held in
 * memory) and prints one JSON line with the counts and the process's peak resident set size.
 */
import { ndjsonChunks, runPipeline } from './pipeline';

async function main(): Promise<void> {
  const bytes = Number(process.env.BENCH_RSS_BYTES);
  if (!Number.isFinite(bytes) || bytes <= 0) throw new Error('BENCH_RSS_BYTES must be a positive number');
  const started = process.hrtime.bigint();
  const run = await runPipeline(() => ndjsonChunks(bytes));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // maxRSS is in KiB.
  process.stdout.write(`${JSON.stringify({ ...run, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
