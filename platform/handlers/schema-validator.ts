import * as fs from 'node:fs';
import Ajv, { ErrorObject, Options } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { isDateTime, isUri, isUuid } from './formats';

/** One reason an event does not satisfy its schema. */
export interface SchemaViolation {
  /** JSON Pointer to the offending value inside the event ('' for the event itself). */
  instancePath: string;
  /** The schema keyword that failed, e.g. `required`, `enum`, `format`. */
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

/** Returns the violations, or `undefined` when the value is valid. */
export type Validator = (value: unknown) => SchemaViolation[] | undefined;

/** At most this many violations are reported per event, so a huge bad array cannot blow up an error record. */
export const MAX_VIOLATIONS = 20;

/**
 * Ajv's strict mode rejects schemas that are valid under their draft (`if` without `then`, `minContains` without
 * `contains`, keywords a draft ignores, annotation-only formats), so users' schemas would fail at cold start. Here
 * only what the draft's meta-schema rejects fails; everything strict mode would complain about is logged instead,
 * and `inspectSchema` reports the unknown keywords so synth can warn about typos.
 */
function ajvOptions(warn: (message: string) => void): Options {
  return {
    // Report every problem of an event at once; events are capped at 1 MiB and their nesting depth is bounded
    // before they reach the validator, which bounds the cost `allErrors` can have on hostile input.
    allErrors: true,
    allowUnionTypes: true,
    strictSchema: 'log',
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: { log: () => undefined, warn: (...args: unknown[]) => warn(args.join(' ')), error: (...args: unknown[]) => warn(args.join(' ')) },
  };
}

const UNKNOWN_KEYWORD = /^strict mode: unknown keyword: "(.*)"$/;

/** Ajv implements every format of the standard whose check is well defined; the rest are annotations only. */
function knownFormats(ajv: Ajv): Set<string> {
  return new Set(Object.keys((ajv as unknown as { formats: Record<string, unknown> }).formats));
}

/** Every string value of a `format` property anywhere in the schema (a superset of the format keywords). */
function formatNames(node: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 200 || typeof node !== 'object' || node === null) return out;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'format' && typeof value === 'string') out.add(value);
    else formatNames(value, out, depth + 1);
  }
  return out;
}

interface Compiled {
  validate: Validator;
  unknownKeywords: string[];
  /** Formats the schema names that have no check here (validated as annotations, i.e. not at all). */
  annotationFormats: string[];
}

function compile(schema: unknown): Compiled {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new Error('schema is invalid: a JSON Schema must be a JSON object');
  }
  const warnings: string[] = [];
  const options = ajvOptions((message) => warnings.push(message));
  const draft = String((schema as Record<string, unknown>).$schema ?? '');
  const ajv = draft.includes('2020-12') ? new Ajv2020(options) : draft.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv);
  // RFC-exact checks of the formats nearly every event carries (see ./formats.ts).
  ajv.addFormat('date-time', isDateTime);
  ajv.addFormat('uuid', isUuid);
  ajv.addFormat('uri', isUri);
  if (ajv instanceof Ajv2019 || ajv instanceof Ajv2020) {
    // A core keyword of 2019-09 and 2020-12 that Ajv resolves in `$ref`s but does not list as a keyword.
    ajv.addKeyword({ keyword: '$anchor', schemaType: 'string' });
  }
  // Unknown formats are annotations under every supported draft: accept any value instead of failing the schema.
  const known = knownFormats(ajv);
  const annotationFormats = [...formatNames(schema)].filter((f) => !known.has(f));
  for (const name of annotationFormats) ajv.addFormat(name, true);

  let validate: ReturnType<Ajv['compile']>;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    // Meta-schema violations already read "schema is invalid: ..."; others (a bad regex, an unresolvable $ref) do not.
    const message = (err as Error).message;
    throw message.startsWith('schema is invalid') ? err : new Error(`schema cannot be compiled: ${message}`, { cause: err });
  }
  const unknownKeywords = [...new Set(warnings.map((w) => UNKNOWN_KEYWORD.exec(w)?.[1]).filter((k): k is string => k !== undefined))];
  return {
    validate: (value) => (validate(value) ? undefined : (validate.errors ?? []).slice(0, MAX_VIOLATIONS).map(toViolation)),
    unknownKeywords,
    annotationFormats,
  };
}

/**
 * For `cdk synth`: compiles the schema exactly as the Lambda does. Throws an `Error` saying what is wrong when the
 * schema is invalid under its draft (e.g. `schema is invalid: data/properties/x/type must be equal to one of the
 * allowed values`); returns the keywords the draft does not define (likely typos, ignored at run time).
 */
export function inspectSchema(schema: unknown): { unknownKeywords: string[] } {
  return { unknownKeywords: compile(schema).unknownKeywords };
}

export interface CompiledSchema {
  validate: Validator;
  /** Keywords the draft does not define: ignored, as the standard says, but likely typos. */
  unknownKeywords: string[];
  annotationFormats: string[];
}

/** Compiles a JSON Schema (draft-07, 2019-09 or 2020-12, chosen by its `$schema`) once, with the standard formats. */
export function compileSchema(schema: Record<string, unknown>): Validator {
  return compile(schema).validate;
}

/** Reads and compiles a schema file; call once per container. */
export function loadSchema(path: string): Validator {
  return loadSchemaFile(path).validate;
}

/** `loadSchema`, also returning what the cold start should log (unknown keywords, annotation-only formats). */
export function loadSchemaFile(path: string): CompiledSchema {
  let schema: unknown;
  try {
    schema = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot load the JSON Schema at ${path}: ${(err as Error).message}`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new Error(`the JSON Schema at ${path} is not a JSON object`);
  }
  try {
    return compile(schema);
  } catch (err) {
    throw new Error(`the JSON Schema at ${path} cannot be used: ${(err as Error).message}`, { cause: err });
  }
}

const toViolation = (e: ErrorObject): SchemaViolation => ({
  instancePath: e.instancePath,
  keyword: e.keyword,
  message: e.message ?? e.keyword,
  params: e.params,
});
