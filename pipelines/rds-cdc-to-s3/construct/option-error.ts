/**
 * One error type for every invalid option of the RDS → DMS → S3 pipeline, thrown at synth. The message has the same
 * shape as the project's configuration errors: `<option>: received <value>; expected <what is valid>`.
 */
export class CdcOptionError extends Error {
  constructor(
    /** The option's path in the props, e.g. `tables[2].name`. */
    readonly option: string,
    readonly received: unknown,
    /** What a valid value looks like, without the word "expected". */
    readonly expected: string,
  ) {
    super(`${option}: received ${describe(received)}; expected ${expected}`);
    this.name = 'CdcOptionError';
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value);
}

/** A whole number in [min, max], or throws naming the option. */
export function checkInteger(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CdcOptionError(option, value, `a whole number from ${min} to ${max}`);
  }
  return value;
}

/** One of a fixed set of strings, or throws naming the option. */
export function checkOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new CdcOptionError(option, value, `one of: ${allowed.join(', ')}`);
  }
  return value as T;
}

/** true or false, or throws naming the option. */
export function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new CdcOptionError(option, value, 'true or false');
  return value;
}
