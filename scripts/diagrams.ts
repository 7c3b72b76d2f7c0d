/**
 * npm run diagrams: draws the architecture of every AWS and Google Cloud stack from the synthesized apps
 * (platform/diagrams) into docs/diagrams/<stack id>.svg, with the Graphviz source beside it (<stack id>.dot).
 * `--check` writes nothing and exits 1 when a picture is missing, differs or belongs to no stack (what
 * test/docs/diagrams.test.ts checks).
 */
import * as path from 'path';
import { DIAGRAMS_DIR, diagramFiles, projectDiagrams } from '../platform/diagrams';
import { parseCheckFlag, syncGeneratedFiles } from './generated-files';

async function main(args: string[]): Promise<number> {
  const check = parseCheckFlag('diagrams', args);
  if (check === undefined) return 2;
  const files = await diagramFiles(projectDiagrams());
  const code = syncGeneratedFiles({ command: 'diagrams', dir: DIAGRAMS_DIR, files, orphans: /\.(dot|svg)$/ }, check);
  if (code === 0 && !check) console.log(`${Object.keys(files).length / 2} diagrams in ${path.relative(process.cwd(), DIAGRAMS_DIR)}/`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
