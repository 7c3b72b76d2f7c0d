/**
 * Custom-resource handler (CDK Provider framework) that builds the Flink job's JAR in CodeBuild during the deployment:
 * `onEvent` and `isComplete` are two Lambda functions built from this entry. Clients are created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { S3Client } from '@aws-sdk/client-s3';
import { createJobBuild } from './build';

const logger = new Logger({ serviceName: 'job-build' });
export const { onEvent, isComplete } = createJobBuild({
  codebuild: new CodeBuildClient(),
  s3: new S3Client(),
  log: (message, details) => logger.info(message, details ?? {}),
});
