import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, KafkaConfig, logLevel, Message, Partitioners, Producer } from 'kafkajs';
import { fullJitterDelay, PublishError, RetryPolicy, sleep as realSleep } from './backoff';
import { OutboundEvent, Publisher } from './publisher';

export interface KafkaConnection {
  brokers: string[];
  /** `iam`: SASL OAUTHBEARER with an MSK IAM token signed by the function's role. */
  auth: 'iam' | 'none';
  tls: boolean;
  /** Region of the MSK cluster, for IAM tokens. */
  region?: string;
  clientId: string;
}

/**
 * Creates a producer for one container. Its own retries are off: `KafkaWriter` owns the retry policy, so that
 * MAX_PUBLISH_ATTEMPTS means the same for Kafka and Kinesis and every retry is counted. Topics are never created
 * implicitly: the stack creates them with the intended partitions and replication.
 */
export function createKafkaProducer(connection: KafkaConnection): Producer {
  const config: KafkaConfig = {
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.tls,
    logLevel: logLevel.WARN,
  };
  if (connection.auth === 'iam') {
    const region = connection.region;
    if (!region) throw new Error('MSK IAM authentication needs the cluster region (AWS_REGION)');
    config.sasl = {
      mechanism: 'oauthbearer',
      // Called on every (re)connection; tokens are valid for 15 minutes.
      oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region })).token }),
    };
  }
  return new Kafka(config).producer({
    allowAutoTopicCreation: false,
    retry: { retries: 0 },
    // murmur2 on the key, like the Java client: a key lands on the same partition whoever produces it.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

export interface KafkaWriterOptions {
  producer: Pick<Producer, 'send'>;
  topic: string;
  retry: RetryPolicy;
  /** Messages per produce request. */
  maxBatchMessages?: number;
  /** Bytes (keys + values) per produce request; keeps each partition's record batch under MSK's 1 MB default. */
  maxBatchBytes?: number;
}

/**
 * Publishes events as Kafka messages keyed by partition key, with the event id in an `event-id` header. Each send
 * waits for all in-sync replicas (acks = -1). A failed send is retried whole after a full-jitter backoff: messages
 * that had landed on a healthy broker may then be written twice, which the event id lets consumers detect.
 */
export class KafkaWriter implements Publisher {
  private batch: Message[] = [];
  private batchBytes = 0;
  private publishedCount = 0;
  private retriedCount = 0;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;

  constructor(private readonly options: KafkaWriterOptions) {
    this.maxBatchMessages = options.maxBatchMessages ?? 500;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
  }

  get published(): number {
    return this.publishedCount;
  }

  get retried(): number {
    return this.retriedCount;
  }

  checkPartitionKey(key: string): string | undefined {
    return key.length === 0 ? 'partition key is empty' : undefined;
  }

  add(event: OutboundEvent): Promise<void> | undefined {
    const size = event.data.length + Buffer.byteLength(event.partitionKey, 'utf8');
    const full = this.batch.length > 0 && (this.batch.length === this.maxBatchMessages || this.batchBytes + size > this.maxBatchBytes);
    // flush() takes the full batch at once, so this event can start the next batch while that one is sent.
    const sending = full ? this.flush() : undefined;
    this.batch.push({ key: event.partitionKey, value: event.data, headers: { 'event-id': event.id } });
    this.batchBytes += size;
    return sending;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const messages = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    const { retry, topic } = this.options;
    let lastError: unknown;
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      if (attempt > 1) {
        this.retriedCount += messages.length;
        await (retry.sleep ?? realSleep)(fullJitterDelay(attempt - 1, retry));
      }
      try {
        await this.options.producer.send({ topic, acks: -1, messages });
        this.publishedCount += messages.length;
        return;
      } catch (err) {
        lastError = err;
        // kafkajs marks errors another attempt cannot fix (e.g. authorization, message too large).
        if ((err as { retriable?: boolean }).retriable === false) break;
      }
    }
    throw new PublishError(
      `producing ${messages.length} messages to Kafka topic ${topic} failed: ${(lastError as Error).message}`,
      messages.length,
      { cause: lastError },
    );
  }
}
