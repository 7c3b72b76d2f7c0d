/**
 * `npm test`: every test of the project, after the type check. Four suites: jest (constructs, stacks, handlers,
 * integration against local emulators), the Spark job on local Spark + Delta (pytest), the Flink job on a Flink mini
 * cluster with a KRaft broker and Iceberg (Maven), and the package (jest's test/library and test/release: the library
 * packed, installed into fresh apps and synthesized there; its API reference; what `npm publish` would ship). The engine suites spend most
 * of their time waiting on triggers and checkpoints, and the package suite on npm, the CDK CLI and the linters, so they
 * run beside jest (one after the other); their output is kept in .test-logs/ and summed up here. Ends with one line
 * "N passed, N failed" over all of them, and a non-zero exit if any suite failed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const LOGS = path.join(ROOT, '.test-logs');

interface Suite {
  name: string;
  command: string;
  args: string[];
  /** Counts from the suite's output. */
  count: (output: string) => { passed: number; failed: number };
}

const sum = (output: string, pattern: RegExp) => [...output.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);

/** The package's tests: beside jest, not in it (they pack and build lib/, so one at a time; TypeDoc and npm are heavy). */
const PACKAGE_TESTS = ['test/library', 'test/release'];

const countJest = (output: string) => {
  const line = /^Tests:\s+(.*)$/m.exec(output)?.[1] ?? '';
  return { passed: Number(/(\d+) passed/.exec(line)?.[1] ?? 0), failed: Number(/(\d+) failed/.exec(line)?.[1] ?? 0) };
};

const JEST: Suite = {
  name: 'jest',
  command: path.join(ROOT, 'node_modules', '.bin', 'jest'),
  args: [`--testPathIgnorePatterns=<rootDir>/(${PACKAGE_TESTS.join('|')})/`, ...process.argv.slice(2)],
  count: countJest,
};

const ENGINES: Suite[] = [
  {
    name: 'spark-delta (pytest)',
    command: path.join(ROOT, '.venv', 'bin', 'python'),
    args: ['-m', 'pytest', 'pipelines/kinesis-to-delta-lake/job', '-p', 'no:cacheprovider'],
    count: (output) => {
      const line = output.trim().split('\n').reverse().find((l) => /=+ .*(passed|failed|error)/.test(l)) ?? '';
      return { passed: sum(line, /(\d+) passed/g), failed: sum(line, /(\d+) (?:failed|errors?)/g) };
    },
  },
  {
    name: 'flink-iceberg (maven)',
    command: 'mvn',
    args: ['-B', '-ntp', '-T1', '-f', 'pipelines/msk-to-iceberg/job/pom.xml', 'verify'],
    // Surefire and failsafe each print a total ("Tests run: N, Failures: F, Errors: E, Skipped: S") after "Results:".
    count: (output) => {
      const totals = [...output.matchAll(/Results:[\s\S]*?Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)/g)];
      const run = totals.reduce((n, m) => n + Number(m[1]), 0);
      const failed = totals.reduce((n, m) => n + Number(m[2]) + Number(m[3]), 0);
      const skipped = totals.reduce((n, m) => n + Number(m[4]), 0);
      return { passed: run - failed - skipped, failed };
    },
  },
  {
    name: 'package (jest)',
    command: path.join(ROOT, 'node_modules', '.bin', 'jest'),
    args: ['--runInBand', ...PACKAGE_TESTS],
    count: countJest,
  },
];

/** Runs a suite; its output goes to the console (`echo`) or only to its log file. */
function run(suite: Suite, echo: boolean): Promise<{ suite: Suite; code: number; output: string; seconds: number }> {
  const started = Date.now();
  const log = fs.createWriteStream(path.join(LOGS, `${suite.name.split(' ')[0]}.log`));
  return new Promise((resolve) => {
    const child = spawn(suite.command, suite.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      log.write(chunk);
      if (echo) stream.write(chunk);
    };
    child.stdout.on('data', collect(process.stdout));
    child.stderr.on('data', collect(process.stderr));
    child.on('error', (err) => {
      output += `\n${suite.command} could not be started: ${err.message}\n`;
    });
    child.on('close', (code) => {
      log.end();
      resolve({ suite, code: code ?? 1, output, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

async function main(): Promise<void> {
  fs.mkdirSync(LOGS, { recursive: true });
  const engines = (async () => {
    const results = [];
    for (const suite of ENGINES) results.push(await run(suite, false));
    return results;
  })();
  const jest = await run(JEST, true);
  const results = [jest, ...(await engines)];

  let passed = 0;
  let failed = 0;
  console.log('\nTest suites');
  for (const { suite, code, output, seconds } of results) {
    const counts = suite.count(output);
    // A suite that exits non-zero has failed, whatever it counted (it may have died before counting).
    const suiteFailed = code !== 0 ? Math.max(counts.failed, 1) : counts.failed;
    passed += counts.passed;
    failed += suiteFailed;
    console.log(`  ${suite.name}: ${counts.passed} passed, ${suiteFailed} failed, ${seconds} s${code !== 0 ? ` (exit ${code})` : ''}`);
    if (suite !== JEST && code !== 0) {
      console.log(`\n--- ${suite.name}: last lines of .test-logs/${suite.name.split(' ')[0]}.log ---`);
      console.log(output.trim().split('\n').slice(-60).join('\n'));
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(results.every((r) => r.code === 0) && passed > 0 ? 0 : 1);
}

void main();
