import { z } from 'zod';
import { NAME } from '../../../platform/config/settings';
import { RECEIPTS_PREFIX } from '../../../platform/freshness/contract';
import { EnvError, flag, integer as int, optional, readEnv } from '../../../platform/handlers/env';
import { DEFAULT_HTTP_PORT, ENV } from './contract';

/** Which messages are freshness canaries (their `idField` holds a canary id) and whose receipts they get. */
export interface CanarySettings {
  /** The data source's name: receipts go to `_freshness/<source>/` in the output bucket. */
  source: string;
  idField: string;
}

export interface ConsumerConfig {
  queueUrl: string;
  /** The queue's region when its URL names one (sqs.<region>.amazonaws.com), so the SQS client always matches it. */
  queueRegion?: string;
  outputBucket: string;
  /** '' or ends with '/'. */
  outputPrefix: string;
  errorBucket: string;
  /** Ends with '/'. */
  errorPrefix: string;
  /** Set with SOURCE_NAME and ID_FIELD: canaries are recognised and receipted; unset, every JSON message is data. */
  canary?: CanarySettings;
  flushMaxMessages: number;
  flushMaxBytes: number;
  flushMaxAgeMs: number;
  visibilityTimeoutSeconds: number;
  receiveWaitSeconds: number;
  pollers: number;
  maxBufferedMessages: number;
  flushConcurrency: number;
  httpPort: number;
  shutdownTimeoutSeconds: number;
  s3ForcePathStyle: boolean;
}

const MiB = 1024 * 1024;

/** How much longer than the flush age a message's lease must be (README, "The visibility and batching math"). */
export const VISIBILITY_MARGIN_SECONDS = 1;

/**
 * The visibility rule, the one the configuration (cdk.json), the construct and this consumer check: a message's lease
 * must outlive one batch, its flush age plus VISIBILITY_MARGIN_SECONDS (the consumer renews the leases of messages
 * it holds, so the margin covers the batch's write, not a stall). Returns what is expected, naming the flush-age
 * setting, or undefined when the visibility timeout is long enough.
 */
export function visibilityTimeoutProblem(visibilityTimeoutSeconds: number, flushMaxAge: { setting: string; seconds: number }): string | undefined {
  const least = Math.ceil(flushMaxAge.seconds) + VISIBILITY_MARGIN_SECONDS;
  if (visibilityTimeoutSeconds >= least) return undefined;
  return `expected at least ${least} s (${flushMaxAge.setting}, ${flushMaxAge.seconds} s, + ${VISIBILITY_MARGIN_SECONDS} s: a message must outlive one batch)`;
}

const bucketName = z
  .string({ error: 'is required' })
  .trim()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name (3-63 lower-case letters, digits, "." or "-")' });

/** '' stays ''; anything else gets exactly one trailing '/' and no leading '/'. */
const prefix = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((p) => p.replace(/^\/+/, '').replace(/\/*$/, p.replace(/^\/+/, '') === '' ? '' : '/'))
    .refine((p) => !/[\s\\]/.test(p) && !p.includes('//'), { error: 'expected an S3 key prefix without spaces, "\\" or "//"' });

const schema = z
  .object({
    [ENV.queueUrl]: z
      .string({ error: 'is required' })
      .trim()
      .pipe(z.url({ protocol: /^https?$/, error: 'expected the queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)' })),
    [ENV.outputBucket]: bucketName,
    [ENV.outputPrefix]: prefix('data/'),
    [ENV.errorBucket]: bucketName.optional(),
    [ENV.errorPrefix]: prefix('errors/'),
    [ENV.sourceName]: optional().pipe(z.string().regex(NAME, { error: 'expected a source name (2-24 lower-case letters, digits, "-")' }).optional()),
    [ENV.idField]: optional(),
    [ENV.flushMaxMessages]: int(1, 1_000_000, 10_000),
    [ENV.flushMaxBytes]: int(1024, 1024 * MiB, 64 * MiB),
    [ENV.flushMaxAgeMs]: int(10, 15 * 60_000, 5_000),
    [ENV.visibilityTimeoutSeconds]: int(1, 43_200, 60),
    [ENV.receiveWaitSeconds]: int(0, 20, 10),
    [ENV.pollers]: int(1, 64, 4),
    [ENV.maxBufferedMessages]: int(1, 10_000_000).optional(),
    [ENV.flushConcurrency]: int(1, 16, 2),
    [ENV.httpPort]: int(0, 65_535, DEFAULT_HTTP_PORT),
    [ENV.shutdownTimeoutSeconds]: int(1, 3_600, 25),
    [ENV.s3ForcePathStyle]: flag(false),
  })
  .superRefine((env, ctx) => {
    // Messages must outlive one receive-to-flush cycle without help; extension is the safety net, not the plan.
    const visibility = env[ENV.visibilityTimeoutSeconds];
    const problem = visibilityTimeoutProblem(visibility, { setting: ENV.flushMaxAgeMs, seconds: env[ENV.flushMaxAgeMs] / 1000 });
    if (problem) ctx.addIssue({ code: 'custom', path: [ENV.visibilityTimeoutSeconds], message: `${problem}, got ${visibility}` });
    // Data and error objects must not share a key space: a table over the data prefix would read the error lines.
    const outBucket = env[ENV.outputBucket];
    const errBucket = env[ENV.errorBucket] ?? outBucket;
    const [out, err] = [env[ENV.outputPrefix], env[ENV.errorPrefix]];
    if (errBucket === outBucket && (out.startsWith(err) || err.startsWith(out))) {
      ctx.addIssue({
        code: 'custom',
        path: [ENV.errorPrefix],
        message: `("${err}") and ${ENV.outputPrefix} ("${out}") overlap in bucket ${outBucket}: give each its own prefix, or set ${ENV.errorBucket}`,
      });
    }
    // Receipts need both: the source names their prefix, the id field finds the canaries.
    const [source, idField] = [env[ENV.sourceName], env[ENV.idField]];
    if ((source === undefined) !== (idField === undefined)) {
      const [missing, set] = source === undefined ? [ENV.sourceName, ENV.idField] : [ENV.idField, ENV.sourceName];
      ctx.addIssue({ code: 'custom', path: [missing], message: `is required when ${set} is set (the freshness canary needs both)` });
    }
    // The receipts' prefix is the freshness reporter's: data or error objects there would be read as receipts.
    for (const [name, bucket] of [[ENV.outputPrefix, outBucket], [ENV.errorPrefix, errBucket]] as const) {
      const p = env[name];
      if (bucket === outBucket && p.startsWith(RECEIPTS_PREFIX)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `("${p}") overlaps the freshness receipts' prefix "${RECEIPTS_PREFIX}" in bucket ${outBucket}: choose another prefix` });
      }
    }
    const maxBuffered = env[ENV.maxBufferedMessages];
    if (maxBuffered !== undefined && maxBuffered < env[ENV.flushMaxMessages]) {
      ctx.addIssue({
        code: 'custom',
        path: [ENV.maxBufferedMessages],
        message: `must be at least ${ENV.flushMaxMessages} (${env[ENV.flushMaxMessages]}), got ${maxBuffered}`,
      });
    }
  });

/** Thrown for a bad environment (platform/handlers/env.ts). */
export { EnvError as ConfigError };

/** Reads and validates the consumer's environment; throws one ConfigError naming every problem. */
export function loadConfig(env: NodeJS.ProcessEnv): ConsumerConfig {
  const c = readEnv('queue-consumer', env, schema);
  const flushMaxMessages = c[ENV.flushMaxMessages];
  const queueUrl = c[ENV.queueUrl];
  const [source, idField] = [c[ENV.sourceName], c[ENV.idField]];
  return {
    queueUrl,
    queueRegion: /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(queueUrl).hostname)?.[1],
    outputBucket: c[ENV.outputBucket],
    outputPrefix: c[ENV.outputPrefix],
    errorBucket: c[ENV.errorBucket] ?? c[ENV.outputBucket],
    errorPrefix: c[ENV.errorPrefix],
    ...(source && idField ? { canary: { source, idField } } : {}),
    flushMaxMessages,
    flushMaxBytes: c[ENV.flushMaxBytes],
    flushMaxAgeMs: c[ENV.flushMaxAgeMs],
    visibilityTimeoutSeconds: c[ENV.visibilityTimeoutSeconds],
    receiveWaitSeconds: c[ENV.receiveWaitSeconds],
    pollers: c[ENV.pollers],
    maxBufferedMessages: c[ENV.maxBufferedMessages] ?? 2 * flushMaxMessages,
    flushConcurrency: c[ENV.flushConcurrency],
    httpPort: c[ENV.httpPort],
    shutdownTimeoutSeconds: c[ENV.shutdownTimeoutSeconds],
    s3ForcePathStyle: c[ENV.s3ForcePathStyle],
  };
}
