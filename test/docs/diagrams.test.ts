/**
 * The architecture pictures in docs/diagrams (`npm run diagrams`) are those of the stacks the apps build today: each
 * stack's DOT source and SVG are regenerated in memory from one synthesis of each app and compared with the committed
 * files; a picture of a stack the apps no longer build fails too. The extraction itself: test/platform/diagrams.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DIAGRAMS_DIR, diagramFiles, projectDiagrams } from '../../platform/diagrams';
import { PIPELINES } from '../../pipelines';

const diagrams = projectDiagrams();
let files: Record<string, string>;
beforeAll(async () => {
  files = await diagramFiles(diagrams);
});

const committed = (name: string) => {
  const file = path.join(DIAGRAMS_DIR, name);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
};

test('every AWS stack and the Google Cloud stack has a picture', () => {
  const ids = diagrams.map((d) => d.id);
  // A stack in a deployment pipeline's stage is drawn as <stage>-<stack id>.
  for (const entry of PIPELINES.filter((p) => p.cloud === 'aws')) expect(ids.filter((id) => id === entry.stackId || id.endsWith(`-${entry.stackId}`))).not.toHaveLength(0);
  expect(ids.filter((id) => id.endsWith('pubsub-to-bigquery'))).toHaveLength(1);
});

test.each(diagrams.map((d) => d.id))('the picture of %s is current', (id) => {
  const stale = [`${id}.dot`, `${id}.svg`].filter((name) => committed(name) !== files[name]);
  if (stale.length > 0) throw new Error(`The picture of stack ${id} is stale (${stale.map((n) => `docs/diagrams/${n}`).join(', ')}): run npm run diagrams and commit docs/diagrams/`);
});

test('no picture of a stack the apps do not build', () => {
  const extra = fs.readdirSync(DIAGRAMS_DIR).filter((name) => /\.(dot|svg)$/.test(name) && !(name in files));
  expect(extra).toEqual([]);
});
