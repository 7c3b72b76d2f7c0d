import * as path from 'path';

/** The repository root: constructs find handlers, jobs and schemas from here, whatever folder they live in. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** A path inside the repository, from its root: `fromRoot('pipelines', 'msk-to-iceberg', 'job')`. */
export const fromRoot = (...segments: string[]): string => path.join(PROJECT_ROOT, ...segments);
