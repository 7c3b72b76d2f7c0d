import * as path from 'node:path';
import { KINESIS_WRITER_DEFAULTS, streamNameFromArn } from '../../handlers/kinesis-writer';
import { ENV, TARGET_KINDS } from './contract';

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

/** Reads the function's configuration; throws one error naming every missing or malformed variable. */
export function loadConfig(env: NodeJS.ProcessEnv, defaultSchemaDir: string): ValidatorConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is required`);
    return value ?? '';
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback?: T): T => {
    const value = env[name]?.trim() || fallback;
    if (value === undefined) problems.push(`${name} is required (one of ${allowed.join(', ')})`);
    else if (!allowed.includes(value as T)) problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name]?.trim() || String(fallback);
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
    return value;
  };

  const sourceName = required(ENV.sourceName);
  const idField = required(ENV.idField);
  const partitionKeyField = required(ENV.partitionKeyField);
  const errorBucket = required(ENV.errorBucket);
  const maxPublishAttempts = integer(ENV.maxPublishAttempts, 8, 1, 20);
  const publishTimeoutMs = integer(ENV.publishTimeoutMs, 10_000, 100, 300_000);
  const publishConcurrency = integer(ENV.publishConcurrency, KINESIS_WRITER_DEFAULTS.concurrency, 1, 64);

  let target: Target | undefined;
  const kind = oneOf(ENV.target, TARGET_KINDS);
  if (kind === 'kinesis') {
    const streamArn = required(ENV.kinesisStreamArn);
    if (streamArn) {
      try {
        streamNameFromArn(streamArn);
      } catch (err) {
        problems.push(`${ENV.kinesisStreamArn}: ${(err as Error).message}`);
      }
    }
    target = { kind, streamArn };
  } else if (kind === 'kafka') {
    const brokers = required(ENV.kafkaBootstrapServers)
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    target = {
      kind,
      brokers,
      topic: required(ENV.kafkaTopic),
      auth: oneOf(ENV.kafkaAuth, ['iam', 'none'] as const),
      tls: oneOf(ENV.kafkaTls, ['true', 'false'] as const) === 'true',
      // Below 64 KiB a broker would refuse ordinary events: surely a misconfiguration.
      maxMessageBytes: integer(ENV.kafkaMaxMessageBytes, DEFAULT_KAFKA_MAX_MESSAGE_BYTES, 65_536, 100 * 1024 * 1024),
    };
  }

  if (problems.length > 0 || !target) {
    throw new Error(`landing-validator configuration is invalid: ${problems.join('; ')}`);
  }
  return {
    sourceName,
    schemaPath: env[ENV.schemaPath]?.trim() || path.join(defaultSchemaDir, 'schema.json'),
    idField,
    partitionKeyField,
    target,
    errorBucket,
    maxPublishAttempts,
    publishTimeoutMs,
    publishConcurrency,
    s3ForcePathStyle: env[ENV.s3ForcePathStyle] === 'true',
    region: env.AWS_REGION,
  };
}
