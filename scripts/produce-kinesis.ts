/**
 * Produces a source's events to a Kinesis stream (pipeline 2, or the landing zone's stream), so a fresh deployment
 * shows rows in Athena within a minute:
 *
 *   npm run produce -- --stream <name or ARN> --source clickstream --count 1000 [--region eu-west-1] [--endpoint URL]
 *
 * Events are the source's samples (schemas/<source>.samples.ndjson) in turn, each with a new event id (the source's
 * `idField`) and the current time as its event time, so the job's deduplication keeps every one and the table's
 * newest partition shows them. Each is checked against the source's JSON Schema first. Writing reuses the landing
 * zone's KinesisWriter: PutRecords calls within the service limits (500 records, 5 MiB), several in flight, and only
 * the failed entries of a call are retried (full-jitter backoff). Credentials and region: the AWS SDK's default
 * chain; `--endpoint` points at a local Kinesis (kinesalite).
 */
import { randomUUID } from 'crypto';
import { parseArgs } from 'util';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { DEFAULT_RETRY_POLICY } from '../platform/handlers/backoff';
import { createKinesisClient, KinesisWriter } from '../platform/handlers/kinesis-writer';
import { dataSource } from '../platform/data-source';
import { loadSamples } from '../platform/samples';
import { parseConfig, readCdkJsonContext, StreamFoundryConfig } from '../platform/config';

export interface ProduceOptions {
  /** Stream name or ARN. */
  stream: string;
  source: string;
  count: number;
  /** A client of your own (tests); otherwise one for `region`/`endpoint`. */
  client?: Pick<KinesisClient, 'send'>;
  region?: string;
  endpoint?: string;
  config?: StreamFoundryConfig;
  /** Attempts per record (the first included). */
  maxAttempts?: number;
  now?: () => Date;
}

export interface ProduceResult {
  streamArn: string;
  published: number;
  retried: number;
  ids: string[];
}

/** The i-th event: sample i mod n, with a new id and the current time as event time. */
export function eventAt(samples: Record<string, unknown>[], i: number, fields: { idField: string; eventTimeField: string }, now: Date): Record<string, unknown> {
  return { ...samples[i % samples.length], [fields.idField]: randomUUID(), [fields.eventTimeField]: now.toISOString() };
}

async function resolveStreamArn(client: Pick<KinesisClient, 'send'>, stream: string): Promise<string> {
  if (stream.startsWith('arn:')) return stream;
  const { StreamDescriptionSummary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  return StreamDescriptionSummary!.StreamARN!;
}

export async function produce(options: ProduceOptions): Promise<ProduceResult> {
  const config = options.config ?? parseConfig(readCdkJsonContext());
  const samples = loadSamples(config, options.source);
  const { idField, partitionKeyField, eventTimeField } = dataSource(config, options.source, 'kinesisToDeltaLake');
  const fields = { idField, eventTimeField };
  const client =
    options.client ??
    createKinesisClient({ timeoutMs: 10_000, region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const streamArn = await resolveStreamArn(client, options.stream);
  const writer = new KinesisWriter({ client, streamArn, retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: options.maxAttempts ?? 8 } });
  const ids: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const event = eventAt(samples, i, fields, (options.now ?? (() => new Date()))());
    const id = String(event[idField]);
    ids.push(id);
    const wait = writer.add({ id, partitionKey: String(event[partitionKeyField] ?? id), data: Buffer.from(JSON.stringify(event)) });
    if (wait) await wait;
  }
  await writer.flush();
  return { streamArn, published: writer.published, retried: writer.retried, ids };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stream: { type: 'string' },
      source: { type: 'string', default: 'clickstream' },
      count: { type: 'string', default: '100' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
    },
  });
  const count = Number(values.count);
  if (!values.stream) throw new Error('--stream <name or ARN> is required (the stack output or the Kinesis console shows it)');
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive whole number (got ${values.count})`);
  const started = Date.now();
  const result = await produce({ stream: values.stream, source: values.source!, count, region: values.region, endpoint: values.endpoint });
  console.log(
    `${result.published} ${values.source} events written to ${result.streamArn} in ${((Date.now() - started) / 1000).toFixed(1)} s (${result.retried} entries retried)`,
  );
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
