import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig } from '../../platform/config';
import { complianceFindings, testApp, testStack } from '../support/aws';
import { EXAMPLE_CUSTOMERS } from '../support/customers';

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

describe('the whole app passes the gate in an environment-specific synth', () => {
  // With account and region in cdk.json, CDK renders partition, region and account into ARNs instead of pseudo
  // parameters: acknowledgements written for <AWS::Region> alone missed them, and synth failed for such a user.
  test('account and region set, every pipeline and the delivery layer built: no unacknowledged finding', () => {
    const app = testApp({ 'aws:cdk:bundling-stacks': [], account: '123456789012', region: 'eu-west-1', alarmEmails: ['oncall@example.com'], customers: EXAMPLE_CUSTOMERS });
    buildAwsApp(app, parseConfig(app.node.getAllContext()));
    expect(complianceFindings(app)).toEqual([]);
  });
});
