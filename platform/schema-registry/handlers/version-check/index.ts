/** Lambda entry point of `Custom::SchemaVersionCheck` (check.ts), through the CDK provider framework. */
import { GlueClient } from '@aws-sdk/client-glue';
import { createVersionCheck } from './check';
import { sleep } from '../../../handlers/backoff';

// Throttling and transient Glue errors: the SDK retries with backoff.
export const onEvent = createVersionCheck({
  glue: new GlueClient({ maxAttempts: 8, retryMode: 'adaptive' }),
  clock: { now: () => Date.now(), sleep },
  pollMs: 3_000,
});
