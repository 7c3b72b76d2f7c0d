import { CdcOptionError } from '../../../pipelines/rds-cdc-to-s3/construct/option-error';

/** The message of the CdcOptionError `fn` throws (fails the test when it throws nothing or another error). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CdcOptionError) return e.message;
    throw e;
  }
  throw new Error('expected a CdcOptionError, but nothing was thrown');
}
