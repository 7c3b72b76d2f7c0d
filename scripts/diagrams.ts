/**
 * npm run diagrams: draws the architecture of every AWS and Google Cloud stack from the synthesized apps
 * (platform/diagrams) into docs/diagrams/<stack id>.svg, with the Graphviz source beside it (<stack id>.dot).
 * `--check` writes nothing and exits 1 when a picture is missing, differs or belongs to no stack (what
 * test/docs/diagrams.test.ts checks).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DIAGRAMS_DIR, diagramFiles, projectDiagrams } from '../platform/diagrams';

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`diagrams: unknown argument ${unknown.join(' ')} (expected nothing, or --check)`);
    return 2;
  }
  const check = args.includes('--check');
  const files = await diagramFiles(projectDiagrams());
  const stale: string[] = [];
  if (!check) fs.mkdirSync(DIAGRAMS_DIR, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(DIAGRAMS_DIR, name);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current === content) continue;
    if (check) stale.push(path.relative(process.cwd(), file));
    else {
      fs.writeFileSync(file, content);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  // A picture of a stack the apps no longer build.
  for (const name of fs.existsSync(DIAGRAMS_DIR) ? fs.readdirSync(DIAGRAMS_DIR) : []) {
    if (!/\.(dot|svg)$/.test(name) || name in files) continue;
    const file = path.join(DIAGRAMS_DIR, name);
    if (check) stale.push(`${path.relative(process.cwd(), file)} (no such stack)`);
    else {
      fs.rmSync(file);
      console.log(`removed ${path.relative(process.cwd(), file)} (no such stack)`);
    }
  }
  if (stale.length > 0) {
    console.error(`diagrams: out of date: ${stale.join(', ')} (run npm run diagrams)`);
    return 1;
  }
  if (!check) console.log(`${Object.keys(files).length / 2} diagrams in ${path.relative(process.cwd(), DIAGRAMS_DIR)}/`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
