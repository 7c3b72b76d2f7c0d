/**
 * What `npm publish` would publish (issue 22, "Releases"): `npm publish --dry-run --json` lists the package, which
 * must hold the compiled library and the files the constructs deploy, nothing private, nothing oversized, and declare
 * every package its code and its type declarations need.
 *
 * The dry run runs in a copy of the working tree (git's tracked and unignored files, node_modules linked), not in the
 * repository: its `prepack` (npm run build) empties and rebuilds lib/, which the consumer tests (test/library) pack
 * from at the same time. Into the copy go the leftovers a developer's checkout has after a test run (pytest's
 * __pycache__ beside the Spark job, Maven's target/, cdk.out/, a .env, a key), so the filters are tested on them.
 * Nothing is published: --dry-run, and the registry is an unreachable local address.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../platform/paths';

interface PackedFile {
  path: string;
  size: number;
}
interface PackReport {
  name: string;
  version: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackedFile[];
}
interface Manifest {
  name: string;
  version: string;
  main: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/**
 * Limits with headroom over 0.1.0 (478 files, 2.2 MB unpacked, 0.6 MB packed): room for a few more constructs, while
 * any real leak breaks them (test/ is 3.2 MB, the Flink job's target/ 186 MB, node_modules 1.8 GB).
 */
const MAX_FILES = 650;
const MAX_UNPACKED_BYTES = 3_000_000;
const MAX_PACKED_BYTES = 1_000_000;

/** The files npm adds beside `files` (lib/): the manifest, and the README, license and changelog users read. */
const TOP_LEVEL = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'];

/** What must never be published: tests, tooling, local state, secrets, build leftovers, source maps. */
const PRIVATE: RegExp[] = [
  /(^|\/)(test|tests|__tests__|scripts|notes|\.scratch|\.test-logs|\.bench|\.tmp|coverage)\//,
  /(^|\/)(cdk\.out|cdktf\.out|target|node_modules|__pycache__|\.venv[^/]*|\.git|\.github|\.terraform)\//,
  /(^|\/)\.env(\..*)?$/,
  /(^|\/)\.npmrc$/,
  /(^|\/)id_(rsa|ecdsa|ed25519)/,
  /\.(pem|key|p12|pfx|crt|tfstate|tgz|log|pyc|map|tsbuildinfo)$/,
];

/**
 * Modules a handler requires that the package does not declare, because the Lambda Node.js runtime provides them (the
 * AWS SDK v3) and the construct bundles the handler with them external: module -> the files that may require it.
 */
const LAMBDA_RUNTIME_MODULES: Record<string, string[]> = {
  // pipelines/queue-to-s3/construct/zones.ts: bundling.externalModules ['@aws-sdk/client-ec2'] (the handler says why).
  '@aws-sdk/client-ec2': ['lib/pipelines/queue-to-s3/handlers/eks-zones/index.js'],
};

const BUILTINS = new Set(builtinModules);
const manifest: Manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);

/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || BUILTINS.has(packageOf(specifier));

let copy: string;
let report: PackReport;
let files: string[];

/** The working tree as git sees it (tracked, and new files not ignored), copied to `to`. */
function copyWorkingTree(to: string): void {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const file of listed.split('\0')) {
    const from = path.join(PROJECT_ROOT, file);
    if (!file || !fs.statSync(from, { throwIfNoEntry: false })?.isFile()) continue; // deleted in the working tree, not yet in the index
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    fs.copyFileSync(from, path.join(to, file));
  }
  fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(to, 'node_modules'), 'dir');
}

/** What a checkout holds after `npm test` and a deploy, none of which git tracks. */
const LEFTOVERS = [
  'pipelines/kinesis-to-delta-lake/job/src/stream_foundry_delta/__pycache__/pipeline.cpython-311.pyc',
  'pipelines/kinesis-to-delta-lake/job/src/__pycache__/glue_stream_job.cpython-311.pyc',
  'pipelines/msk-to-iceberg/job/target/classes/dev/streamfoundry/flink/IcebergIngestJob.class',
  'cdk.out/manifest.json',
  '.scratch/notes.md',
  '.env',
  'deploy-key.pem',
];

beforeAll(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-publish-'));
  copyWorkingTree(copy);
  for (const file of LEFTOVERS) {
    fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    fs.writeFileSync(path.join(copy, file), 'not for publishing\n');
  }
  const out = execFileSync('npm', ['publish', '--dry-run', '--json'], {
    cwd: copy,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      // An enclosing `npm test` exports its own settings as npm_* variables: the dry run takes only those below.
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key))),
      npm_config_dry_run: 'true',
      npm_config_registry: 'http://127.0.0.1:9/', // the discard port: refused at once, were anything sent
      npm_config_fetch_retries: '0', // npm asks the registry about the version even in a dry run; no 70 s of retries
      npm_config_ignore_scripts: 'false', // prepack builds lib/
      npm_config_provenance: 'false',
    },
  });
  // npm 11 keys the report by package name; npm 10 printed the report itself.
  const parsed = JSON.parse(out) as PackReport | Record<string, PackReport>;
  report = 'files' in parsed ? (parsed as PackReport) : (parsed as Record<string, PackReport>)[manifest.name];
  files = report.files.map((f) => f.path).sort();
}, 180_000);

afterAll(() => {
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

test('the dry run packs this package and version, with its README, license and changelog', () => {
  expect([report.name, report.version]).toEqual([manifest.name, manifest.version]);
  for (const file of TOP_LEVEL) expect(files).toContain(file);
});

test('every file is under lib/ or one of package.json, README.md, LICENSE, CHANGELOG.md', () => {
  expect(files.filter((file) => !file.startsWith('lib/') && !TOP_LEVEL.includes(file))).toEqual([]);
});

test('nothing private: no tests, scripts, local state, secrets, build leftovers or source maps', () => {
  expect(files.filter((file) => PRIVATE.some((pattern) => pattern.test(file)))).toEqual([]);
  // The leftovers planted in the copy were there to be left out.
  expect(fs.existsSync(path.join(copy, LEFTOVERS[0]))).toBe(true);
});

test(`at most ${MAX_FILES} files, ${MAX_UNPACKED_BYTES / 1e6} MB unpacked, ${MAX_PACKED_BYTES / 1e6} MB packed`, () => {
  const summary = { files: report.entryCount, unpackedSize: report.unpackedSize, size: report.size };
  expect(summary.files).toBeLessThanOrEqual(MAX_FILES);
  expect(summary.unpackedSize).toBeLessThanOrEqual(MAX_UNPACKED_BYTES);
  expect(summary.size).toBeLessThanOrEqual(MAX_PACKED_BYTES);
  // No single file carries a tenth of the budget (a bundle, a data file or an archive would).
  expect(report.files.filter((f) => f.size > MAX_UNPACKED_BYTES / 10).map((f) => f.path)).toEqual([]);
});

test('every entry point in exports, main and types is packed, each JavaScript one with its declarations', () => {
  const targets = Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
  const entries = [...targets, manifest.main, manifest.types].map((target) => path.posix.normalize(target));
  expect(entries.filter((entry) => !files.includes(entry))).toEqual([]);
  const scripts = entries.filter((entry) => entry.endsWith('.js'));
  expect(scripts).toEqual(expect.arrayContaining(['lib/index.js', 'lib/gcp.js']));
  expect(scripts.filter((entry) => !files.includes(entry.replace(/\.js$/, '.d.ts')))).toEqual([]);
});

/** The module specifiers a compiled file requires, or a declaration file imports or references. */
function specifiers(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const patterns = file.endsWith('.d.ts')
    ? [/\bfrom\s+['"]([^'"]+)['"]/g, /\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm, /\/\/\/\s*<reference\s+types="([^"]+)"/g]
    : [/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]));
}

/** The packaged files a relative specifier of `from` can name, in Node's and TypeScript's order. */
function resolveRelative(from: string, specifier: string, extensions: string[]): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, ...extensions.map((ext) => base.replace(/\.js$/, '') + ext), ...extensions.map((ext) => path.join(base, `index${ext}`))];
  return candidates.find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
}

test('every package a lib/**/*.js file requires is a dependency, a peer dependency or a Node built-in', () => {
  const undeclared: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    for (const specifier of specifiers(path.join(copy, file))) {
      if (specifier.startsWith('.') || isBuiltin(specifier) || declared.has(packageOf(specifier))) continue;
      if (LAMBDA_RUNTIME_MODULES[packageOf(specifier)]?.includes(file)) continue;
      undeclared.push(`${file}: ${specifier}`);
    }
  }
  expect(undeclared).toEqual([]);
});

/** The packaged files reachable from `entry` through relative specifiers, and the bare specifiers they use. */
function reachable(entry: string, extensions: string[]): { files: Set<string>; bare: Map<string, string> } {
  const seen = new Set<string>();
  const bare = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of specifiers(file)) {
      if (!specifier.startsWith('.')) {
        if (!bare.has(specifier)) bare.set(specifier, path.relative(copy, file));
        continue;
      }
      const target = resolveRelative(file, specifier, extensions);
      if (!target) throw new Error(`${path.relative(copy, file)}: ${specifier} is not in the package`);
      if (extensions.some((ext) => target.endsWith(ext))) visit(target);
    }
  };
  visit(path.join(copy, entry));
  return { files: seen, bare };
}

test("the type declarations a user's compiler reads from the entry points name only declared packages", () => {
  // A declaration importing a devDependency fails the user's `tsc` (and ts-node, which `cdk synth` runs in a
  // TypeScript CDK app) with "Cannot find module" unless skipLibCheck hides it.
  const undeclared: string[] = [];
  for (const entry of [manifest.types, 'lib/gcp.d.ts']) {
    const { files: declarations, bare } = reachable(entry, ['.d.ts']);
    expect(declarations.size).toBeGreaterThan(10);
    for (const [specifier, file] of bare) {
      if (isBuiltin(specifier) || specifier === 'node' || declared.has(packageOf(specifier))) continue;
      undeclared.push(`${file}: ${specifier}`);
    }
  }
  expect(undeclared).toEqual([]);
});

test('an AWS app loads none of the optional peers (cdktf, the Google providers): only `stream-foundry/gcp` does', () => {
  const optional = Object.entries(manifest.peerDependenciesMeta ?? {}).flatMap(([name, meta]) => (meta.optional ? [name] : []));
  expect(optional).toEqual(expect.arrayContaining(['cdktf']));
  const aws = reachable(manifest.main, ['.js', '.json']);
  expect([...aws.bare.keys()].filter((specifier) => optional.includes(packageOf(specifier)))).toEqual([]);
  const gcp = reachable('lib/gcp.js', ['.js', '.json']);
  expect([...gcp.bare.keys()].map(packageOf)).toEqual(expect.arrayContaining(optional));
});

test('the job sources the constructs deploy are in it: the Spark job, the Flink pom and main sources (no tests)', () => {
  const tracked = (dir: string) =>
    execFileSync('git', ['ls-files', '-z', dir], { cwd: PROJECT_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
  const spark = tracked('pipelines/kinesis-to-delta-lake/job/src');
  const flink = ['pipelines/msk-to-iceberg/job/pom.xml', ...tracked('pipelines/msk-to-iceberg/job/src/main')];
  expect(spark).toEqual(expect.arrayContaining(['pipelines/kinesis-to-delta-lake/job/src/glue_stream_job.py']));
  expect(flink.some((file) => file.endsWith('/IcebergIngestJob.java'))).toBe(true);
  expect([...spark, ...flink].filter((file) => !files.includes(`lib/${file}`))).toEqual([]);
  expect(files.filter((file) => /\/job\/(tests|src\/test)\//.test(file))).toEqual([]);
});
