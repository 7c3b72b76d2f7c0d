/**
 * Custom-resource handler (CDK Provider framework) that creates the account-level DMS roles when they are missing and
 * never deletes them. The client is created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { IAMClient } from '@aws-sdk/client-iam';
import { createAccountRoles } from './account-roles';

const logger = new Logger({ serviceName: 'dms-account-roles' });
export const { onEvent, isComplete } = createAccountRoles({ iam: new IAMClient({}), log: (message, details) => logger.info(message, details ?? {}) });
