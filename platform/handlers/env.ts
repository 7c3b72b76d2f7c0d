import { z } from 'zod';

/**
 * The one reader of a handler's environment (Lambda functions, the queue consumer): each variable a zod schema built
 * from the helpers below, all read at once, and one error that names every missing or malformed variable, the value
 * received and what is expected. Bundled into handlers: no CDK imports.
 */

/** Thrown for a bad environment; the message names every offending variable. */
export class EnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

/** Unset and blank are the same (a construct may set a variable to ''); values are trimmed. */
const blankIsUnset = (value: unknown) => (typeof value === 'string' ? value.trim() || undefined : value);

/** A string that must be set. */
export const required = () => z.preprocess(blankIsUnset, z.string({ error: 'is required' }));

/** A string that may be unset (undefined). */
export const optional = () => z.preprocess(blankIsUnset, z.string().optional());

/** A whole number from `min` to `max`; `fallback` when unset (required when there is no fallback). */
export function integer(min: number, max: number, fallback?: number) {
  const expected = { error: `expected a whole number from ${min} to ${max}` };
  const number = z.number(expected).int(expected).min(min, expected).max(max, expected);
  const parse = (value: unknown) => {
    const text = blankIsUnset(value);
    return typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : text;
  };
  return fallback === undefined ? z.preprocess(parse, number) : z.preprocess(parse, number.default(fallback));
}

/** One of `allowed`; `fallback` when unset (required when there is no fallback). */
export function oneOf<const T extends readonly [string, ...string[]]>(allowed: T, fallback?: T[number]) {
  const value = z.enum(allowed, { error: `expected one of ${allowed.join(', ')}` });
  return fallback === undefined ? z.preprocess(blankIsUnset, value) : z.preprocess(blankIsUnset, value.default(fallback as never));
}

/** "true" or "false", as a boolean; `fallback` when unset (required when there is no fallback). */
export function flag(fallback?: boolean) {
  const text = z.enum(['true', 'false'], { error: 'expected true or false' });
  const value = fallback === undefined ? text : text.default(fallback ? 'true' : 'false');
  return z.preprocess(blankIsUnset, value).transform((v) => v === 'true');
}

/**
 * Reads the variables `schema` names from `env`. A problem reads `<NAME> <what is expected> (got "<value>")`; a
 * custom (cross-variable) rule's message is given as the rule wrote it. Throws one EnvError naming them all, headed
 * by the service's name.
 */
export function readEnv<S extends z.ZodType>(service: string, env: NodeJS.ProcessEnv, schema: S): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    if (issue.code === 'custom') return `${name} ${issue.message}`;
    const value = env[name];
    return `${name} ${issue.message} (got ${value === undefined ? 'unset' : `"${value}"`})`;
  });
  throw new EnvError(`${service} configuration is invalid: ${problems.join('; ')}`);
}
