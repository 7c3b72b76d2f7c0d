import { z } from 'zod';

/**
 * Building blocks for configuration schemas. Settings arrive from cdk.json (typed JSON) or from `-c key=value`
 * on the command line (always strings), so every scalar accepts both forms and says what it expects.
 */

const NUMBER_TEXT = /^-?\d+(\.\d+)?$/;

/** A whole number in [min, max]; accepts "30" from the command line. */
export function integer(min: number, max: number) {
  return z.preprocess(
    (v) => (typeof v === 'string' && NUMBER_TEXT.test(v.trim()) ? Number(v) : v),
    z
      .number({ error: `expected a whole number from ${min} to ${max}` })
      .int({ error: `expected a whole number from ${min} to ${max}` })
      .min(min, { error: `expected a whole number from ${min} to ${max}` })
      .max(max, { error: `expected a whole number from ${min} to ${max}` }),
  );
}

/** true/false; accepts "true"/"false" from the command line. */
export function flag() {
  return z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' ? false : v),
    z.boolean({ error: 'expected true or false' }),
  );
}

/** A source or environment name: part of stream, topic, table, job and stack names (2-24 lower-case letters, digits, "-"). */
export const NAME = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;

/** A 12-digit AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;

/** An AWS region such as "eu-west-1" (also GovCloud and ISO partitions). */
export const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/** A string matching `pattern`, described to the user as `expected`. */
export function text(pattern: RegExp, expected: string) {
  return z.string({ error: `expected ${expected}` }).regex(pattern, { error: `expected ${expected}` });
}

/** One of a fixed set of values. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of: ${values.join(', ')}` });
}

/** A list; accepts a JSON array or a comma-separated string ("a@x.com,b@x.com") from the command line. */
export function list<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0)
        : v,
    z.array(item, { error: 'expected a list (JSON array or comma-separated string)' }),
  );
}

/** A value for an AWS cost-allocation tag or a Google Cloud label: 1-63 lower-case letters, digits, - or _. */
export const tagValue = text(
  /^[a-z0-9][a-z0-9_-]{0,62}$/,
  '1-63 lower-case letters, digits, "-" or "_" (valid as both an AWS tag and a Google Cloud label)',
);
