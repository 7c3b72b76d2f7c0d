/**
 * Bundles the consumer service with esbuild into one CommonJS file that runs on plain Node.js with no node_modules
 * (the stock node:22 image of the default deploy path loads it from S3; the Dockerfile copies it).
 *
 *   npx tsx pipelines/queue-to-s3/consumer/build.ts [outfile]     # default dist/queue-consumer/index.js
 */
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { sourceModule } from '../../../platform/paths';

export const ENTRY_POINT = sourceModule(path.join(__dirname, 'index.ts'));

/** Synchronous: the stack's asset bundles it during synth (a local bundler cannot wait). */
export function bundleConsumer(outfile: string): { outfile: string; bytes: number } {
  const result = buildSync({
    entryPoints: [ENTRY_POINT],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile!.outputs).reduce((sum, o) => sum + o.bytes, 0);
  return { outfile, bytes };
}

if (require.main === module) {
  const outfile = path.resolve(process.argv[2] ?? 'dist/queue-consumer/index.js');
  const { bytes } = bundleConsumer(outfile);
  console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB`);
}
