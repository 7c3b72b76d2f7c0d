import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, KafkaConfig, logLevel, Message, Partitioners, Producer } from 'kafkajs';
import { fullJitterDelay, PublishError, RetryPolicy, sleep as realSleep } from './backoff';
import { OutboundEvent, Publisher, withTimeout } from './publisher';

export interface KafkaConnection {
  brokers: string[];
  /** `iam`: SASL OAUTHBEARER with an MSK IAM token signed by the function's role. */
  auth: 'iam' | 'none';
  tls: boolean;
  /** Region of the MSK cluster, for IAM tokens. */
  region?: string;
  clientId: string;
  /** Longest a produce request may wait for its acknowledgement. */
  requestTimeoutMs?: number;
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
    connectionTimeout: 5_000,
    // kafkajs fails a request that gets no answer in time (enforceRequestTimeout is on by default).
    requestTimeout: connection.requestTimeoutMs ?? 10_000,
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

/** Kafka's default `message.max.bytes` (MSK's too): the largest record batch a broker accepts. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Record batch (magic v2) layout: baseOffset 8, batchLength 4, partitionLeaderEpoch 4, magic 1, crc 4, attributes 2,
 * lastOffsetDelta 4, firstTimestamp 8, maxTimestamp 8, producerId 8, producerEpoch 2, baseSequence 4, count 4.
 * The broker compares this whole size with `message.max.bytes`.
 */
export const RECORD_BATCH_OVERHEAD = 61;
const EVENT_ID_HEADER = 'event-id';

const varintSize = (n: number): number => {
  let zigzag = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128);
    size++;
  }
  return size;
};

/**
 * Bytes one message takes inside a record batch, as kafkajs encodes it (uncompressed): length varint, attributes,
 * timestamp delta (up to 10 bytes as a varlong: counted at its maximum), offset delta (up to 5), key, value and the
 * `event-id` header, each with a varint length.
 */
export function kafkaRecordSize(event: Pick<OutboundEvent, 'id' | 'partitionKey' | 'data'>): number {
  const key = Buffer.byteLength(event.partitionKey, 'utf8');
  const id = Buffer.byteLength(event.id, 'utf8');
  const headers = 1 + varintSize(EVENT_ID_HEADER.length) + EVENT_ID_HEADER.length + varintSize(id) + id;
  const body = 1 + 10 + 5 + varintSize(key) + key + varintSize(event.data.length) + event.data.length + headers;
  return varintSize(body) + body;
}

export interface KafkaWriterOptions {
  producer: Pick<Producer, 'send'>;
  topic: string;
  retry: RetryPolicy;
  /** Messages per produce request. */
  maxBatchMessages?: number;
  /** The cluster's `message.max.bytes`: every produce request stays within one record batch of this size. */
  maxMessageBytes?: number;
  /** Longest one produce request may take (besides kafkajs' own request timeout). */
  callTimeoutMs?: number;
}

/**
 * Publishes events as Kafka messages keyed by partition key, with the event id in an `event-id` header. Each send
 * waits for all in-sync replicas (acks = -1). A failed send is retried whole after a full-jitter backoff: messages
 * that had landed on a healthy broker may then be written twice, which the event id lets consumers detect.
 * A send never holds more than fits one record batch of `maxMessageBytes`, so whatever partitions its messages go
 * to, no partition's batch is over the broker's limit. One send at a time: per-key order is file order.
 */
export class KafkaWriter implements Publisher {
  private batch: Message[] = [];
  private batchBytes = RECORD_BATCH_OVERHEAD;
  private publishedCount = 0;
  private retriedCount = 0;
  private readonly maxBatchMessages: number;
  private readonly maxMessageBytes: number;
  private readonly callTimeoutMs: number;

  constructor(private readonly options: KafkaWriterOptions) {
    this.maxBatchMessages = options.maxBatchMessages ?? 500;
    this.maxMessageBytes = options.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    this.callTimeoutMs = options.callTimeoutMs ?? 15_000;
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

  checkSize(event: OutboundEvent): string | undefined {
    const size = RECORD_BATCH_OVERHEAD + kafkaRecordSize(event);
    return size > this.maxMessageBytes
      ? `record is ${size} bytes as a Kafka record batch (key, event-id header and batch header included), over the broker's ${this.maxMessageBytes}-byte message.max.bytes`
      : undefined;
  }

  add(event: OutboundEvent): Promise<void> | undefined {
    const size = kafkaRecordSize(event);
    if (RECORD_BATCH_OVERHEAD + size > this.maxMessageBytes) {
      throw new RangeError(`record ${event.id} is over the ${this.maxMessageBytes}-byte message.max.bytes`);
    }
    const full = this.batch.length > 0 && (this.batch.length === this.maxBatchMessages || this.batchBytes + size > this.maxMessageBytes);
    // flush() takes the full batch at once, so this event can start the next batch while that one is sent.
    const sending = full ? this.flush() : undefined;
    this.batch.push({ key: event.partitionKey, value: event.data, headers: { [EVENT_ID_HEADER]: event.id } });
    this.batchBytes += size;
    return sending;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const messages = this.batch;
    this.batch = [];
    this.batchBytes = RECORD_BATCH_OVERHEAD;
    const { retry, topic } = this.options;
    let lastError: unknown;
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      if (attempt > 1) {
        this.retriedCount += messages.length;
        await (retry.sleep ?? realSleep)(fullJitterDelay(attempt - 1, retry));
      }
      try {
        await withTimeout(this.callTimeoutMs, 'Kafka produce', () => this.options.producer.send({ topic, acks: -1, messages }));
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
