/**
 * The queue consumer service (pipeline 1: SNS → SQS → this → S3), a long-running process. Reads its configuration
 * from the environment (config.ts; invalid → one clear error, exit 1), builds the AWS clients once, serves /healthz
 * and /metrics (service.ts), polls until SIGTERM/SIGINT, then drains: stops polling, flushes, deletes, exits 0.
 * See README.md.
 *
 *   npm run consumer                       # from the repository, with QUEUE_URL, OUTPUT_BUCKET ... set
 *   node queue-consumer.js                 # the esbuild bundle (build.ts), no node_modules needed
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ConfigError } from './config';
import { CONSUMER_SERVICE } from './contract';
import { startService } from './service';

async function main(): Promise<void> {
  const logger = new Logger({ serviceName: CONSUMER_SERVICE });
  const service = await startService({ env: process.env, logger });
  const { config, consumer } = service;

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('Stopping: no more polling; flushing and deleting what is buffered', { signal, ...consumer.health() });
    setTimeout(() => {
      logger.error('Shutdown timed out; exiting with messages undeleted (they reappear after their visibility timeout)', consumer.health());
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000).unref();
    const { held } = await service.stop();
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
