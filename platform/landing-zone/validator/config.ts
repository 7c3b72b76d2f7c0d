import * as path from 'node:path';
import { z } from 'zod';
import { flag, integer, oneOf, optional, readEnv, required } from '../../handlers/env';
import { KINESIS_WRITER_DEFAULTS, streamNameFromArn } from '../../handlers/kinesis-writer';
import { ENV, TARGET_KINDS, VALIDATOR_SERVICE } from './contract';

export type Target =
  | { kind: 'kinesis'; streamArn: string }
  | { kind: 'kafka'; brokers: string[]; topic: string; auth: 'iam' | 'none'; tls: boolean; maxMessageBytes: number };

export interface ValidatorConfig {
  sourceName: string;
  schemaPath: string;
  idField: string;
  partitionKeyField: string;
  target: Target;
  errorBucket: string;
  maxPublishAttempts: number;
  /** Longest one broker call may take before it is abandoned (and retried). */
  publishTimeoutMs: number;
  /** Broker calls in flight at once per object. */
  publishConcurrency: number;
  /** Path-style S3 addressing, for local emulators (s3rver) that do not serve bucket subdomains. */
  s3ForcePathStyle: boolean;
  region?: string;
}

/** Kafka's default `message.max.bytes` (also MSK's): the largest record batch a broker accepts. */
export const DEFAULT_KAFKA_MAX_MESSAGE_BYTES = 1_048_588;

/** The variables every target needs. */
const common = {
  [ENV.sourceName]: required(),
  [ENV.schemaPath]: optional(),
  [ENV.idField]: required(),
  [ENV.partitionKeyField]: required(),
  [ENV.errorBucket]: required(),
  [ENV.maxPublishAttempts]: integer(1, 20, 8),
  [ENV.publishTimeoutMs]: integer(100, 300_000, 10_000),
  [ENV.publishConcurrency]: integer(1, 64, KINESIS_WRITER_DEFAULTS.concurrency),
  [ENV.s3ForcePathStyle]: flag(false),
  [ENV.target]: oneOf(TARGET_KINDS),
  AWS_REGION: optional(),
};

const kinesisStreamArn = required().superRefine((arn, ctx) => {
  try {
    streamNameFromArn(arn);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `is ${(err as Error).message}` });
  }
});

const kafka = {
  [ENV.kafkaBootstrapServers]: required().transform((servers) => servers.split(',').map((b) => b.trim()).filter(Boolean)),
  [ENV.kafkaTopic]: required(),
  [ENV.kafkaAuth]: oneOf(['iam', 'none']),
  [ENV.kafkaTls]: flag(),
  // Below 64 KiB a broker would refuse ordinary events: surely a misconfiguration.
  [ENV.kafkaMaxMessageBytes]: integer(65_536, 100 * 1024 * 1024, DEFAULT_KAFKA_MAX_MESSAGE_BYTES),
};

/** Reads the function's configuration (the target's variables by TARGET); throws one error naming every missing or malformed variable. */
export function loadConfig(env: NodeJS.ProcessEnv, defaultSchemaDir: string): ValidatorConfig {
  const read = <S extends z.ZodRawShape>(shape: S) => readEnv(VALIDATOR_SERVICE, env, z.object({ ...common, ...shape }));
  const kind = env[ENV.target]?.trim();
  let c: z.output<z.ZodObject<typeof common>>;
  let target: Target;
  if (kind === 'kafka') {
    const k = read(kafka);
    c = k;
    target = {
      kind,
      brokers: k[ENV.kafkaBootstrapServers],
      topic: k[ENV.kafkaTopic],
      auth: k[ENV.kafkaAuth],
      tls: k[ENV.kafkaTls],
      maxMessageBytes: k[ENV.kafkaMaxMessageBytes],
    };
  } else if (kind === 'kinesis') {
    const k = read({ [ENV.kinesisStreamArn]: kinesisStreamArn });
    c = k;
    target = { kind, streamArn: k[ENV.kinesisStreamArn] };
  } else {
    read({}); // TARGET unset or unknown: throws, naming it and every other problem
    throw new Error(`${ENV.target} was not checked`);
  }
  return {
    sourceName: c[ENV.sourceName],
    schemaPath: c[ENV.schemaPath] ?? path.join(defaultSchemaDir, 'schema.json'),
    idField: c[ENV.idField],
    partitionKeyField: c[ENV.partitionKeyField],
    target,
    errorBucket: c[ENV.errorBucket],
    maxPublishAttempts: c[ENV.maxPublishAttempts],
    publishTimeoutMs: c[ENV.publishTimeoutMs],
    publishConcurrency: c[ENV.publishConcurrency],
    s3ForcePathStyle: c[ENV.s3ForcePathStyle],
    region: c.AWS_REGION,
  };
}
