/**
 * The API reference in docs/api (`npm run api-docs`) is the one the TSDoc comments generate today: the script
 * regenerates it into a temporary directory and compares it with the committed files (`--check`), once, in a child
 * process (TypeDoc is an ES module, which jest's CommonJS runtime cannot load); TypeDoc's validation (an export without
 * a comment, a broken `{@link}`, a public type referring to an unexported one) must report nothing. And every runtime
 * export of the entry points has its entry in the reference.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const API_DIR = path.join(ROOT, 'docs', 'api');

let check: SpawnSyncReturns<string>;
beforeAll(() => {
  check = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/api-docs.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
}, 180_000);

test('docs/api is current and TypeDoc reports nothing in the TSDoc of the public API', () => {
  if (check.error) throw check.error;
  if (check.status !== 0) throw new Error(`The API reference is stale or its TSDoc has problems: run npm run api-docs and commit docs/api/\n${check.stderr}`);
  expect(check.stderr.trim()).toBe('');
});

// The entry points as a user imports them, and the reference page of each (TypeDoc's module page).
test.each([
  ['stream-foundry', 'index.ts', 'stream-foundry.md'],
  ['stream-foundry/gcp', 'gcp.ts', 'stream-foundry.gcp.md'],
])('every runtime export of %s (%s) has its page in the reference', (_module, file, page) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const names = Object.keys(require(path.join(ROOT, file))).sort();
  expect(names.length).toBeGreaterThan(0);
  const index = fs.readFileSync(path.join(API_DIR, page), 'utf8');
  // Each export is linked from its module's page, to a page of its own (or, re-exported, to the other module's).
  const missing = names.filter((name) => {
    // The name as the Markdown shows it (`COST\_TAG\_KEYS`), as a regular expression.
    const shown = name.replace(/\$/g, '\\$').replace(/_/g, '\\\\_');
    const link = new RegExp(`\\[\`?${shown}\`?\\]\\(([^)#]+)`).exec(index);
    return !link || !fs.existsSync(path.join(API_DIR, link[1]));
  });
  expect(missing).toEqual([]);
});
