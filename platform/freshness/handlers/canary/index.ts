/**
 * The freshness canary (EventBridge schedule, one rule per source whose input is that source's `CanaryTarget`):
 * publishes one canary event into the pipeline's entrance. A failed publish fails the invocation; EventBridge's
 * asynchronous invocation retries it, and a canary that never arrives shows as missing freshness (the SLO alarm).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { CanaryTarget, publishCanary } from '../../canary';

const logger = new Logger({ serviceName: 'freshness-canary' });
const clients = { s3: new S3Client({}), sns: new SNSClient({}) };

const target = z.object({
  source: z.string().min(1),
  template: z.record(z.string(), z.unknown()),
  idField: z.string().min(1),
  eventTimeField: z.string().min(1).optional(),
  entrance: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('landing'), bucket: z.string().min(1) }),
    z.object({ kind: z.literal('topic'), topicArn: z.string().startsWith('arn:') }),
  ]),
});

export async function onEvent(input: unknown): Promise<{ id: string }> {
  const parsed: CanaryTarget = target.parse(input);
  const id = await publishCanary(clients, parsed);
  logger.info('canary published', { source: parsed.source, id, entrance: parsed.entrance });
  return { id };
}
