/**
 * Custom-resource handler (CDK Provider framework) that starts the pipeline's Managed Flink application on create and
 * after every update: `onEvent` and `isComplete` are two Lambda functions built from this entry. Clients are created
 * once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { GlueClient } from '@aws-sdk/client-glue';
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { createStarter } from './starter';

const logger = new Logger({ serviceName: 'flink-app-starter' });
export const { onEvent, isComplete } = createStarter({
  flink: new KinesisAnalyticsV2Client(),
  glue: new GlueClient(),
  log: (message, details) => logger.info(message, details ?? {}),
});
