/**
 * `npm run build` (and `npm pack` / `npm publish`, through `prepack`): the library as published, in lib/. TypeScript
 * compiled by tsconfig.build.json (the entry points index.ts and gcp.ts, what they import, and the handler and
 * service entries the constructs bundle with esbuild at the app's synth), then the files the constructs deploy that
 * are not TypeScript, copied to the same place under lib/ (constructs find them from the library's root, platform/paths.ts).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../platform/paths';

const LIB = path.join(PROJECT_ROOT, 'lib');

/** The non-TypeScript files the constructs deploy: [path from the root, which files under it]. */
export const LIBRARY_ASSETS: [string, (file: string) => boolean][] = [
  // Pipeline 2's PySpark job: the entry script and its package (S3 assets).
  ['pipelines/kinesis-to-delta-lake/job/src', (file) => !/(__pycache__|\.pyc)$/.test(file)],
  // Pipeline 5's Flink job, built by Maven in CodeBuild at deploy: the pom and the main sources (no tests).
  ['pipelines/msk-to-iceberg/job/pom.xml', () => true],
  ['pipelines/msk-to-iceberg/job/src/main', () => true],
  // The Grafana dashboards the queue-to-s3 stack provisions by default (ManagedGrafana's dashboardsDir).
  ['docs/grafana', (file) => fs.statSync(file).isDirectory() || file.endsWith('.json')],
];

export function buildLibrary(): void {
  fs.rmSync(LIB, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(PROJECT_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  for (const [from, keep] of LIBRARY_ASSETS) {
    fs.cpSync(path.join(PROJECT_ROOT, from), path.join(LIB, from), { recursive: true, filter: keep });
  }
}

if (require.main === module) buildLibrary();
