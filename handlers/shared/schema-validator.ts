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

const OPTIONS: Options = {
  // Report every problem of an event at once; events are capped at 1 MiB before they reach the validator, which
  // bounds the cost `allErrors` can have on hostile input.
  allErrors: true,
  // Ajv's default strict mode stays on: an unknown keyword (a typo) fails at compile time, at cold start, instead of
  // silently accepting everything. Union types such as ["string", "null"] are ordinary JSON Schema.
  allowUnionTypes: true,
};

/** Compiles a JSON Schema (draft-07, 2019-09 or 2020-12, chosen by its `$schema`) once, with the standard formats. */
export function compileSchema(schema: Record<string, unknown>): Validator {
  const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
  const ajv = draft.includes('2020-12') ? new Ajv2020(OPTIONS) : draft.includes('2019-09') ? new Ajv2019(OPTIONS) : new Ajv(OPTIONS);
  addFormats(ajv);
  // The same rules, read character by character: these formats are in nearly every event (see ./formats.ts).
  ajv.addFormat('date-time', { ...(addFormats.get('date-time', 'full') as object), validate: isDateTime });
  ajv.addFormat('uuid', isUuid);
  ajv.addFormat('uri', isUri);
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? undefined : (validate.errors ?? []).slice(0, MAX_VIOLATIONS).map(toViolation));
}

/** Reads and compiles a schema file; call once per container. */
export function loadSchema(path: string): Validator {
  let schema: unknown;
  try {
    schema = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot load the JSON Schema at ${path}: ${(err as Error).message}`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new Error(`the JSON Schema at ${path} is not a JSON object`);
  }
  return compileSchema(schema as Record<string, unknown>);
}

const toViolation = (e: ErrorObject): SchemaViolation => ({
  instancePath: e.instancePath,
  keyword: e.keyword,
  message: e.message ?? e.keyword,
  params: e.params,
});
