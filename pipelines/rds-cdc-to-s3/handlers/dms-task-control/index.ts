/**
 * Custom-resource handler (CDK Provider framework) that keeps the pipeline's DMS task running across deployments:
 * `onEvent` and `isComplete` are two Lambda functions built from this entry. The client is created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import { createTaskControl } from './task-control';

const logger = new Logger({ serviceName: 'dms-task-control' });
export const { onEvent, isComplete } = createTaskControl({
  dms: new DatabaseMigrationServiceClient(),
  log: (message, details) => logger.info(message, details ?? {}),
});
