import * as fs from 'node:fs';
import * as path from 'node:path';
import { schemaVersion } from '../catalog';
import { schemaFileName } from './contract';

/** A delivered source's JSON Schema as bundled with the function. */
export interface BundledSchema {
  schema: unknown;
  /** Its version computed as the construct computes the catalog's `schemaVersion`. */
  version: string;
}

/** Thrown when a source of a catalog has no schema in the bundle: a deployment fault. */
export class SchemaMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaMissingError';
  }
}

/**
 * The delivered events' schemas bundled beside the handler (`<dir>/<source>.schema.json`), read once per container:
 * the files change only with the code. Source names are checked by the caller (letters, digits, "-"), so a name can
 * never leave the folder.
 */
export class SchemaStore {
  private readonly cache = new Map<string, BundledSchema>();

  constructor(private readonly dir: string) {}

  get(source: string): BundledSchema {
    let entry = this.cache.get(source);
    if (!entry) {
      const file = path.join(this.dir, schemaFileName(source));
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SchemaMissingError(`the schema of source "${source}" is not bundled (${file})`);
        throw err;
      }
      const schema: unknown = JSON.parse(bytes.toString('utf8'));
      entry = { schema, version: schemaVersion(schema) };
      this.cache.set(source, entry);
    }
    return entry;
  }
}
