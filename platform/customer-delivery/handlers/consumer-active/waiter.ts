import { DescribeStreamConsumerCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import { customResource } from '../../../handlers/custom-resource';

/**
 * Waits until a registered enhanced fan-out consumer is ACTIVE. `AWS::Kinesis::StreamConsumer` reports
 * CREATE_COMPLETE while the consumer is still CREATING, and Kinesis refuses a resource policy on a consumer that is
 * not ACTIVE ("... is not in ACTIVE status", cloudformation-coverage-roadmap#2442): the consumer's policy, and the next
 * consumers of the same stream (Kinesis creates at most 5 at a time), depend on this resource.
 */
export const schema = z.object({ ConsumerArn: z.string().regex(/^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/.+\/consumer\/.+:\d+$/) });

export function createWaiter(kinesis: Pick<KinesisClient, 'send'>) {
  return customResource({
    schema,
    // Nothing to create: the consumer is CloudFormation's; this resource only waits for it.
    onCreate: async ({ ConsumerArn }) => ({ PhysicalResourceId: ConsumerArn }),
    isComplete: async ({ ConsumerArn }, event) => {
      if (event.RequestType === 'Delete') return true;
      const { ConsumerDescription } = await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: ConsumerArn }));
      const status = ConsumerDescription?.ConsumerStatus;
      if (status === 'DELETING') throw new Error(`consumer ${ConsumerArn} is being deleted`);
      return status === 'ACTIVE';
    },
  });
}
