import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { complianceFindings, testStack } from '../support/aws';

describe('compliance gate (cdk-nag AwsSolutions)', () => {
  test('an insecure resource fails synthesis and every finding is named with its construct', () => {
    const stack = testStack();
    new s3.Bucket(stack, 'Plain');
    expect(complianceFindings(stack)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1 at TestStack/Plain/Resource', 'AwsSolutions-S10 at TestStack/Plain/Resource']),
    );
  });

  test('an acknowledgement covers its one rule on its one resource only', () => {
    const stack = testStack();
    const acknowledged = new s3.Bucket(stack, 'Acknowledged', { enforceSSL: true });
    new s3.Bucket(stack, 'Other', { enforceSSL: true });
    Validations.of(acknowledged).acknowledge({ id: 'AwsSolutions-S1', reason: 'test' });
    expect(complianceFindings(stack)).toEqual(['AwsSolutions-S1 at TestStack/Other/Resource']);
  });
});
