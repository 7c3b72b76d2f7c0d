/**
 * hyparquet is an ES module; jest here runs CommonJS (ts-jest transforms only .ts). Tests load the real hyparquet
 * through the same bundler the deployed function goes through (esbuild, CommonJS for Node 22), once per version:
 *
 *   jest.mock('hyparquet', () => require('<this file>').hyparquetCommonJs());
 */
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { fromRoot } from '../../../../platform/paths';

export function hyparquetCommonJs(): unknown {
  // The package's exports map hides package.json from require.resolve.
  const root = fromRoot('node_modules', 'hyparquet');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  const dir = path.join(tmpdir(), 'stream-foundry-test-modules');
  const outfile = path.join(dir, `hyparquet-${version}.cjs`);
  if (!existsSync(outfile)) {
    mkdirSync(dir, { recursive: true });
    buildSync({
      entryPoints: [path.join(root, 'src', 'node.js')],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      outfile,
      logLevel: 'silent',
    });
  }
  return require(outfile);
}
