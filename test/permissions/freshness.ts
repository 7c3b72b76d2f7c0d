/**
 * The requests of the freshness canary (platform/freshness/handlers/canary), recorded with aws-sdk-client-mock for
 * the input each schedule rule deploys (its resolved `Input`): one canary into the landing bucket or the topic.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { CanaryTarget, publishCanary } from '../../platform/freshness/canary';
import { recorded } from '../support/aws-requests';
import { AwsRequest, StackPolicies } from '../support/iam-proof';

/** The canary function of `stack` and the targets its schedules invoke it with (as deployed). */
export function canaryOf(stack: StackPolicies): { functionId: string; targets: CanaryTarget[] } | undefined {
  const functions = stack.find('AWS::Lambda::Function', 'FreshnessCanary');
  if (functions.length === 0) return undefined;
  const [functionId] = functions;
  const targets = stack
    .find('AWS::Events::Rule', 'Freshness')
    .flatMap((id) => stack.resources[id].Properties.Targets as { Input: unknown }[])
    .map((t) => JSON.parse(String(stack.value(t.Input))) as CanaryTarget);
  return { functionId, targets };
}

export async function canaryRequests(targets: CanaryTarget[]): Promise<AwsRequest[]> {
  const s3 = mockClient(S3Client);
  const sns = mockClient(SNSClient);
  try {
    s3.onAnyCommand().rejects(new Error('unexpected S3 command'));
    sns.onAnyCommand().rejects(new Error('unexpected SNS command'));
    s3.on(PutObjectCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    for (const target of targets) await publishCanary({ s3: new S3Client({ region: 'eu-west-1' }), sns: new SNSClient({ region: 'eu-west-1' }) }, target);
    return recorded({ s3, sns });
  } finally {
    s3.restore();
    sns.restore();
  }
}
