/**
 * Landing-zone validator Lambda: S3 object created → SNS → here. Validates every event of the object against the
 * source's JSON Schema, publishes valid ones to Kinesis or Kafka and writes invalid ones to the error bucket.
 * Everything below runs once per container (cold start); `handler` runs per invocation. See README.md.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Producer } from 'kafkajs';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from '../shared/backoff';
import { createKafkaProducer, KafkaWriter } from '../shared/kafka-writer';
import { KinesisWriter } from '../shared/kinesis-writer';
import { Publisher } from '../shared/publisher';
import { loadSchema } from '../shared/schema-validator';
import { loadConfig, Target } from './config';
import { createHandler } from './handler';

const config = loadConfig(process.env, __dirname);
const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: config.maxPublishAttempts };

function publisherFactory(target: Target): () => Promise<Publisher> {
  if (target.kind === 'kinesis') {
    const client = new KinesisClient({
      // HTTP/1.1 keep-alive is all PutRecords needs (HTTP/2 matters only for SubscribeToShard), and it also works
      // against kinesalite. The writer owns retries (only failed entries, full jitter), so the SDK makes one attempt.
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
    });
    return async () => new KinesisWriter({ client, streamArn: target.streamArn, retry });
  }
  const producer = createKafkaProducer({
    brokers: target.brokers,
    auth: target.auth,
    tls: target.tls,
    region: config.region,
    clientId: `landing-validator-${config.sourceName}`,
  });
  let connected: Promise<void> | undefined;
  const connect = (p: Producer): Promise<void> =>
    (connected ??= p.connect().catch((err: unknown) => {
      connected = undefined; // let the next object (or invocation) try again
      throw err;
    }));
  return async () => {
    await connect(producer);
    return new KafkaWriter({ producer, topic: target.topic, retry });
  };
}

export const handler = createHandler({
  s3: new S3Client({ forcePathStyle: config.s3ForcePathStyle }),
  source: config.sourceName,
  errorBucket: config.errorBucket,
  validate: loadSchema(config.schemaPath),
  idField: config.idField,
  partitionKeyField: config.partitionKeyField,
  createPublisher: publisherFactory(config.target),
  logger: new Logger(),
  metrics: new Metrics({ defaultDimensions: { Source: config.sourceName } }),
});
