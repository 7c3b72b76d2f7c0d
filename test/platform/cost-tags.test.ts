import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { applyCostTags, COST_TAG_KEYS } from '../../platform/cost-tags';
import { SecureBucket } from '../../platform/secure-bucket';
import { testStack } from '../support/aws';

describe('applyCostTags', () => {
  test('tags every taggable resource, including ones created after the call', () => {
    const stack = testStack();
    new SecureBucket(stack, 'Before');
    applyCostTags(stack, { project: 'sf', team: 'data', costCenter: 'cc-42', environment: 'prod' });
    new logs.LogGroup(stack, 'After');
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties?: { Tags?: { Key: string; Value: string }[] } }>;
    const taggable = Object.values(resources).filter((r) => ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Logs::LogGroup'].includes(r.Type));
    expect(taggable).toHaveLength(4); // data bucket, its key, the access-log bucket, the log group
    for (const resource of taggable) {
      expect(resource.Properties?.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'Project', Value: 'sf' },
          { Key: 'Team', Value: 'data' },
          { Key: 'CostCenter', Value: 'cc-42' },
          { Key: 'Environment', Value: 'prod' },
        ]),
      );
    }
    expect(COST_TAG_KEYS).toEqual(['Project', 'Team', 'CostCenter', 'Environment']);
  });
});
