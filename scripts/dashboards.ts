/**
 * npm run dashboards: writes the Grafana dashboard of every pipeline to docs/grafana/<pipeline>.json, generated from
 * the configuration (cdk.json) and the synthesized stacks (platform/observability/dashboards). `--check` writes
 * nothing and exits 1 when a file is missing or differs (what test/platform/observability/dashboards.test.ts checks).
 */
import * as path from 'path';
import { DASHBOARDS_DIR, dashboardFiles, synthesizeTemplates } from '../platform/observability/dashboards';
import { parseCheckFlag, syncGeneratedFiles } from './generated-files';

function main(args: string[]): number {
  const check = parseCheckFlag('dashboards', args);
  if (check === undefined) return 2;
  const { config, templates } = synthesizeTemplates();
  const files = dashboardFiles(config, templates);
  const code = syncGeneratedFiles({ command: 'dashboards', dir: DASHBOARDS_DIR, files }, check);
  if (code === 0 && !check) console.log(`${Object.keys(files).length} dashboards in ${path.relative(process.cwd(), DASHBOARDS_DIR)}/`);
  return code;
}

process.exitCode = main(process.argv.slice(2));
