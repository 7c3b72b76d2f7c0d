/**
 * `npm run verify -- <Stack>`: after a deploy, with your credentials, sends a few freshness canary events through
 * the stack's entrance (the landing bucket, or pipeline 1's topic), waits for the receipts its exit writes once each
 * is committed, prints what arrived and how long it took, and exits 1 naming what is missing and the runbook section
 * to read. Pipeline 3's canary is its database heartbeat: verify waits for the next one. Exit 2: a usage error.
 *
 * Where to publish and where receipts land come from the stack's outputs `Freshness<source>Entrance` and
 * `Freshness<source>Receipts`; the canary events are built from the configuration (cdk.json) exactly as the stack's
 * canary builds them (platform/freshness).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { parseArgs } from 'node:util';
import { parseConfig, readCdkJsonContext, sourcesFeeding, StreamFoundryConfig } from '../platform/config';
import { dataSource } from '../platform/data-source';
import { canaryTemplate } from '../platform/freshness';
import { alphanumeric } from '../platform/names';
import { CanaryClients, CanaryEntrance } from '../platform/freshness/canary';
import { verifyPipeline, VerifySource } from '../platform/freshness/verify';
import { runbookUrl } from '../platform/pipeline';
import { failureExitCode, Io, runMain } from './cli';
import { UsageError } from './replay/window';
import { Pipeline, PIPELINES, SourcePipelineKey, stackName } from '../pipelines';

const USAGE = `usage: npm run verify -- <Stack> [--events N] [--timeout-seconds S] [--source <name>] [--region R]
  <Stack>: a CDK stack id (QueueToS3, KinesisToDeltaLake, RdsCdcToS3, MskToIceberg) or its deployed name`;

export type { Io };

export interface Deps {
  cloudFormation: Pick<CloudFormationClient, 'send'>;
  clients: CanaryClients;
  config?: StreamFoundryConfig;
  pollMs?: number;
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${flag} "${value}" must be a whole number from ${min} to ${max}`);
  return Number(value);
}

/** The stack's freshness outputs: per source, where receipts land and (unless its canary is the pipeline's own) where to publish. */
export function freshnessOutputs(outputs: { OutputKey?: string; OutputValue?: string }[]): Map<string, { receipts: string; entrance?: string }> {
  const byKey = new Map(outputs.map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const found = new Map<string, { receipts: string; entrance?: string }>();
  for (const [key, value] of byKey) {
    const m = /^Freshness(.+)Receipts$/.exec(key);
    if (m) found.set(m[1], { receipts: value, entrance: byKey.get(`Freshness${m[1]}Entrance`) });
  }
  return found;
}

function entranceOf(value: string): CanaryEntrance {
  const bucket = /^s3:\/\/([^/]+)\/?$/.exec(value);
  if (bucket) return { kind: 'landing', bucket: bucket[1] };
  if (value.startsWith('arn:') && value.split(':')[2] === 'sns') return { kind: 'topic', topicArn: value };
  throw new Error(`unexpected freshness entrance output "${value}" (expected s3://<bucket>/ or an SNS topic ARN)`);
}

/** The command line: 0 when every canary arrived, 1 when one did not, 2 for a usage error. */
export async function main(argv: string[], io: Io, deps?: Partial<Deps>): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        events: { type: 'string', default: '3' },
        'timeout-seconds': { type: 'string', default: '180' },
        source: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one stack');
    const events = wholeNumber('events', values.events!, 1, 100);
    const timeoutMs = wholeNumber('timeout-seconds', values['timeout-seconds']!, 1, 3600) * 1000;
    const config = deps?.config ?? parseConfig(readCdkJsonContext());
    const stack = positionals[0];
    const registry: readonly Pipeline[] = PIPELINES;
    const entry = registry.find((p) => p.stackId === stack || stackName(p, config) === stack);
    if (!entry) throw new UsageError(`unknown stack "${stack}": one of ${registry.flatMap((p) => p.stackId ?? []).join(', ')}`);
    if (entry.cloud !== 'aws' || entry.key === 'landingZone') {
      throw new UsageError(
        entry.cloud === 'gcp'
          ? 'pipeline 4 runs on Google Cloud: its freshness is Dataflow\'s data freshness in Cloud Monitoring (docs/runbooks/pubsub-to-bigquery.md, "Freshness")'
          : 'the LandingZone stack has no exit of its own: verify the pipeline stack it feeds',
      );
    }
    const region = values.region ? { region: values.region } : {};
    const local = { forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL) };
    const cloudFormation = deps?.cloudFormation ?? new CloudFormationClient(region);
    const clients = deps?.clients ?? { s3: new S3Client({ ...region, ...local }), sns: new SNSClient(region) };

    const name = stackName(entry, config);
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: name }));
    const outputs = freshnessOutputs(described.Stacks?.[0]?.Outputs ?? []);
    if (outputs.size === 0) throw new Error(`${name} has no Freshness<source>Receipts outputs: deploy this version of the stack first`);
    const configured = entry.key === 'rdsCdcToS3' ? [] : sourcesFeeding(config, entry.key as SourcePipelineKey);
    const sources: VerifySource[] = [];
    for (const [key, { receipts, entrance }] of outputs) {
      const source = configured.find((s) => alphanumeric(s) === key) ?? (entry.key === 'rdsCdcToS3' ? key : undefined);
      if (!source || (values.source && values.source !== source)) continue;
      const bucket = /^s3:\/\/([^/]+)\//.exec(receipts)?.[1];
      if (!bucket) throw new Error(`unexpected receipts output "${receipts}" (expected s3://<bucket>/_freshness/<source>/)`);
      const target = entrance
        ? (() => {
            const ds = dataSource(config, source, entry.key as SourcePipelineKey);
            return { source, template: canaryTemplate(ds), idField: ds.idField, eventTimeField: ds.eventTimeField, entrance: entranceOf(entrance) };
          })()
        : undefined;
      sources.push({ source, receiptsBucket: bucket, target });
    }
    if (sources.length === 0) throw new UsageError(`--source "${values.source}" is not a source of ${name}`);

    const verdict = await verifyPipeline({
      pipeline: name,
      sources,
      events,
      timeoutMs,
      pollMs: deps?.pollMs,
      runbookUrl: runbookUrl(config.docsUrl, entry.name, 'lag-freshness'),
      clients,
      log: io.log,
    });
    for (const line of verdict.lines) io.out(line);
    io.out(verdict.ok ? `${name}: every canary arrived` : `${name}: FAILED`);
    return verdict.ok ? 0 : 1;
  } catch (err) {
    return failureExitCode(err, USAGE, io);
  }
}

if (require.main === module) runMain(main);
