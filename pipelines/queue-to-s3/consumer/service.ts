/**
 * The service as index.ts runs it, minus the process: configuration read and checked, AWS clients built once, the
 * consumer polling, /healthz and /metrics served. Tests start it in-process against local emulators (`clientConfig`
 * points both clients at one); index.ts adds the signals and the exit code.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConsumerConfig, loadConfig } from './config';
import { Consumer, createConsumer, Log } from './consumer';
import { CONSUMER_SERVICE } from './contract';
import { createHttpServer, listen } from './http';
import { ConsumerMetrics, createMetrics } from './metrics';

export interface ServiceOptions {
  /** Where the configuration is read from (contract.ts `ENV`). @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Settings for both AWS clients, over the defaults: an emulator's endpoint, region and credentials. Without it the
   * SDK reads its own variables (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3, the credential chain) from process.env.
   */
  clientConfig?: Pick<SQSClientConfig, 'endpoint' | 'region' | 'credentials'>;
  /** @default a Powertools Logger (JSON on stdout) */
  logger?: Log;
  /** Add prom-client's process and Node.js metrics (CPU, RSS, GC, event-loop lag). @default true */
  processMetrics?: boolean;
}

export interface Service {
  config: ConsumerConfig;
  consumer: Consumer;
  metrics: ConsumerMetrics;
  logger: Log;
  /** The port /healthz and /metrics listen on (HTTP_PORT; 0 picks a free one). */
  port: number;
  /** Drains (consumer.stop: no more polls, flush, delete), then closes the HTTP server and the clients. */
  stop(): Promise<{ held: number }>;
}

/** Starts the service; throws a ConfigError (config.ts) naming every bad variable before anything starts. */
export async function startService(options: ServiceOptions = {}): Promise<Service> {
  const config = loadConfig(options.env ?? process.env);
  const logger = options.logger ?? new Logger({ serviceName: CONSUMER_SERVICE });
  // Long polls hold a connection for up to RECEIVE_WAIT_SECONDS: one socket per poller, plus room for the deletes
  // and visibility changes running alongside; requests that hang are cut off rather than stalling a poller forever.
  const sqs = new SQSClient({
    region: config.queueRegion,
    // The endpoint comes from the region (or AWS_ENDPOINT_URL_SQS locally), not from the queue URL's host.
    useQueueUrlAsEndpoint: false,
    requestHandler: new NodeHttpHandler({
      requestTimeout: (config.receiveWaitSeconds + 10) * 1000,
      connectionTimeout: 5_000,
      httpsAgent: { keepAlive: true, maxSockets: config.pollers + 32 },
      httpAgent: { keepAlive: true, maxSockets: config.pollers + 32 },
    }),
    ...options.clientConfig,
  });
  const s3 = new S3Client({
    forcePathStyle: config.s3ForcePathStyle,
    requestHandler: new NodeHttpHandler({ requestTimeout: 120_000, connectionTimeout: 5_000 }),
    ...options.clientConfig,
  });
  // The SDK's logger middleware copies and filters every request and response for a logger even when there is none
  // (its default no-op logger still has an `info` method), on every receive of 10 messages. This service logs what
  // matters itself.
  for (const client of [sqs, s3]) client.middlewareStack.remove('loggerMiddleware');
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? true });
  const consumer = createConsumer({ sqs, s3, config, metrics, logger });
  const server = createHttpServer(consumer.health, metrics.registry);
  let port: number;
  try {
    port = await listen(server, config.httpPort);
  } catch (err) {
    sqs.destroy();
    s3.destroy();
    throw err;
  }
  logger.info('Listening', { port, queueUrl: config.queueUrl, bucket: config.outputBucket, prefix: config.outputPrefix, canary: config.canary });
  consumer.start();
  let stopped: Promise<{ held: number }> | undefined;
  return {
    config,
    consumer,
    metrics,
    logger,
    port,
    stop: () =>
      (stopped ??= consumer.stop().then((result) => {
        server.close();
        server.closeAllConnections();
        sqs.destroy();
        s3.destroy();
        return result;
      })),
  };
}
