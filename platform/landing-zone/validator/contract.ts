/**
 * The contract between the LandingZone construct and the validator it deploys: the environment variables the
 * construct sets and the handler reads, and the metrics the handler emits and the construct alarms on. Both sides
 * import these names from here, so renaming one side breaks the build instead of a deployed alarm.
 * (No CDK imports: this module is bundled into the Lambda.)
 */

/** Environment variables of the validator function. */
export const ENV = {
  sourceName: 'SOURCE_NAME',
  schemaPath: 'SCHEMA_PATH',
  idField: 'ID_FIELD',
  partitionKeyField: 'PARTITION_KEY_FIELD',
  target: 'TARGET',
  kinesisStreamArn: 'KINESIS_STREAM_ARN',
  kafkaBootstrapServers: 'KAFKA_BOOTSTRAP_SERVERS',
  kafkaTopic: 'KAFKA_TOPIC',
  kafkaAuth: 'KAFKA_AUTH',
  kafkaTls: 'KAFKA_TLS',
  errorBucket: 'ERROR_BUCKET',
  maxPublishAttempts: 'MAX_PUBLISH_ATTEMPTS',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  /** Optional: longest a single broker call (PutRecords, Kafka produce) may take before it is abandoned and retried. */
  publishTimeoutMs: 'PUBLISH_TIMEOUT_MS',
  /** Optional: broker calls in flight at once per object (Kinesis), 1 to 64. */
  publishConcurrency: 'PUBLISH_CONCURRENCY',
  /** Optional: the cluster's `message.max.bytes` (largest record batch), for Kafka targets. */
  kafkaMaxMessageBytes: 'KAFKA_MAX_MESSAGE_BYTES',
  /** Read by Powertools itself. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** Where valid events go: the value of `TARGET`. */
export const TARGET_KINDS = ['kinesis', 'kafka'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** Powertools service name (the `service` metric dimension) and EMF namespace. */
export const VALIDATOR_SERVICE = 'landing-validator';
export const METRICS_NAMESPACE = 'StreamFoundry/LandingZone';
/** The per-source dimension every metric carries besides `service`. */
export const SOURCE_DIMENSION = 'Source';

/**
 * The metrics the validator publishes (unit Count) once per object. A freshness canary file (`<source>/_canary/`,
 * platform/freshness) counts its events in `CanaryEvents` instead of read, valid and published, so the no-data alarm on
 * `EventsRead` still fires when publishers fall silent; a canary event that fails validation counts as invalid.
 */
export const METRIC = {
  eventsRead: 'EventsRead',
  canaryEvents: 'CanaryEvents',
  eventsValid: 'EventsValid',
  eventsInvalid: 'EventsInvalid',
  eventsPublished: 'EventsPublished',
  publishRetries: 'PublishRetries',
  objectsQuarantined: 'ObjectsQuarantined',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];
