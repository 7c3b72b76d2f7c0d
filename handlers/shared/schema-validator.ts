import * as fs from 'node:fs';
import Ajv, { ErrorObject, Options } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

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
  // Same rules as ajv-formats' full-mode date-time, in one regular expression: timestamps are in most events, and the
  // stock check (split, then two expressions) costs as much as all other keywords together.
  ajv.addFormat('date-time', { ...(addFormats.get('date-time', 'full') as object), validate: isDateTime });
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

const DATE_TIME = /^(\d\d\d\d)-(\d\d)-(\d\d)[t\s](\d\d):(\d\d):(\d\d(?:\.\d+)?)(?:z|([+-])(\d\d)(?::?(\d\d))?)$/i;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** RFC 3339 date-time with a required offset, real calendar dates, and leap seconds only at 23:59 UTC. */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month])) return false;
  const hr = +m[4];
  const min = +m[5];
  const sec = +m[6];
  const tzSign = m[7] === '-' ? -1 : 1;
  const tzH = +(m[8] || 0);
  const tzM = +(m[9] || 0);
  if (tzH > 23 || tzM > 59) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

const toViolation = (e: ErrorObject): SchemaViolation => ({
  instancePath: e.instancePath,
  keyword: e.keyword,
  message: e.message ?? e.keyword,
  params: e.params,
});
