/**
 * npm run dashboards: writes the Grafana dashboard of every pipeline to docs/grafana/<pipeline>.json, generated from
 * the configuration (cdk.json) and the synthesized stacks (platform/observability/dashboards). `--check` writes
 * nothing and exits 1 when a file is missing or differs (what test/platform/observability/dashboards.test.ts checks).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DASHBOARDS_DIR, dashboardFiles, synthesizeTemplates } from '../platform/observability/dashboards';

function main(args: string[]): number {
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`dashboards: unknown argument ${unknown.join(' ')} (expected nothing, or --check)`);
    return 2;
  }
  const check = args.includes('--check');
  const { config, templates } = synthesizeTemplates();
  const files = dashboardFiles(config, templates);
  const stale: string[] = [];
  if (!check) fs.mkdirSync(DASHBOARDS_DIR, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(DASHBOARDS_DIR, name);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current === content) continue;
    if (check) stale.push(path.relative(process.cwd(), file));
    else {
      fs.writeFileSync(file, content);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  if (stale.length > 0) {
    console.error(`dashboards: out of date: ${stale.join(', ')} (run npm run dashboards)`);
    return 1;
  }
  if (!check) console.log(`${Object.keys(files).length} dashboards in ${path.relative(process.cwd(), DASHBOARDS_DIR)}/`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
