/**
 * Measures what loading @cdktf/provider-google costs: the deep imports the GCP app uses vs the package root index.
 * Each variant runs in a fresh Node process (module caches would otherwise hide the cost), several times; we report
 * the median wall time of the require() calls and the resident memory growth.
 *
 *   npx tsx scripts/gcp-import-cost.ts [runs]
 */
import { execFileSync } from 'child_process';

const DEEP = [
  '@cdktf/provider-google/lib/provider',
  '@cdktf/provider-google/lib/pubsub-topic',
  '@cdktf/provider-google/lib/pubsub-subscription',
  '@cdktf/provider-google/lib/bigquery-dataset',
  '@cdktf/provider-google/lib/bigquery-table',
  '@cdktf/provider-google/lib/storage-bucket',
  '@cdktf/provider-google/lib/service-account',
  '@cdktf/provider-google/lib/monitoring-alert-policy',
  '@cdktf/provider-google-beta/lib/provider',
  '@cdktf/provider-google-beta/lib/google-dataflow-flex-template-job',
];
const VARIANTS: Record<string, string[]> = {
  'cdktf only (baseline)': ['cdktf'],
  'deep imports (what bin/gcp.ts loads)': ['cdktf', ...DEEP],
  'root index @cdktf/provider-google': ['cdktf', '@cdktf/provider-google'],
  'root indexes google + google-beta': ['cdktf', '@cdktf/provider-google', '@cdktf/provider-google-beta'],
};

function measure(modules: string[]): { ms: number; rssMb: number } {
  const probe = `
    const rss = process.memoryUsage().rss, t = process.hrtime.bigint();
    for (const m of ${JSON.stringify(modules)}) require(m);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(JSON.stringify({ ms, rssMb: (process.memoryUsage().rss - rss) / 2 ** 20 }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = Number(process.argv[2] ?? 5);
console.log(`node ${process.version}, ${runs} runs each, median:`);
for (const [name, modules] of Object.entries(VARIANTS)) {
  const results = Array.from({ length: runs }, () => measure(modules));
  const ms = median(results.map((r) => r.ms));
  const rss = median(results.map((r) => r.rssMb));
  console.log(`  ${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms  ${rss.toFixed(0).padStart(5)} MB RSS`);
}
