/**
 * The library as a user gets it: `npm pack` (the published tarball, built by `prepack`), installed offline into fresh
 * apps outside the repository (test/support/consumer-app.ts), written as a user writes them (test/library/apps/):
 *
 * - an AWS CDK app with `cdk init`'s tsconfig and feature flags, its own schema file and settings in cdk.json, one
 *   stack per architecture (`buildAwsApp`) and a stack of its own composed from the constructs; `cdk synth` with the
 *   library's cdk-nag gate, then cfn-lint over every template;
 * - a CDK for Terraform app building pipeline 4 from `stream-foundry/gcp` with an inline configuration; checkov over its
 *   Terraform JSON, with the findings the repository accepts (test/compliance/checkov-terraform-baseline.json).
 *
 * Nothing of the repository is on the apps' paths: the handlers are bundled from the package's compiled JavaScript
 * at the app's synth, the jobs come from the package, the schema from the app.
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../platform/paths';
import { installApp, packLibrary, pinned } from '../support/consumer-app';

const APPS = path.join(__dirname, 'apps');
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-consumer-'));
const CFN_LINT = path.join(PROJECT_ROOT, '.venv', 'bin', 'cfn-lint');
const CHECKOV = path.join(PROJECT_ROOT, '.venv-checkov', 'bin', 'checkov');
const CHECKOV_BASELINE = path.join(PROJECT_ROOT, 'test', 'compliance', 'checkov-terraform-baseline.json');

/** The AWS stacks the app's cdk.json asks for (every architecture), and the app's own. */
const AWS_STACKS = ['KinesisToDeltaLake', 'LandingZone', 'MskToIceberg', 'PaymentsLake', 'QueueToS3', 'RdsCdcToS3'];

let tarball: string;

beforeAll(() => {
  tarball = packLibrary(WORK);
}, 120_000);

afterAll(() => fs.rmSync(WORK, { recursive: true, force: true }));

/** Runs a command of the app (its own node_modules/.bin first), offline; fails the test with its output otherwise. */
function run(dir: string, command: string, args: string[], expectSuccess = true): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path.join(dir, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`, CDK_DISABLE_CLI_TELEMETRY: 'true', CHECKPOINT_DISABLE: '1' },
  });
  if (expectSuccess && result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** The fixture app copied to a fresh directory, with `cdk init`'s TypeScript settings (test types aside). */
function freshApp(name: string): string {
  const dir = path.join(WORK, name);
  fs.cpSync(path.join(APPS, name), dir, { recursive: true });
  if (name === 'gcp') fs.cpSync(path.join(APPS, 'aws', 'schemas'), path.join(dir, 'schemas'), { recursive: true });
  return dir;
}

function writeCdkInitTsconfig(dir: string, templateFrom: string): void {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(templateFrom, 'node_modules/aws-cdk/lib/init-templates/app/typescript/tsconfig.json'), 'utf8'));
  tsconfig.compilerOptions.types = ['node'];
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
}

/** The column names of every Glue table of a synthesized stack. */
function glueColumns(stack: string): string[] {
  const template = JSON.parse(fs.readFileSync(path.join(WORK, 'aws', 'cdk.out', `${stack}.template.json`), 'utf8'));
  return Object.values(template.Resources as Record<string, { Type: string; Properties: any }>) // eslint-disable-line @typescript-eslint/no-explicit-any
    .filter((r) => r.Type === 'AWS::Glue::Table')
    .flatMap((r) => r.Properties.TableInput.StorageDescriptor?.Columns ?? [])
    .map((c: { Name: string }) => c.Name);
}

/** Every file under `dir` whose text contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile() && fs.readFileSync(f, 'utf8').includes(needle));
}

describe('a fresh AWS CDK app with the library installed from its tarball', () => {
  let dir: string;
  let out: string;

  beforeAll(() => {
    dir = freshApp('aws');
    installApp(dir, tarball, { 'aws-cdk-lib': pinned('aws-cdk-lib'), constructs: pinned('constructs') }, { 'aws-cdk': pinned('aws-cdk'), tsx: pinned('tsx'), typescript: pinned('typescript'), '@types/node': pinned('@types/node') });
    writeCdkInitTsconfig(dir, dir);
    // `cdk init` writes aws-cdk-lib's recommended feature flags into cdk.json: the library is built and tested with them.
    const cdkJson = JSON.parse(fs.readFileSync(path.join(dir, 'cdk.json'), 'utf8'));
    const flags = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'aws-cdk-lib', 'recommended-feature-flags.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ ...cdkJson, context: { ...flags, ...cdkJson.context } }, null, 2));
    out = path.join(dir, 'cdk.out');
    run(dir, 'cdk', ['synth', '--quiet', '--no-notices', '--output', out]);
  }, 240_000);

  test('installs without the Terraform providers (optional peers), with one aws-cdk-lib shared by the app and the library', () => {
    expect(fs.existsSync(path.join(dir, 'node_modules', 'stream-foundry', 'lib', 'index.js'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'node_modules', 'cdktf'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'node_modules', '@cdktf'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'node_modules', 'stream-foundry', 'node_modules', 'aws-cdk-lib'))).toBe(false);
  });

  test("type-checks against the package's declarations with cdk init's tsconfig (NodeNext: the exports map)", () => {
    run(dir, 'tsc', ['-p', '.']);
  });

  test('cdk synth builds one stack per architecture and the app’s own, through the cdk-nag gate', () => {
    const templates = fs.readdirSync(out).filter((f) => f.endsWith('.template.json')).map((f) => f.replace('.template.json', ''));
    expect(templates.sort()).toEqual(AWS_STACKS);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'validation-report.json'), 'utf8'));
    for (const plugin of report.pluginReports) expect([plugin.pluginName, plugin.conclusion]).toEqual([plugin.pluginName, 'success']);
  });

  test("the README's example (Use the constructs in your own CDK app) synthesizes here as written", () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use the constructs in your own CDK app'));
    const [example, composed] = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    fs.writeFileSync(path.join(dir, 'bin', 'readme.ts'), example);
    // Through the CLI, as `cdk synth` runs it: the feature flags come from cdk.json.
    run(dir, 'cdk', ['synth', '--quiet', '--no-notices', '--app', 'npx tsx bin/readme.ts', '--output', path.join(WORK, 'readme.out')]);
    expect(fs.readdirSync(path.join(WORK, 'readme.out')).filter((f) => f.endsWith('.template.json')).sort()).toEqual(['KinesisToDeltaLake.template.json', 'LandingZone.template.json']);
    // The composed stack is the one this app builds (lib/payments-lake-stack.ts), line for line.
    const stack = fs.readFileSync(path.join(dir, 'lib', 'payments-lake-stack.ts'), 'utf8');
    expect(stack).toContain(composed.trim());
  });

  test("the gate covers the app's own resources: an unlogged bucket fails synth with AwsSolutions-S1", () => {
    const result = run(dir, 'tsx', ['bin/unchecked-bucket.ts'], false);
    expect(result.status).not.toBe(0);
    expect(result.stderr + result.stdout).toContain('AwsSolutions-S1');
  });

  test('passes cfn-lint with no error and no warning', () => {
    const templates = fs.readdirSync(out).filter((f) => f.endsWith('.template.json')).map((f) => path.join(out, f));
    const lint = spawnSync(CFN_LINT, ['--format', 'parseable', ...templates], { encoding: 'utf8' });
    expect(lint.stderr).toBe('');
    expect(lint.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(lint.status).toBe(0);
  });

  test("the app's schema reaches its pipelines: the validator's bundle, the Spark job's package, the Flink job's source, the Glue tables", () => {
    // The schema file as the app wrote it, in the assets: the Spark job's package (pipeline 2 and the app's own stack
    // share it) and the Flink job's source, named after the source whatever the file is called (pipeline 5).
    const assets = filesContaining(out, '"$id": "https://schemas.acme.example/payments.schema.json"').map((f) => path.relative(out, f));
    expect(assets.filter((f) => f.includes(path.join('stream_foundry_delta', 'schemas')))).toHaveLength(1);
    // The landing validator's bundle: its handler with the schema beside it (one asset: every stack's is the same).
    const validator = assets.filter((f) => /^asset\.[0-9a-f]{64}\/schema\.json$/.test(f));
    expect(validator).toHaveLength(1);
    expect(fs.existsSync(path.join(out, path.dirname(validator[0]), 'index.js'))).toBe(true);
    const flink = assets.filter((f) => /^asset\.[0-9a-f]{64}\/schemas\/payments\.schema\.json$/.test(f));
    expect(flink).toHaveLength(1);
    expect(fs.existsSync(path.join(out, flink[0].split('/')[0], 'pipelines', 'msk-to-iceberg', 'job', 'pom.xml'))).toBe(true);
    expect(glueColumns('QueueToS3')).toEqual(expect.arrayContaining(['payment_id', 'amount', 'card_country', 'paid_at']));
  });

  test('handlers are bundled at the app’s synth from the package, and nothing refers to the repository', () => {
    const bundles = fs.readdirSync(out).filter((f) => fs.existsSync(path.join(out, f, 'index.js')));
    expect(bundles.length).toBeGreaterThan(10);
    expect(filesContaining(out, PROJECT_ROOT)).toEqual([]);
  });
});

describe('a fresh CDK for Terraform app with stream-foundry/gcp', () => {
  let dir: string;
  let terraformJson: string;

  beforeAll(() => {
    dir = freshApp('gcp');
    installApp(
      dir,
      tarball,
      {
        cdktf: pinned('cdktf'),
        '@cdktf/provider-google': pinned('@cdktf/provider-google'),
        '@cdktf/provider-google-beta': pinned('@cdktf/provider-google-beta'),
        // Required peers of the library (its configuration types come from the same code as the AWS side).
        'aws-cdk-lib': pinned('aws-cdk-lib'),
        constructs: pinned('constructs'),
      },
      { tsx: pinned('tsx'), typescript: pinned('typescript'), '@types/node': pinned('@types/node') },
    );
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, noEmit: true, types: ['node'] } }, null, 2));
    // What `cdktf synth` runs (cdktf.json "app"); the CLI itself adds nothing to the Terraform JSON.
    run(dir, 'tsx', ['main.ts']);
    terraformJson = path.join(dir, 'cdktf.out', 'stacks', 'acme-test-payments-analytics', 'cdk.tf.json');
  }, 240_000);

  test('type-checks against the declarations of the stream-foundry/gcp entry point', () => {
    run(dir, 'tsc', ['-p', '.']);
  });

  test("synthesizes the Terraform JSON with the app's schema as the BigQuery table's columns", () => {
    const json = JSON.parse(fs.readFileSync(terraformJson, 'utf8'));
    const [table] = Object.values(json.resource.google_bigquery_table as Record<string, { table_id: string; schema: string }>).filter((t) => t.table_id === 'payments');
    expect(JSON.parse(table.schema).map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['payment_id', 'amount', 'card_country', 'paid_at']));
    expect(json.resource.google_dataflow_flex_template_job).toBeDefined();
    expect(filesContaining(path.join(dir, 'cdktf.out'), PROJECT_ROOT)).toEqual([]);
  });

  test('checkov finds nothing beyond what the repository accepts for its own Google Cloud app', () => {
    const baseline: { failed_checks: { findings: { resource: string; check_ids: string[] }[] }[] } = JSON.parse(fs.readFileSync(CHECKOV_BASELINE, 'utf8'));
    const accepted = new Set(baseline.failed_checks.flatMap(({ findings }) => findings.flatMap((f) => f.check_ids.map((id) => `${f.resource} ${id}`))));
    const scan = spawnSync(CHECKOV, ['-f', terraformJson, '--framework', 'terraform_json', '--skip-download', '--output', 'json', '--compact'], { encoding: 'utf8' });
    const report = JSON.parse(scan.stdout);
    const { summary, results } = Array.isArray(report) ? report[0] : report;
    expect(summary).toMatchObject({ parsing_errors: 0 });
    expect(summary.passed).toBeGreaterThan(10);
    expect(results.failed_checks.map((c: { resource: string; check_id: string }) => `${c.resource} ${c.check_id}`).filter((f: string) => !accepted.has(f))).toEqual([]);
  });
});
