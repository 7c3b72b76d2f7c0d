import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CONSUMER_SERVICE, METRIC } from './contract';

export type FailedStage = 'write' | 'receipt' | 'delete' | 'visibility';
export type FlushTrigger = 'size' | 'bytes' | 'age' | 'shutdown';

/** The consumer's Prometheus metrics, on a registry of their own (names in contract.ts). */
export interface ConsumerMetrics {
  registry: Registry;
  received: Counter<never>;
  written: Counter<'output'>;
  deleted: Counter<never>;
  canariesCommitted: Counter<never>;
  failed: Counter<'stage'>;
  receiveErrors: Counter<'code'>;
  visibilityExtensions: Counter<never>;
  buffered: Gauge<never>;
  batchAge: Histogram<never>;
  batchSize: Histogram<never>;
  batchBytes: Histogram<never>;
  flushDuration: Histogram<never>;
  flushes: Counter<'trigger' | 'result'>;
}

/** Builds the metrics; `processMetrics` adds prom-client's default process and Node.js metrics (CPU, RSS, GC, event loop lag). */
export function createMetrics(options: { processMetrics?: boolean } = {}): ConsumerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: CONSUMER_SERVICE });
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    received: new Counter({ name: METRIC.messagesReceived, help: 'Messages received from SQS (redeliveries included)', registers }),
    written: new Counter({
      name: METRIC.messagesWritten,
      help: 'Messages written to S3, by output: data (valid JSON) or error (not JSON)',
      labelNames: ['output'],
      registers,
    }),
    deleted: new Counter({ name: METRIC.messagesDeleted, help: 'Messages deleted from SQS after their object was written', registers }),
    canariesCommitted: new Counter({
      name: METRIC.canariesCommitted,
      help: 'Freshness canaries committed: their batch written and their receipt put',
      registers,
    }),
    failed: new Counter({
      name: METRIC.messagesFailed,
      help: "Messages whose processing failed, by stage: write (S3 put), receipt (a canary's receipt put), delete, visibility (extension)",
      labelNames: ['stage'],
      registers,
    }),
    receiveErrors: new Counter({
      name: METRIC.receiveErrors,
      help: 'ReceiveMessage calls that failed after the SDK retries, by error code',
      labelNames: ['code'],
      registers,
    }),
    visibilityExtensions: new Counter({
      name: METRIC.visibilityExtensions,
      help: 'Visibility timeout extensions of buffered messages',
      registers,
    }),
    buffered: new Gauge({ name: METRIC.bufferedMessages, help: 'Messages held in memory (buffered or being written)', registers }),
    batchAge: new Histogram({
      name: METRIC.batchAge,
      help: "Seconds from a batch's first message to its flush",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    batchSize: new Histogram({
      name: METRIC.batchSize,
      help: 'Messages per flushed batch',
      buckets: [1, 10, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000],
      registers,
    }),
    batchBytes: new Histogram({
      name: METRIC.batchBytes,
      help: 'Uncompressed bytes per flushed batch',
      buckets: [1e3, 1e4, 1e5, 1e6, 4e6, 16e6, 64e6, 256e6],
      registers,
    }),
    flushDuration: new Histogram({
      name: METRIC.flushDuration,
      help: "Seconds to write a batch's objects to S3 and delete its messages",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    flushes: new Counter({
      name: METRIC.flushes,
      help: 'Flushed batches by trigger (size, bytes, age, shutdown) and result (ok, failed)',
      labelNames: ['trigger', 'result'],
      registers,
    }),
  };
}
