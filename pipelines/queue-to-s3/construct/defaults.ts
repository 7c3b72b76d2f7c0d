import { Duration } from 'aws-cdk-lib';

/**
 * The QueueToS3Consumer's defaults, stated once: the construct applies them to unset props, the `queueToS3` section
 * of cdk.json (config.ts) defaults to them, and the props' JSDoc names them.
 */
export const QUEUE_TO_S3_DEFAULTS = {
  fifo: false,
  visibilityTimeout: Duration.seconds(60),
  maxReceiveCount: 5,
  retentionPeriod: Duration.days(4),
  namespace: 'queue-to-s3',
  consumer: {
    flushMaxMessages: 10_000,
    flushMaxAge: Duration.seconds(5),
    minReplicas: 1,
    maxReplicas: 10,
    messagesPerReplica: 1000,
    cpuMillicores: 500,
    memoryMiB: 1024,
  },
  alarms: { maxMessageAge: Duration.minutes(5) },
};
