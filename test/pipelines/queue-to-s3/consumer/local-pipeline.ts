/**
 * Pipeline 1 on this machine: fauxqs (SNS topic → SQS queue with raw delivery and a DLQ, and the output bucket, in a
 * child process: test/integration/sqs-emulator.ts) and the consumer service started in-process with the production
 * wiring (pipelines/queue-to-s3/consumer/service.ts) and the environment the construct deploys
 * (construct/workload.ts consumerEnvironment), sped up for tests. The consumer can be stopped and started again
 * against the same queue and bucket, e.g. to show that freshness receipts stop when it does.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../../../../pipelines/queue-to-s3/consumer/contract';
import { Service, startService } from '../../../../pipelines/queue-to-s3/consumer/service';
import { consumerEnvironment } from '../../../../pipelines/queue-to-s3/construct/workload';
import { RECEIPTS_PREFIX } from '../../../../platform/freshness/contract';
import { SqsEmulator, startSqsEmulator } from '../../../integration/sqs-emulator';
import { MemoryLog } from './fixtures';

export interface LocalPipelineOptions {
  /** The data source: names the topic and queue, the data prefix `<source>/` and the receipts' `_freshness/<source>/`. */
  source: string;
  /** The source's id field (the canary's id goes there). */
  idField: string;
  /** @default 'lake' */
  bucket?: string;
}

export interface LocalPipeline {
  emulator: SqsEmulator;
  bucket: string;
  /** Where the consumer writes the source's data objects (the construct's outputPrefix). */
  dataPrefix: string;
  /** The consumer running now, if any. */
  consumer?: Service;
  /** The running consumer's log. */
  log: MemoryLog;
  /** Starts the consumer (env: extra variables over the deployed ones); one at a time. */
  startConsumer(env?: Record<string, string>): Promise<Service>;
  /** Stops it gracefully (drains what it holds); resolves once it is stopped. */
  stopConsumer(): Promise<void>;
  /** Publishes each body as one SNS message, 10 per PublishBatch call. */
  publish(bodies: string[]): Promise<void>;
  /** The keys under `prefix` in the bucket. */
  keys(prefix: string): Promise<string[]>;
  /** The object's bytes, gunzipped when the key ends in `.gz`. */
  read(key: string): Promise<string>;
  /** Stops the consumer and the emulator. */
  stop(): Promise<void>;
}

export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const bucket = options.bucket ?? 'lake';
  const dataPrefix = `${options.source}/`;
  const emulator = await startSqsEmulator({
    topic: options.source,
    queue: { name: options.source, visibilityTimeoutSeconds: 4, maxReceiveCount: 5 },
    buckets: [bucket],
  });
  const s3 = new S3Client({ ...emulator.clientConfig, forcePathStyle: true });
  const sns = new SNSClient(emulator.clientConfig);
  // As the construct deploys it (construct/index.ts), with the emulator's queue and a faster pace.
  const deployed = consumerEnvironment({
    queueUrl: emulator.queueUrl,
    bucket,
    outputPrefix: dataPrefix,
    errorPrefix: `errors/${dataPrefix}`,
    sourceName: options.source,
    idField: options.idField,
    region: emulator.region,
    flushMaxMessages: 500,
    flushMaxAgeMs: 300,
    visibilityTimeoutSeconds: 4,
    shutdownTimeoutSeconds: 10,
  });
  const local = { [ENV.httpPort]: '0', [ENV.receiveWaitSeconds]: '1', [ENV.s3ForcePathStyle]: 'true' };

  const pipeline: LocalPipeline = {
    emulator,
    bucket,
    dataPrefix,
    log: new MemoryLog(),
    async startConsumer(env = {}) {
      if (pipeline.consumer) throw new Error('the consumer is already running');
      pipeline.log = new MemoryLog();
      pipeline.consumer = await startService({
        env: { ...deployed, ...local, ...env },
        clientConfig: emulator.clientConfig,
        logger: pipeline.log,
        processMetrics: false,
      });
      return pipeline.consumer;
    },
    async stopConsumer() {
      const consumer = pipeline.consumer;
      pipeline.consumer = undefined;
      await consumer?.stop();
    },
    async publish(bodies) {
      for (let i = 0; i < bodies.length; i += 10) {
        const batch = bodies.slice(i, i + 10);
        await sns.send(
          new PublishBatchCommand({ TopicArn: emulator.topicArn, PublishBatchRequestEntries: batch.map((Message, j) => ({ Id: `e${j}`, Message })) }),
        );
      }
    },
    async keys(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    },
    async read(key) {
      const bytes = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
      return (key.endsWith('.gz') ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8');
    },
    async stop() {
      await pipeline.stopConsumer();
      s3.destroy();
      sns.destroy();
      await emulator.stop();
    },
  };
  return pipeline;
}

/** The receipts' prefix of a source. */
export const receiptsOf = (source: string) => `${RECEIPTS_PREFIX}${source}/`;
