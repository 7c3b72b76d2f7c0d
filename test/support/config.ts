import { ConfigError, parseConfig } from '../../platform/config';

/** The problems parseConfig reports for `context`; fails the test if the context is valid. */
export function configProblems(context: Record<string, unknown>): string[] {
  try {
    parseConfig(context);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
