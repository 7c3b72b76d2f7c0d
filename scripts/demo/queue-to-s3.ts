/**
 * Pipeline 1 on this machine: fauxqs (SNS topic -> SQS queue with raw delivery and a dead-letter queue, and the output
 * bucket: test/integration/sqs-emulator.ts) and the real consumer service in-process (pipelines/queue-to-s3/consumer,
 * startService) with the environment the construct deploys (construct/workload.ts consumerEnvironment), at a faster
 * pace. Publishers send to the topic directly: this pipeline has no landing zone, and the consumer rejects only what
 * is not JSON (it is at-least-once and does not deduplicate: Athena queries deduplicate by id).
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { sourcesFeeding } from '../../platform/config';
import { dataSource } from '../../platform/data-source';
import { canaryEvent } from '../../platform/freshness/canary';
import { canaryTemplate } from '../../platform/freshness/template';
import { parseReceiptKey, RECEIPTS_PREFIX } from '../../platform/freshness/contract';
import { pipeline as registryEntry, stackName } from '../../pipelines';
import type { Log } from '../../pipelines/queue-to-s3/consumer/consumer';
import { ENV } from '../../pipelines/queue-to-s3/consumer/contract';
import { startService } from '../../pipelines/queue-to-s3/consumer/service';
import { consumerEnvironment } from '../../pipelines/queue-to-s3/construct/workload';
import { startSqsEmulator } from '../../test/integration/sqs-emulator';
import { Accounting, DemoContext, demoBatch, progress, waitFor } from './common';

const NAME = 'pipeline 1 (SNS -> SQS -> consumer -> S3)';

/** The consumer's log: kept quiet, warnings and errors remembered for the report. */
class QuietLog implements Log {
  readonly problems: string[] = [];
  debug = () => undefined;
  info = () => undefined;
  warn = (message: string) => void this.problems.push(`warn: ${message}`);
  error = (message: string) => void this.problems.push(`error: ${message}`);
}

export async function runQueueToS3(ctx: DemoContext): Promise<Accounting[]> {
  const sources = ctx.sources ?? sourcesFeeding(ctx.config, 'queueToS3');
  const results: Accounting[] = [];
  for (const source of sources) results.push(await runSource(ctx, source));
  return results;
}

async function runSource(ctx: DemoContext, source: string): Promise<Accounting> {
  const stack = stackName(registryEntry('queueToS3'), ctx.config);
  const ds = dataSource(ctx.config, source, 'queueToS3');
  const { idField } = ds;
  // Named as the stack names them: <stack>-<source> topic and queue, an output bucket with <source>/ and errors/<source>/.
  const topic = `${stack}-${source}`;
  const bucket = `${stack}-output`.toLowerCase();
  progress(NAME, `starting fauxqs (SNS, SQS, S3): topic ${topic}, queue ${topic} (+ -dlq), bucket ${bucket}`);
  const emulator = await startSqsEmulator({ topic, queue: { name: topic, visibilityTimeoutSeconds: 4, maxReceiveCount: 5 }, buckets: [bucket] });
  ctx.onStop('fauxqs', () => emulator.stop());
  const s3 = new S3Client({ ...emulator.clientConfig, forcePathStyle: true });
  const sns = new SNSClient(emulator.clientConfig);
  ctx.onStop('SDK clients', () => {
    s3.destroy();
    sns.destroy();
  });

  const dataPrefix = `${source}/`;
  const errorPrefix = `errors/${source}/`;
  const log = new QuietLog();
  progress(NAME, 'starting the queue consumer in-process, with the environment the construct deploys');
  const consumer = await startService({
    env: {
      ...consumerEnvironment({
        queueUrl: emulator.queueUrl,
        bucket,
        outputPrefix: dataPrefix,
        errorPrefix,
        sourceName: source,
        idField,
        region: emulator.region,
        flushMaxMessages: 500,
        flushMaxAgeMs: 300,
        visibilityTimeoutSeconds: 4,
        shutdownTimeoutSeconds: 10,
      }),
      [ENV.httpPort]: '0',
      [ENV.receiveWaitSeconds]: '1',
      [ENV.s3ForcePathStyle]: 'true',
    },
    clientConfig: emulator.clientConfig,
    logger: log,
    processMetrics: false,
  });
  ctx.onStop('queue consumer', async () => void (await consumer.stop()));

  const keys = async (prefix: string) => {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      found.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return found;
  };
  const lines = async (prefix: string) => {
    const all: string[] = [];
    for (const key of await keys(prefix)) {
      const bytes = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
      all.push(...gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean));
    }
    return all;
  };
  const publish = async (bodies: string[]) => {
    for (let i = 0; i < bodies.length; i += 10) {
      const batch = bodies.slice(i, i + 10);
      await sns.send(new PublishBatchCommand({ TopicArn: emulator.topicArn, PublishBatchRequestEntries: batch.map((Message, j) => ({ Id: `e${j}`, Message })) }));
    }
  };

  const batch = demoBatch(ctx.config, source, ctx.eventsPerSource);
  const sent = [...batch.lines, ...batch.replay];
  progress(NAME, `publishing ${batch.lines.length} messages to ${topic} (${batch.validIds.length} samples, ${batch.invalid} invalid, 1 duplicate)`);
  await publish(batch.lines);
  progress(NAME, `publishing a replayed batch of ${batch.replay.length}`);
  await publish(batch.replay);

  let data: string[] = [];
  let errors: string[] = [];
  await waitFor(
    `the consumer to write all ${sent.length} messages`,
    async () => {
      [data, errors] = [await lines(dataPrefix), await lines(errorPrefix)];
      progress(NAME, `written: ${data.length} data lines, ${errors.length} error lines of ${sent.length}`);
      return data.length + errors.length >= sent.length;
    },
    60_000,
    1_000,
  );

  // Freshness: a canary (the source's first sample with a canary id and now as event time) through the same path.
  const publishedAt = Date.now();
  await publish([JSON.stringify(canaryEvent({ source, template: canaryTemplate(ds), idField, eventTimeField: ds.eventTimeField }, publishedAt))]);
  let freshnessSeconds: number | undefined;
  await waitFor(
    'the canary receipt',
    async () => {
      const receipt = (await keys(`${RECEIPTS_PREFIX}${source}/`)).map(parseReceiptKey).find(Boolean);
      if (receipt) freshnessSeconds = (receipt.committedAtMs - receipt.publishedAtMs) / 1000;
      return receipt !== undefined;
    },
    30_000,
  ).catch((err: Error) => progress(NAME, `freshness not measured: ${err.message}`));

  // Every message sent is in the data (as its JSON body, once per delivery) or in the errors (verbatim, with the reason).
  const remaining = new Map<string, number>();
  for (const line of data) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  const errorBodies = new Map<string, number>();
  for (const line of errors) {
    const body = String((JSON.parse(line) as { body: unknown }).body);
    errorBodies.set(body, (errorBodies.get(body) ?? 0) + 1);
  }
  const unaccounted: string[] = [];
  const take = (map: Map<string, number>, key: string) => {
    const n = map.get(key) ?? 0;
    if (n > 0) map.set(key, n - 1);
    return n > 0;
  };
  for (const body of sent) {
    if (!take(remaining, JSON.stringify(JSON.parse(safe(body) ?? 'null'))) && !take(errorBodies, body)) unaccounted.push(body.slice(0, 80));
  }
  for (const [line, n] of remaining) if (n > 0) unaccounted.push(`written but never sent: ${line.slice(0, 80)}`);

  return {
    pipeline: NAME,
    source,
    read: sent.length,
    published: data.length,
    rejected: errors.length,
    reasons: errors.map((l) => String((JSON.parse(l) as { reason: unknown }).reason)),
    deduplicated: 0,
    committed: data.length,
    unaccounted,
    freshnessSeconds,
    rows: data.slice(0, 3).map((l) => JSON.parse(l) as Record<string, unknown>),
    locations: [
      ['data (gzip NDJSON)', `s3://${bucket}/${dataPrefix}dt=YYYY-MM-DD/hour=HH/ (fauxqs, in memory): ${(await keys(dataPrefix)).length} objects`],
      ['errors', `s3://${bucket}/${errorPrefix} (${(await keys(errorPrefix)).length} objects)`],
      ['freshness receipts', `s3://${bucket}/${RECEIPTS_PREFIX}${source}/`],
    ],
    notes: [
      'at-least-once: the duplicate and the replayed batch are committed again (deduplicate by id when querying)',
      'the consumer checks JSON only: the event without its id is committed (the landing zone\'s schema check is not on this path)',
      ...log.problems.slice(0, 3),
    ],
  };
}

/** The body as JSON text when it parses (the consumer writes the parsed body back compactly), else undefined. */
function safe(body: string): string | undefined {
  try {
    JSON.parse(body);
    return body;
  } catch {
    return undefined;
  }
}
