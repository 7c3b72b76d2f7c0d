/**
 * Where a replay reads and writes: the source's raw zone (`s3://<bucket>/<name>/`) and its broker, from the
 * stack's CloudFormation outputs, or from explicit flags (which bypass the lookup, locally and in tests).
 *
 * Outputs read (key = the raw-zone name without non-alphanumerics, as the stacks name their outputs):
 * - every stack: `<key>RawZone` = `s3://<bucket>/<name>/`;
 * - KinesisToDeltaLake: `<key>Stream` (the source's stream); LandingZone: `eventsStream`;
 * - MskToIceberg: `BootstrapBrokers` (IAM, port 9098, reachable only inside the cluster's VPC); the topic is the
 *   source's name, as the construct creates it (pipelines/msk-to-iceberg/construct/index.ts, `topics`).
 */
import { CloudFormationClient, DescribeStacksCommand, Output } from '@aws-sdk/client-cloudformation';
import { StreamFoundryConfig } from '../../platform/config';
import { pipeline, PIPELINES, stackName } from '../../pipelines';
import { LANDING_ZONE_RAW_NAME } from './keys';
import { UsageError } from './window';
import { RAW_ZONE_LAYOUT } from '../../platform/raw-zone/layout';
import { alphanumeric } from '../../platform/names';

export type Broker =
  | { kind: 'kinesis'; /** Name or ARN. */ stream: string }
  | { kind: 'kafka'; brokers: string[]; topic: string; auth: 'iam' | 'none'; tls: boolean };

export interface ReplayTarget {
  bucket: string;
  /** The raw-zone name: the first segment of every key (`<name>/dt=…/hour=…/…`). */
  name: string;
  broker: Broker;
}

export interface TargetFlags {
  stack?: string;
  source: string;
  bucketUrl?: string;
  stream?: string;
  bootstrapServers?: string;
  topic?: string;
  /** Local brokers: no TLS, no authentication (MSK always needs both). */
  kafkaPlaintext?: boolean;
}

/** `s3://bucket/name/` → bucket and name (one path segment: the raw zone's layout). */
export function parseBucketUrl(flag: string, url: string): { bucket: string; name: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/([^/]+)\/?$/.exec(url.trim());
  if (!m) throw new UsageError(`${flag} "${url}" is not a raw zone URL: expected s3://<bucket>/<name>/ (the stack output <name>RawZone)`);
  return { bucket: m[1], name: m[2] };
}

function explicitBroker(flags: TargetFlags, name: string): Broker | undefined {
  if (flags.stream && flags.bootstrapServers) throw new UsageError('--stream (Kinesis) and --bootstrap-servers (Kafka) exclude each other: give one');
  if (flags.topic && !flags.bootstrapServers && !flags.stack) throw new UsageError('--topic needs --bootstrap-servers (or --stack of an MSK pipeline)');
  if (flags.stream) return { kind: 'kinesis', stream: flags.stream };
  if (flags.bootstrapServers) {
    const brokers = flags.bootstrapServers.split(',').map((b) => b.trim()).filter(Boolean);
    if (brokers.length === 0) throw new UsageError('--bootstrap-servers must list host:port[,host:port...]');
    return kafkaBroker(brokers, flags.topic ?? name, flags.kafkaPlaintext);
  }
  return undefined;
}

const kafkaBroker = (brokers: string[], topic: string, plaintext?: boolean): Broker =>
  plaintext ? { kind: 'kafka', brokers, topic, auth: 'none', tls: false } : { kind: 'kafka', brokers, topic, auth: 'iam', tls: true };

/** The registry entry a `--stack` value names: its CDK id (`KinesisToDeltaLake`) or its deployed name. */
function pipelineOf(stack: string, config: StreamFoundryConfig) {
  return PIPELINES.find((p) => p.cloud === 'aws' && (p.stackId === stack || stackName(p, config) === stack));
}

/**
 * Resolves the raw zone and broker of `flags.source`. Explicit flags win; the stack is asked only for what they
 * leave open, and not at all when they give both.
 */
export async function resolveTarget(
  flags: TargetFlags,
  config: StreamFoundryConfig,
  cloudFormation: () => Pick<CloudFormationClient, 'send'>,
): Promise<ReplayTarget> {
  const explicitRaw = flags.bucketUrl ? parseBucketUrl('--bucket-url', flags.bucketUrl) : undefined;
  const entry = flags.stack ? pipelineOf(flags.stack, config) : undefined;
  if (entry?.key === 'landingZone' && flags.source !== LANDING_ZONE_RAW_NAME) {
    throw new UsageError(
      `--source ${flags.source}: the LandingZone stack has one stream for every source that lists landingZone, archived as raw zone "${LANDING_ZONE_RAW_NAME}": use --source ${LANDING_ZONE_RAW_NAME}`,
    );
  }
  const name = explicitRaw?.name ?? flags.source;
  const broker = explicitBroker(flags, name);
  if (explicitRaw && broker) return { ...explicitRaw, broker };
  if (!flags.stack) {
    throw new UsageError('--stack <stack name or CDK id> is required, unless --bucket-url and one of --stream / --bootstrap-servers are given');
  }

  const stack = entry ? stackName(entry, config) : flags.stack;
  const outputs = await stackOutputs(cloudFormation(), stack, flags.stack, config);
  const key = alphanumeric(name);
  const find = (wanted: string): string | undefined => outputs.find((o) => o.OutputKey?.toLowerCase() === wanted.toLowerCase())?.OutputValue;
  const missing = (wanted: string, flag: string) =>
    new UsageError(`stack ${stack} has no output ${wanted} (outputs: ${outputs.map((o) => o.OutputKey).join(', ') || 'none'}); pass ${flag}`);

  let raw = explicitRaw;
  if (!raw) {
    const output = RAW_ZONE_LAYOUT.outputKey(name);
    const url = find(output);
    if (!url) throw missing(output, '--bucket-url s3://<raw bucket>/<name>/');
    raw = parseBucketUrl(`output ${output} of ${stack}`, url);
  }
  if (broker) return { ...raw, broker };

  const bootstrap = find('BootstrapBrokers');
  if (entry?.key === 'mskToIceberg' || (!entry && bootstrap)) {
    if (!bootstrap) throw missing('BootstrapBrokers', '--bootstrap-servers');
    // The construct names each topic after its source.
    return { ...raw, broker: kafkaBroker(bootstrap.split(','), flags.topic ?? name, flags.kafkaPlaintext) };
  }
  const stream = find(`${key}Stream`);
  if (!stream) throw missing(`${key}Stream`, '--stream <name or ARN>');
  return { ...raw, broker: { kind: 'kinesis', stream } };
}

async function stackOutputs(client: Pick<CloudFormationClient, 'send'>, stack: string, given: string, config: StreamFoundryConfig): Promise<Output[]> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stack }));
    return Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    if ((err as Error).name === 'ValidationError' && /does not exist/.test((err as Error).message)) {
      const example = pipeline('kinesisToDeltaLake');
      throw new UsageError(
        `--stack ${given}: stack ${stack} does not exist in this account and region (give its deployed name, e.g. ${stackName(example, config)}, or its CDK id, e.g. ${example.stackId})`,
      );
    }
    throw err;
  }
}
