/**
 * The broker side of a replay: the landing zone validator's own writers (KinesisWriter, KafkaWriter), which batch
 * within the service limits, keep calls in flight bounded, and retry only what failed with full-jitter backoff.
 */
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import type { Producer } from 'kafkajs';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from '../../platform/handlers/backoff';
import { createKafkaProducer, KafkaWriter } from '../../platform/handlers/kafka-writer';
import { createKinesisClient, KinesisWriter } from '../../platform/handlers/kinesis-writer';
import { Publisher } from '../../platform/handlers/publisher';
import { Broker } from './target';

/** Attempts per record (the first included): a replay is attended, so it retries longer than the validator (8 ≈ 25 s of backoff at most). */
export const REPLAY_MAX_ATTEMPTS = 8;

export interface ReplayPublisher {
  publisher: Publisher;
  /** Where the events go, for the log. */
  describe: string;
  /** Opens the connection (Kafka); a dry run never calls it. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export async function createPublisher(broker: Broker, options: { region?: string; retry?: Partial<RetryPolicy> } = {}): Promise<ReplayPublisher> {
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: REPLAY_MAX_ATTEMPTS, ...options.retry };
  if (broker.kind === 'kinesis') {
    // Endpoint: the SDK's AWS_ENDPOINT_URL_KINESIS when set (kinesalite in the tests).
    const client = createKinesisClient({ timeoutMs: 10_000, ...(options.region ? { region: options.region } : {}) });
    const streamArn = await streamArnOf(client, broker.stream);
    return {
      publisher: new KinesisWriter({ client, streamArn, retry }),
      describe: `Kinesis stream ${streamArn}`,
      connect: async () => undefined,
      close: async () => client.destroy(),
    };
  }
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const producer: Producer = createKafkaProducer({
    brokers: broker.brokers,
    auth: broker.auth,
    tls: broker.tls,
    region,
    clientId: 'stream-foundry-replay',
  });
  let connected = false;
  return {
    publisher: new KafkaWriter({ producer, topic: broker.topic, retry }),
    describe: `Kafka topic ${broker.topic} on ${broker.brokers.join(',')} (${broker.auth === 'iam' ? 'IAM over TLS' : 'plaintext'})`,
    connect: async () => {
      await producer.connect();
      connected = true;
    },
    close: async () => {
      if (connected) await producer.disconnect();
    },
  };
}

/** The stream's ARN (the writer signs requests with it); DescribeStreamSummary also proves the stream is there. */
async function streamArnOf(client: Pick<KinesisClient, 'send'>, stream: string): Promise<string> {
  if (stream.startsWith('arn:')) return stream;
  const { StreamDescriptionSummary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  return StreamDescriptionSummary!.StreamARN!;
}
