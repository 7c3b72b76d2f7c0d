/**
 * The contract between the QueueToS3Consumer construct (EKS) and the consumer service it runs: the environment
 * variables the construct sets and the service reads, the port it listens on, and the Prometheus metrics it serves.
 * Both sides import these names from here. (No CDK imports: this module is bundled into the service.)
 */

/** Environment variables of the consumer container. */
export const ENV = {
  /** Required: URL of the SQS queue to consume (the SNS topic's subscription queue). */
  queueUrl: 'QUEUE_URL',
  /** Required: bucket that receives the gzip NDJSON objects. */
  outputBucket: 'OUTPUT_BUCKET',
  /** Key prefix of the data objects, before `dt=YYYY-MM-DD/hour=HH/` (default `data/`; may be empty). */
  outputPrefix: 'OUTPUT_PREFIX',
  /** Bucket for messages that are not valid JSON (default: OUTPUT_BUCKET). */
  errorBucket: 'ERROR_BUCKET',
  /** Key prefix of the error objects (default `errors/`). */
  errorPrefix: 'ERROR_PREFIX',
  /**
   * The data source's name and its id field (set together, or neither): messages whose JSON has a freshness canary id
   * (platform/freshness) in ID_FIELD are kept out of the data objects and acknowledged with a receipt under
   * `_freshness/SOURCE_NAME/` in OUTPUT_BUCKET once their batch is written. Unset: every JSON message is data.
   */
  sourceName: 'SOURCE_NAME',
  idField: 'ID_FIELD',
  /** Flush a batch when it holds this many messages (default 10000). */
  flushMaxMessages: 'FLUSH_MAX_MESSAGES',
  /** Flush a batch when its message bodies add up to this many bytes, uncompressed (default 64 MiB). */
  flushMaxBytes: 'FLUSH_MAX_BYTES',
  /** Flush a batch this many milliseconds after its first message arrived (default 5000). */
  flushMaxAgeMs: 'FLUSH_MAX_AGE_MS',
  /** Seconds a received message stays invisible; the consumer keeps extending it while the message is buffered (default 60). */
  visibilityTimeoutSeconds: 'VISIBILITY_TIMEOUT_SECONDS',
  /** Long-poll wait of each ReceiveMessage call, 0-20 s (default 10; SIGTERM waits for the polls under way). */
  receiveWaitSeconds: 'RECEIVE_WAIT_SECONDS',
  /** Concurrent long-poll loops (default 4). */
  pollers: 'POLLERS',
  /** Polling pauses while this many messages are buffered or being written (default 2 x FLUSH_MAX_MESSAGES). */
  maxBufferedMessages: 'MAX_BUFFERED_MESSAGES',
  /** Batches written to S3 at the same time (default 2). */
  flushConcurrency: 'FLUSH_CONCURRENCY',
  /** Port of /healthz and /metrics (default 8080; 0 picks a free port, logged at start). */
  httpPort: 'HTTP_PORT',
  /** Seconds SIGTERM may take to flush and delete before the process gives up and exits 1 (default 25). */
  shutdownTimeoutSeconds: 'SHUTDOWN_TIMEOUT_SECONDS',
  /** Path-style S3 addressing, for local emulators (`true`/`false`, default false). */
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  /** Powertools log level (DEBUG, INFO, WARN, ERROR; default INFO). */
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  /** Read by the AWS SDK itself: region, and endpoint overrides for local runs. */
  region: 'AWS_REGION',
  sqsEndpoint: 'AWS_ENDPOINT_URL_SQS',
  s3Endpoint: 'AWS_ENDPOINT_URL_S3',
} as const;

export const DEFAULT_HTTP_PORT = 8080;
export const HEALTH_PATH = '/healthz';
export const METRICS_PATH = '/metrics';

/** The service name in logs and the `service` label of every metric. */
export const CONSUMER_SERVICE = 'queue-consumer';

/** Prometheus metrics served on /metrics (counters end in `_total`). */
export const METRIC = {
  /** Messages returned by ReceiveMessage (redeliveries included). */
  messagesReceived: 'queue_consumer_messages_received_total',
  /** Messages written to S3, label `output`: `data` (valid JSON) or `error` (not JSON, to the error prefix). */
  messagesWritten: 'queue_consumer_messages_written_total',
  /** Messages deleted from the queue after their object was written. */
  messagesDeleted: 'queue_consumer_messages_deleted_total',
  /** Freshness canaries committed: their batch was written and their receipt put to `_freshness/<source>/`. */
  canariesCommitted: 'queue_consumer_canaries_committed_total',
  /**
   * Messages whose processing failed, label `stage`: `write` (S3 put failed; the message reappears after the
   * visibility timeout), `receipt` (a canary's receipt put failed; likewise), `delete` (written but not deleted: it
   * will be written again), `visibility` (extension failed).
   */
  messagesFailed: 'queue_consumer_messages_failed_total',
  /** ReceiveMessage calls that failed after the SDK's retries, label `code` (e.g. `ThrottlingException`). */
  receiveErrors: 'queue_consumer_receive_errors_total',
  /** ChangeMessageVisibility extensions sent for buffered messages. */
  visibilityExtensions: 'queue_consumer_visibility_extensions_total',
  /** Messages held in memory (buffered or being written) now. */
  bufferedMessages: 'queue_consumer_buffered_messages',
  /** Histogram: seconds from a batch's first message to its flush. */
  batchAge: 'queue_consumer_batch_age_seconds',
  /** Histogram: messages per flushed batch. */
  batchSize: 'queue_consumer_batch_size_messages',
  /** Histogram: uncompressed bytes per flushed batch. */
  batchBytes: 'queue_consumer_batch_size_bytes',
  /** Histogram: seconds to write a batch's objects and delete its messages. */
  flushDuration: 'queue_consumer_flush_duration_seconds',
  /** Flushed batches, label `trigger`: `size`, `bytes`, `age` or `shutdown`; label `result`: `ok` or `failed`. */
  flushes: 'queue_consumer_flushes_total',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];
