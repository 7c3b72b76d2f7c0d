/** Custom-resource handler (CDK Provider framework): completes once a Kinesis stream consumer is ACTIVE (waiter.ts). */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createWaiter } from './waiter';

export const { onEvent, isComplete } = createWaiter(new KinesisClient());
