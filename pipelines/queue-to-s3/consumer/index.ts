/**
 * The queue consumer service (pipeline 1: SNS → SQS → this → S3), a long-running process. Reads its configuration
 * from the environment (config.ts; invalid → one clear error, exit 1), builds the AWS clients once, serves /healthz
 * and /metrics, polls until SIGTERM/SIGINT, then drains: stops polling, flushes, deletes, exits 0. See README.md.
 *
 *   npm run consumer                       # from the repository, with QUEUE_URL, OUTPUT_BUCKET ... set
 *   node queue-consumer.js                 # the esbuild bundle (build.ts), no node_modules needed
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConfigError, loadConfig } from './config';
import { createConsumer } from './consumer';
import { CONSUMER_SERVICE } from './contract';
import { createHttpServer, listen } from './http';
import { createMetrics } from './metrics';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = new Logger({ serviceName: CONSUMER_SERVICE });
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
  });
  const s3 = new S3Client({
    forcePathStyle: config.s3ForcePathStyle,
    requestHandler: new NodeHttpHandler({ requestTimeout: 120_000, connectionTimeout: 5_000 }),
  });
  // The SDK's logger middleware copies and filters every request and response for a logger even when there is none
  // (its default no-op logger still has an `info` method), on every receive of 10 messages. This service logs what
  // matters itself.
  for (const client of [sqs, s3]) client.middlewareStack.remove('loggerMiddleware');
  const metrics = createMetrics({ processMetrics: true });
  const consumer = createConsumer({ sqs, s3, config, metrics, logger });
  const server = createHttpServer(consumer.health, metrics.registry);
  const port = await listen(server, config.httpPort);
  logger.info('Listening', { port, queueUrl: config.queueUrl, bucket: config.outputBucket, prefix: config.outputPrefix });
  consumer.start();

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('Stopping: no more polling; flushing and deleting what is buffered', { signal, ...consumer.health() });
    setTimeout(() => {
      logger.error('Shutdown timed out; exiting with messages undeleted (they reappear after their visibility timeout)', consumer.health());
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000).unref();
    const { held } = await consumer.stop();
    server.close();
    server.closeAllConnections();
    sqs.destroy();
    s3.destroy();
    logger.info('Stopped', { held });
    process.exit(held === 0 ? 0 : 1);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => {
    logger.error('Unhandled rejection; exiting (undeleted messages reappear after their visibility timeout)', { error: err as Error });
    process.exit(1);
  });
}

main().catch((err) => {
  // A configuration error is the operator's to fix: print it plainly, without a stack trace.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
