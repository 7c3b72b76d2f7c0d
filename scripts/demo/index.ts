/**
 * `npm run demo [-- <pipeline>] [--events N]`: the platform on this machine. Starts the local stand-ins the tests use,
 * creates what each stack would create (named from cdk.json), sends each source's sample events with a few invalid
 * ones, a duplicate and a replayed batch, runs the real validator, engines and consumer, and prints per pipeline and
 * source what was read, published, rejected, deduplicated and committed, the freshness, and the rows a user queries.
 *
 * Exits 1 when any event is unaccounted for (or a pipeline fails), 130 on Ctrl-C; stops everything it started.
 * Pipelines: queueToS3 (1), kinesisToDeltaLake (2), rdsCdcToS3 (3, not runnable: DMS), gcp (4, not runnable: Google
 * Cloud; its schema mapping and UDF are shown), mskToIceberg (5).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isBuilt, parseConfig, readCdkJsonContext } from '../../platform/config';
import { PIPELINES } from '../../pipelines';
import { Accounting, balanced, DemoContext, printReport } from './common';
import { runKinesisToDeltaLake } from './kinesis-to-delta-lake';
import { runMskToIceberg } from './msk-to-iceberg';
import { showPubSubToBigQuery, showRdsCdcToS3 } from './not-local';
import { runQueueToS3 } from './queue-to-s3';

type Step = { key: string; number: number; run: (ctx: DemoContext) => Promise<Accounting[]> | void };

const STEPS: Step[] = [
  { key: 'queueToS3', number: 1, run: runQueueToS3 },
  { key: 'kinesisToDeltaLake', number: 2, run: runKinesisToDeltaLake },
  { key: 'rdsCdcToS3', number: 3, run: showRdsCdcToS3 },
  { key: 'gcp', number: 4, run: showPubSubToBigQuery },
  { key: 'mskToIceberg', number: 5, run: runMskToIceberg },
];

const USAGE = `usage: npm run demo [-- <pipeline>] [--events N] [--source NAME]
  pipeline: ${STEPS.map((s) => `${s.key} (${s.number})`).join(', ')}; default: every pipeline cdk.json builds`;

function parseArgs(argv: string[]): { steps: Step[]; events?: number; source?: string } {
  let events: number | undefined;
  let source: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--events') events = Number(argv[++i]);
    else if (argv[i] === '--source') source = argv[++i];
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else names.push(argv[i]);
  }
  if (events !== undefined && !(Number.isInteger(events) && events > 0)) throw new Error(`--events: expected a positive integer\n${USAGE}`);
  const steps = names.map((name) => {
    const step = STEPS.find((s) => s.key === name || String(s.number) === name);
    if (!step) throw new Error(`unknown pipeline "${name}"\n${USAGE}`);
    return step;
  });
  return { steps, events, source };
}

/** Set on SIGINT/SIGTERM: the run ends with 130 whatever the interrupted pipeline then reports. */
let interrupted = false;

async function main(): Promise<number> {
  const config = parseConfig(readCdkJsonContext());
  const args = parseArgs(process.argv.slice(2));
  if (args.source && !config.sources[args.source]) throw new Error(`--source: "${args.source}" is not a source of cdk.json (${Object.keys(config.sources).join(', ')})`);
  const built = (key: string) => PIPELINES.some((p) => p.key === key && isBuilt(p, config));
  const steps = args.steps.length > 0 ? args.steps : STEPS.filter((s) => built(s.key));

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-foundry-demo-'));
  const stops: Array<{ what: string; stop: () => Promise<void> | void }> = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const { what, stop } of stops.reverse()) {
        try {
          await stop();
        } catch (err) {
          console.error(`stopping ${what} failed: ${(err as Error).message}`);
        }
      }
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: stopping what the demo started`);
      void stopAll().then(() => process.exit(130));
    });
  }

  console.log(`Stream Foundry demo: ${steps.map((s) => `pipeline ${s.number} (${s.key})`).join(', ')}; outputs under ${workDir}`);
  const results: Accounting[] = [];
  let failed = false;
  try {
    for (const step of steps) {
      const ctx: DemoContext = {
        config,
        workDir,
        eventsPerSource: args.events,
        sources: args.source ? [args.source] : undefined,
        onStop: (what, stop) => stops.push({ what, stop }),
      };
      if (ctx.sources && !config.sources[ctx.sources[0]].pipelines.includes(step.key as never)) {
        console.log(`\n== pipeline ${step.number}: source ${ctx.sources[0]} does not feed it in cdk.json; skipped`);
        continue;
      }
      try {
        const accounted = await step.run(ctx);
        for (const a of accounted ?? []) {
          printReport(a);
          results.push(a);
        }
      } catch (err) {
        failed = true;
        console.error(`\npipeline ${step.number} (${step.key}) failed: ${(err as Error).stack ?? err}`);
      }
      await stopAll();
      stopping = undefined;
      stops.length = 0;
    }
  } finally {
    await stopAll();
  }
  // Pipelines 1, 3 and 4 leave nothing on disk.
  if (fs.readdirSync(workDir).length === 0) fs.rmdirSync(workDir);
  const kept = fs.existsSync(workDir) ? ` Outputs kept under ${workDir} (delete it when done).` : '';
  const unbalanced = results.filter((a) => !balanced(a));
  console.log('');
  console.log(
    unbalanced.length === 0 && !failed
      ? `Every event accounted for in ${results.length} pipeline run(s).${kept}`
      : `FAILED: ${failed ? 'a pipeline failed' : ''}${unbalanced.map((a) => ` ${a.pipeline}/${a.source} does not balance`).join(';')}`,
  );
  return unbalanced.length === 0 && !failed ? 0 : 1;
}

main().then(
  (code) => process.exit(interrupted ? 130 : code),
  (err: Error) => {
    console.error(err.message);
    process.exit(interrupted ? 130 : 1);
  },
);
