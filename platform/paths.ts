import * as fs from 'fs';
import * as path from 'path';

/**
 * The library's root, where `platform/` and `pipelines/` are: the repository in development, `lib/` of the installed
 * package (compiled JavaScript, with the handler sources and job files the constructs deploy copied beside it by
 * `npm run build`). Constructs find their handlers and jobs from here, never from the app's working directory.
 */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** A path inside the library, from its root: `fromRoot('pipelines', 'msk-to-iceberg', 'job')`. */
export const fromRoot = (...segments: string[]): string => path.join(PROJECT_ROOT, ...segments);

/**
 * A TypeScript module of the library as it exists here: `file` (`.ts`) in the repository, its compiled `.js` in the
 * installed package, where esbuild bundles that at the app's synth.
 */
export function sourceModule(file: string): string {
  if (fs.existsSync(file) || !file.endsWith('.ts')) return file;
  const compiled = file.replace(/\.ts$/, '.js');
  if (!fs.existsSync(compiled)) throw new Error(`${file}: no such module (nor ${path.basename(compiled)} beside it)`);
  return compiled;
}
