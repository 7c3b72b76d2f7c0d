import * as path from 'node:path';
import { streamNameFromArn } from '../shared/kinesis-writer';

export type Target =
  | { kind: 'kinesis'; streamArn: string }
  | { kind: 'kafka'; brokers: string[]; topic: string; auth: 'iam' | 'none'; tls: boolean };

export interface ValidatorConfig {
  sourceName: string;
  schemaPath: string;
  idField: string;
  partitionKeyField: string;
  target: Target;
  errorBucket: string;
  maxPublishAttempts: number;
  /** Path-style S3 addressing, for local emulators (s3rver) that do not serve bucket subdomains. */
  s3ForcePathStyle: boolean;
  region?: string;
}

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

  const sourceName = required('SOURCE_NAME');
  const idField = required('ID_FIELD');
  const partitionKeyField = required('PARTITION_KEY_FIELD');
  const errorBucket = required('ERROR_BUCKET');

  const attemptsText = env.MAX_PUBLISH_ATTEMPTS?.trim() || '8';
  const maxPublishAttempts = Number(attemptsText);
  if (!Number.isInteger(maxPublishAttempts) || maxPublishAttempts < 1 || maxPublishAttempts > 20) {
    problems.push(`MAX_PUBLISH_ATTEMPTS must be an integer from 1 to 20, got "${attemptsText}"`);
  }

  let target: Target | undefined;
  const kind = oneOf('TARGET', ['kinesis', 'kafka'] as const);
  if (kind === 'kinesis') {
    const streamArn = required('KINESIS_STREAM_ARN');
    if (streamArn) {
      try {
        streamNameFromArn(streamArn);
      } catch (err) {
        problems.push(`KINESIS_STREAM_ARN: ${(err as Error).message}`);
      }
    }
    target = { kind, streamArn };
  } else if (kind === 'kafka') {
    const brokers = required('KAFKA_BOOTSTRAP_SERVERS')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    target = {
      kind,
      brokers,
      topic: required('KAFKA_TOPIC'),
      auth: oneOf('KAFKA_AUTH', ['iam', 'none'] as const),
      tls: oneOf('KAFKA_TLS', ['true', 'false'] as const) === 'true',
    };
  }

  if (problems.length > 0 || !target) {
    throw new Error(`landing-validator configuration is invalid: ${problems.join('; ')}`);
  }
  return {
    sourceName,
    schemaPath: env.SCHEMA_PATH?.trim() || path.join(defaultSchemaDir, 'schema.json'),
    idField,
    partitionKeyField,
    target,
    errorBucket,
    maxPublishAttempts,
    s3ForcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
    region: env.AWS_REGION,
  };
}
