/**
 * The freshness canary's receipt writer (S3 notification on the heartbeat table's change-log folder). The client is
 * created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readEnv, required } from '../../../../platform/handlers/env';
import { RECEIPTS_ENV } from '../heartbeat-writer/contract';
import { readColumns } from './parquet';
import { s3AsyncBuffer } from './s3-range';
import { createReceiptWriter } from './receipts';

const logger = new Logger({ serviceName: 'cdc-heartbeat-receipts' });
const env = readEnv('cdc-heartbeat-receipts', process.env, z.object({ [RECEIPTS_ENV.changeFolder]: required(), [RECEIPTS_ENV.kmsKeyArn]: required() }));
const s3 = new S3Client({});

export const onObjectCreated = createReceiptWriter({
  s3,
  changeFolder: env[RECEIPTS_ENV.changeFolder],
  kmsKeyArn: env[RECEIPTS_ENV.kmsKeyArn],
  open: (bucket, key, size) => s3AsyncBuffer(s3, bucket, key, size),
  readColumns,
  log: (message, details) => logger.info(message, details ?? {}),
});
