import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseConfig, readCdkJsonContext } from '../../platform/config';
import { formatMarkdown } from '../../platform/cost/format';
import { loadPrices } from '../../platform/cost/prices';
import { PIPELINES } from '../../pipelines';
import { DEFAULT_EVENT_BYTES, DEFAULT_EVENTS_PER_SECOND, main, README, report, UPDATE_COMMAND, withCostSection } from '../../scripts/cost';

const ROOT = path.join(__dirname, '..', '..');

function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('npm run cost (scripts/cost.ts)', () => {
  test(`README.md's "## Cost" table is what the command prints for the defaults (else: ${UPDATE_COMMAND})`, () => {
    const volumes = DEFAULT_EVENTS_PER_SECOND.map((eventsPerSecond) => ({ eventsPerSecond, eventBytes: DEFAULT_EVENT_BYTES }));
    const markdown = formatMarkdown(report(parseConfig(readCdkJsonContext()), loadPrices(), volumes));
    const readme = fs.readFileSync(README, 'utf8');
    const fresh = withCostSection(readme, markdown);
    if (fresh !== readme) throw new Error(`README.md's cost table is stale: run \`${UPDATE_COMMAND}\` and commit README.md`);
    // ... in its own section, right before "## Destroy".
    const headings = readme.split('\n').filter((line) => line.startsWith('## '));
    expect(headings[headings.indexOf('## Cost') + 1]).toBe('## Destroy');
    expect(run(['--markdown']).stdout).toBe(markdown);
  });

  test('the text report: every architecture the configuration builds, at both default volumes, with assumptions and the price table', () => {
    const { code, stdout } = run([]);
    expect(code).toBe(0);
    const config = parseConfig(readCdkJsonContext());
    for (const entry of PIPELINES) {
      const blocks = stdout.split('\n').filter((line) => line.startsWith('== ') && line.includes(`(${entry.name}, `));
      expect(blocks).toHaveLength(config.rdsCdcToS3 || entry.key !== 'rdsCdcToS3' ? 2 : 0);
    }
    expect(stdout).toContain('== 2. Kinesis → Spark (Glue) → Delta Lake (kinesis-to-delta-lake, AWS) · sources: clickstream · 100 events/s of 1,000 bytes ==');
    expect(stdout).toContain('Prices: AWS us-east-1 (recorded ');
    expect(stdout).toContain('Assumptions:\n  - 730 hours a month');
    expect(stdout).toMatch(/^ {2}Total +\$[\d,.]+$/m);
  });

  test('--json: every line item, totals that are their sums, the volumes asked for', () => {
    const { code, stdout } = run(['--events-per-second', '1000,100000', '--event-bytes', '500', '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.volumes).toEqual([
      { eventsPerSecond: 1000, eventBytes: 500 },
      { eventsPerSecond: 100_000, eventBytes: 500 },
    ]);
    expect(json.prices.aws.region).toBe('us-east-1');
    expect(json.estimates.length).toBeGreaterThanOrEqual(2);
    for (const e of json.estimates) {
      expect(e.totalUsd).toBeCloseTo(e.items.reduce((s: number, i: { monthlyUsd: number }) => s + i.monthlyUsd, 0), 6);
      for (const item of e.items) expect(item.monthlyUsd).toBeCloseTo(item.quantity * item.unitPrice, 6);
    }
    // Ten times the events, at least five times the cost for every streaming architecture.
    const total = (key: string, eps: number) => json.estimates.find((e: { key: string; volume: { eventsPerSecond: number } }) => e.key === key && e.volume.eventsPerSecond === eps).totalUsd;
    expect(total('kinesisToDeltaLake', 100_000)).toBeGreaterThan(5 * total('kinesisToDeltaLake', 1000));
  });

  test('every price in the table has a positive amount, a unit and an https source', () => {
    const prices = loadPrices();
    for (const cloud of ['aws', 'gcp'] as const) {
      expect(prices[cloud].recorded).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      for (const [key, p] of Object.entries(prices[cloud].prices)) {
        expect([key, p.usd > 0, p.per.length > 0, /^https:\/\/(aws\.amazon\.com|cloud\.google\.com)\//.test(p.source)]).toEqual([key, true, true, true]);
      }
    }
  });

  test.each([
    [['--events-per-second', 'lots'], '--events-per-second "lots": expected whole numbers of events per second from 1 to 10,000,000'],
    [['--events-per-second', '0'], '--events-per-second "0": expected whole numbers'],
    [['--events-per-second', '100,,1000'], '--events-per-second "100,,1000": expected whole numbers'],
    [['--events-per-second', '100,100'], '--events-per-second "100,100": expected each rate once'],
    [['--events-per-second'], '--events-per-second needs a value'],
    [['--event-bytes', '2000000'], '--event-bytes "2000000": expected a whole number of bytes per event from 1 to 1,048,576'],
    [['--event-bytes', '1.5'], '--event-bytes "1.5": expected a whole number'],
    [['--bogus'], 'unknown flag --bogus: expected --events-per-second, --event-bytes, --json, --markdown or --update-readme'],
    [['--json', '--markdown'], '--json and --markdown: expected at most one output flag'],
    [['--markdown', '--event-bytes', '200'], "--markdown: the README's table is for the defaults"],
  ])('%j fails with exit 2 naming the flag', (argv, message) => {
    const { code, stdout, stderr } = run(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`cost: ${message}`);
    expect(stderr).toContain('Usage: npm run cost --');
  });

  test('as a command: a bad flag exits 2 on stderr', () => {
    const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/cost.ts', '--event-bytes', 'big'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cost: --event-bytes "big": expected a whole number of bytes per event');
  });
});
