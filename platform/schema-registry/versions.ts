/**
 * A source's schema history: the released versions kept in the repository (`schemas/releases/<source>/v<N>.schema.json`,
 * never edited once released) and the current schema (`schemas/<file>` named by `sources.<source>.schema`), which is
 * the next version when it differs from the last release. The compatibility gate (`checkSchemaHistory`) runs at every
 * synth, AWS and Google Cloud alike, from the configuration parser; the landing zone registers every version in the
 * Glue Schema Registry.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { checkCompatibility, CompatibilityMode, Incompatibility, JSONSchema } from './compatibility';

/** The Glue Schema Registry's compatibility modes, without DISABLED (no new versions at all). */
export const REGISTRY_COMPATIBILITIES = ['BACKWARD', 'BACKWARD_ALL', 'FORWARD', 'FORWARD_ALL', 'FULL', 'FULL_ALL', 'NONE'] as const;
export type RegistryCompatibility = (typeof REGISTRY_COMPATIBILITIES)[number];

/** The JSON Schema drafts the Glue Schema Registry validates with (Everit): draft-04, draft-06 and draft-07. */
const REGISTRY_DRAFTS = ['http://json-schema.org/draft-04/schema#', 'http://json-schema.org/draft-06/schema#', 'http://json-schema.org/draft-07/schema#'];

const RELEASE_FILE = /^v([1-9]\d*)\.schema\.json$/;

export interface SchemaVersion {
  /** 1 for the first release; the current schema is the last release's number + 1 when it differs from it. */
  readonly number: number;
  /** The file, relative to the project (for messages). */
  readonly file: string;
  /** The file's text, registered as is. */
  readonly definition: string;
  readonly schema: JSONSchema;
  /** Whether it is a release (false: the current schema, not yet recorded under releases/). */
  readonly released: boolean;
}

/** The directory of a source's released versions. */
function releasesDir(schemasDir: string, source: string): string {
  return path.join(schemasDir, 'releases', source);
}

/**
 * The versions of `source`, oldest first: its releases, then the current schema if it differs from the last release in
 * meaning (a reformatted file is the same version). A source without releases has one version, its current schema.
 */
export function schemaHistory(schemasDir: string, source: string, currentFile: string): SchemaVersion[] {
  const root = path.dirname(schemasDir);
  const dir = releasesDir(schemasDir, source);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort((a, b) => releaseNumber(a, dir) - releaseNumber(b, dir)) : [];
  const releases = files.map((file, i) => {
    const number = releaseNumber(file, dir);
    if (number !== i + 1) throw new SchemaHistoryError(`${path.relative(root, dir)}: expected v${i + 1}.schema.json next, found ${file} (releases are numbered from v1 without gaps)`);
    return version(path.join(dir, file), number, true, root);
  });
  const current = version(currentFile, releases.length + 1, false, root);
  const last = releases.at(-1);
  return last && isDeepStrictEqual(last.schema, current.schema) ? releases : [...releases, current];
}

/**
 * The compatibility gate: the newest version against the one before it (`*_ALL`: against every earlier version) under
 * `mode`, and so the last release, in case it was recorded before it was ever checked. Older releases were checked
 * when they were new (and may predate the mode). One message per problem: the field, the change, the rule, the files.
 */
export function checkSchemaHistory(source: string, history: readonly SchemaVersion[], mode: RegistryCompatibility): string[] {
  const problems: string[] = [];
  for (const v of history) {
    const draft = typeof v.schema === 'object' ? v.schema.$schema : undefined;
    if (draft !== undefined && !REGISTRY_DRAFTS.includes(String(draft))) {
      problems.push(`${source}: ${v.file} declares $schema ${JSON.stringify(draft)}; the Glue Schema Registry supports ${REGISTRY_DRAFTS.join(', ')}`);
    }
  }
  const [rule, transitive] = checkerMode(mode);
  const lastRelease = history.filter((v) => v.released).length - 1;
  const checked = new Set([history.length - 1, lastRelease].filter((i) => i > 0));
  for (const i of [...checked].sort((a, b) => a - b)) {
    const next = history[i];
    for (const previous of transitive ? history.slice(0, i) : [history[i - 1]]) {
      const found = checkCompatibility(previous.schema, next.schema, rule, source);
      problems.push(...found.map((problem) => describe(problem, mode, previous, next)));
    }
  }
  return problems;
}

/** The checker's mode and whether every earlier version counts (`BACKWARD_ALL`, ...). */
function checkerMode(mode: RegistryCompatibility): [CompatibilityMode, boolean] {
  const transitive = mode.endsWith('_ALL');
  return [mode.replace(/_ALL$/, '') as CompatibilityMode, transitive];
}

function describe(problem: Incompatibility, mode: RegistryCompatibility, previous: SchemaVersion, next: SchemaVersion): string {
  const rule = mode.endsWith('_ALL') ? ` (${mode})` : '';
  const name = (v: SchemaVersion) => (v.released ? `release v${v.number} (${v.file})` : v.file);
  return `${problem.format()}${rule}: ${name(next)} against ${name(previous)}`;
}

function releaseNumber(file: string, dir: string): number {
  const match = RELEASE_FILE.exec(file);
  if (!match) throw new SchemaHistoryError(`${dir}: ${file} is not a release (expected v<N>.schema.json)`);
  return Number(match[1]);
}

function version(file: string, number: number, released: boolean, root: string): SchemaVersion {
  const relative = path.relative(root, file);
  let definition: string;
  try {
    definition = fs.readFileSync(file, 'utf8');
  } catch {
    throw new SchemaHistoryError(`${relative} is not readable`);
  }
  let schema: JSONSchema;
  try {
    schema = JSON.parse(definition);
  } catch (error) {
    throw new SchemaHistoryError(`${relative} is not JSON: ${(error as Error).message}`);
  }
  return { number, file: relative, definition, schema, released };
}

/** A release directory or file that cannot be read as a history. */
export class SchemaHistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaHistoryError';
  }
}
