import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildAwsApp } from '../../../platform/aws-app';
import { LandingZoneStack } from '../../../platform/landing-zone/stack';
import { parseConfig } from '../../../platform/config';
import { complianceFindings, testApp } from '../../support/aws';

/**
 * The stack exactly as `cdk synth` builds it from cdk.json, with `overrides` as `-c key=value` would give (only this
 * stack of the app: the stacks reference nothing of each other, and the other stacks have tests of their own).
 */
function synthesizedStack(overrides: Record<string, unknown> = {}) {
  const app = testApp(overrides);
  buildAwsApp(app, parseConfig(app.node.getAllContext()), ['landingZone']);
  const stack = app.node.findChild('LandingZone') as LandingZoneStack;
  return { app, stack, template: Template.fromStack(stack) };
}

describe('LandingZoneStack', () => {
  // One synthesis shared by the assertions below, bundling this stack only (esbuild runs for each validator); the
  // other stacks' bundles are built by their own stack tests.
  const { app, stack, template } = synthesizedStack({ 'aws:cdk:bundling-stacks': ['LandingZone'] });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('is named after project and environment, and feeds both example sources into one on-demand stream', () => {
    expect(stack.stackName).toBe('stream-foundry-dev-landing-zone');
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'landing-validator' } } }, 2);
    for (const source of ['clickstream', 'orders']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ SOURCE_NAME: source, TARGET: 'kinesis' }) },
      });
    }
  });

  test('data is retained by default', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::Kinesis::Stream']) {
      for (const resource of Object.values(template.findResources(type))) expect(resource.DeletionPolicy).toBe('Retain');
    }
  });

  test('every taggable resource carries the cost tags from configuration', () => {
    const untagged = Object.entries(template.toJSON().Resources as Record<string, { Type: string; Properties?: { Tags?: unknown } }>)
      .filter(([, r]) => ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::SNS::Topic', 'AWS::SQS::Queue', 'AWS::Lambda::Function', 'AWS::Kinesis::Stream', 'AWS::IAM::Role', 'AWS::Logs::LogGroup'].includes(r.Type))
      .filter(([, r]) => {
        const tags = JSON.stringify(r.Properties?.Tags ?? []);
        return !['"Project","Value":"stream-foundry"', '"Team","Value":"data-platform"', '"CostCenter","Value":"cc-0000"', '"Environment","Value":"dev"'].every((t) => tags.includes(t));
      })
      .map(([id]) => id);
    expect(untagged).toEqual([]);
  });

  test('the stream is alarmed on throttled writes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('^stream-foundry-dev-landing-zone-events-stream'),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
      AlarmDescription: Match.stringLikeRegexp('Runbook: https://\\S+/runbooks/landing-zone.md#stream-throttled'),
    });
  });

  test('alarms go to an existing topic when alarmTopicArn is set', () => {
    const { template: routed } = synthesizedStack({ alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall', 'aws:cdk:bundling-stacks': [] });
    routed.resourcePropertiesCountIs('AWS::SNS::Topic', { KmsMasterKeyId: Match.stringLikeRegexp('AlarmTopicKey') }, 0);
    for (const alarm of Object.values(routed.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmActions: Match.anyValue() } }))) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:oncall']);
    }
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    expect(complianceFindings(app)).toEqual([]);
  });

  test('configuration reaches the stack: e-mails, shards, retention, destruction', () => {
    const { template: custom } = synthesizedStack({
      alarmEmails: 'oncall@example.com',
      allowDataDestruction: 'true',
      'landingZone.stream.shards': '4',
      'landingZone.stream.retentionHours': '48',
      'sources.clickstream.pipelines': 'gcp',
      'aws:cdk:bundling-stacks': [],
    });
    custom.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    custom.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 4, RetentionPeriodHours: 48, StreamModeDetails: { StreamMode: 'PROVISIONED' } });
    custom.resourcePropertiesCountIs('AWS::Lambda::Function', { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'landing-validator' } } }, 1);
    custom.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });

  test('without sources feeding the landing zone the stack is left out of the app', () => {
    const app = testApp({ 'sources.clickstream.pipelines': ['gcp'], 'sources.orders.pipelines': [], 'aws:cdk:bundling-stacks': [] });
    buildAwsApp(app, parseConfig(app.node.getAllContext()));
    expect(app.node.tryFindChild('LandingZone')).toBeUndefined();
  });
});
