/**
 * Landing-zone validator Lambda: S3 object created → SNS → here. Validates every event of the object against the
 * source's JSON Schema, publishes valid ones to Kinesis or Kafka and writes invalid ones to the error bucket.
 * Everything below runs once per container (cold start); `handler` runs per invocation. See README.md.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
// Types only (erased): the Kafka modules are loaded below, and only for a Kafka target.
import type { Producer } from 'kafkajs';
import type * as KafkaWriterModule from '../../handlers/kafka-writer';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from '../../handlers/backoff';
import { createKinesisClient, KinesisWriter } from '../../handlers/kinesis-writer';
import { Publisher } from '../../handlers/publisher';
import { loadSchemaFile } from '../../handlers/schema-validator';
import { loadConfig, ValidatorConfig } from './config';
import { METRICS_NAMESPACE, SOURCE_DIMENSION, VALIDATOR_SERVICE } from './contract';
import { createHandler } from './handler';

const config = loadConfig(process.env, __dirname);
const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: config.maxPublishAttempts };
const logger = new Logger({ serviceName: VALIDATOR_SERVICE });

function publisherFactory({ target, publishTimeoutMs, publishConcurrency, sourceName, region }: ValidatorConfig): () => Promise<Publisher> {
  if (target.kind === 'kinesis') {
    const client = createKinesisClient({ timeoutMs: publishTimeoutMs });
    return async () =>
      new KinesisWriter({ client, streamArn: target.streamArn, retry, concurrency: publishConcurrency, callTimeoutMs: publishTimeoutMs });
  }
  // Loaded only here, so a Kinesis validator never loads kafkajs or the MSK signer. A plain require of a literal path:
  // esbuild still bundles the module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafka: typeof KafkaWriterModule = require('../../handlers/kafka-writer');
  const producer = kafka.createKafkaProducer({
    brokers: target.brokers,
    auth: target.auth,
    tls: target.tls,
    region,
    clientId: `landing-validator-${sourceName}`,
    requestTimeoutMs: publishTimeoutMs,
  });
  let connected: Promise<void> | undefined;
  const connect = (p: Producer): Promise<void> =>
    (connected ??= p.connect().catch((err: unknown) => {
      connected = undefined; // let the next object (or invocation) try again
      throw err;
    }));
  return async () => {
    await connect(producer);
    return new kafka.KafkaWriter({
      producer,
      topic: target.topic,
      retry,
      maxMessageBytes: target.maxMessageBytes,
      callTimeoutMs: publishTimeoutMs + 5_000, // kafkajs' own request timeout fires first
    });
  };
}

const schema = loadSchemaFile(config.schemaPath);
if (schema.unknownKeywords.length > 0 || schema.annotationFormats.length > 0) {
  logger.warn('The schema has keywords or formats that are not checked', {
    schemaPath: config.schemaPath,
    unknownKeywords: schema.unknownKeywords,
    annotationFormats: schema.annotationFormats,
  });
}

export const handler = createHandler({
  s3: new S3Client({ forcePathStyle: config.s3ForcePathStyle }),
  source: config.sourceName,
  errorBucket: config.errorBucket,
  validate: schema.validate,
  idField: config.idField,
  partitionKeyField: config.partitionKeyField,
  createPublisher: publisherFactory(config),
  logger,
  metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: VALIDATOR_SERVICE, defaultDimensions: { [SOURCE_DIMENSION]: config.sourceName } }),
});
