import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ComparisonOperator, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DEFAULT_DOCS_URL } from '../../platform/pipeline';
import { PipelineMonitoring, SECTION } from '../../platform/pipeline-monitoring';
import { complianceFindings, testStack } from '../support/aws';

const RUNBOOK = `${DEFAULT_DOCS_URL}/runbooks/test.md`;

describe('PipelineMonitoring', () => {
  /** A monitor as a construct adds one: a metric with an alarm ("any invalid event"). */
  function addInvalidEventsMonitor(monitoring: PipelineMonitoring) {
    monitoring.facade.monitorCustom({
      alarmFriendlyName: 'Validation',
      metricGroups: [
        {
          title: 'Invalid events',
          metrics: [
            {
              metric: new Metric({ namespace: 'Test', metricName: 'EventsInvalid', statistic: 'Sum' }),
              alarmFriendlyName: 'EventsInvalid',
              addAlarm: { Critical: { threshold: 0, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD } },
            },
          ],
        },
      ],
    });
  }

  function monitored(props: ConstructorParameters<typeof PipelineMonitoring>[2]) {
    const stack = testStack();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', props);
    addInvalidEventsMonitor(monitoring);
    return { stack, monitoring, template: Template.fromStack(stack) };
  }

  test('creates a KMS-encrypted, TLS-only alarm topic that CloudWatch may publish to', () => {
    const { template } = monitored({ pipelineName: 'sf-dev-test', runbookLink: RUNBOOK });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlarmTopicKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:sf-dev-test*']] } },
            },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  test('every alarm notifies the topic when it fires and when it recovers, and is prefixed with the pipeline name', () => {
    const { template, monitoring } = monitored({ pipelineName: 'sf-dev-test', runbookLink: RUNBOOK });
    expect(monitoring.alarms).toHaveLength(1);
    const topicRef = { Ref: Match.stringLikeRegexp('AlarmTopic') };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('^sf-dev-test-'),
      ActionsEnabled: true,
      AlarmActions: [topicRef],
      OKActions: [topicRef],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmDescription: Match.stringLikeRegexp(`Runbook: ${RUNBOOK}`),
    });
  });

  test('alarm names default to the stack name, so two stacks in one account never collide', () => {
    const stack = testStack();
    addInvalidEventsMonitor(new PipelineMonitoring(stack, 'Monitoring', { runbookLink: RUNBOOK, alarmEmails: ['a@example.com'] }));
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('^TestStack-') });
  });

  test('warns at synth when nobody would receive the alarms', () => {
    const { stack } = monitored({ pipelineName: 'p', runbookLink: RUNBOOK });
    Annotations.fromStack(stack).hasWarning('/TestStack/Monitoring', Match.stringLikeRegexp('nobody is subscribed.*alarmEmails'));
    const subscribed = monitored({ pipelineName: 'p', runbookLink: RUNBOOK, alarmEmails: ['oncall@example.com'] });
    Annotations.fromStack(subscribed.stack).hasNoWarning('/TestStack/Monitoring', Match.anyValue());
  });

  test('a no-data alarm stays quiet before the first event: it fires only when silent AND events arrived within a day', () => {
    const stack = testStack();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', { pipelineName: 'p', runbookLink: RUNBOOK });
    addInvalidEventsMonitor(monitoring);
    const metric = new Metric({ namespace: 'Test', metricName: 'EventsRead', statistic: 'Sum' });
    monitoring.addNoDataAlarm({ metric, name: 'orders-no-data', noDataMinutes: 15, description: 'No orders events were read', runbookLink: `${RUNBOOK}#no-data` });
    const after = Template.fromStack(stack);
    after.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'p-orders-no-data-silent',
      Period: 900,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: Match.absent(),
    });
    after.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'p-orders-no-data-armed',
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: Match.absent(),
    });
    after.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'p-orders-no-data',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
      AlarmDescription: Match.stringLikeRegexp(`No orders events were read for 15 minutes[^]*Runbook: ${RUNBOOK}#no-data`),
    });
    expect(monitoring.alarms).toHaveLength(2);
  });

  test('runbook links: <docsUrl>/runbooks/<runbook>.md#<section>, the repository\'s docs unless docsUrl says otherwise', () => {
    const stack = testStack();
    const byDefault = new PipelineMonitoring(stack, 'Default', { alarmEmails: ['oncall@example.com'] });
    expect(byDefault.runbook('landing-zone')(SECTION.noData)).toBe('https://github.com/stream-foundry/stream-foundry/blob/main/docs/runbooks/landing-zone.md#no-data');
    const configured = new PipelineMonitoring(stack, 'Configured', { docsUrl: 'https://wiki.example.com/sf/docs', alarmEmails: ['oncall@example.com'] });
    expect(configured.runbook('queue-to-s3')(SECTION.lag('oldest-message-age'))).toBe('https://wiki.example.com/sf/docs/runbooks/queue-to-s3.md#lag-oldest-message-age');
    expect(configured.runbook('msk-to-iceberg')(SECTION.deadLetterQueue)).toMatch(/#dead-letter-queue-not-empty$/);
  });

  test('a no-data alarm waits DEFAULT_NO_DATA_MINUTES (60) unless told otherwise', () => {
    const stack = testStack();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', { pipelineName: 'p', alarmEmails: ['oncall@example.com'] });
    const metric = new Metric({ namespace: 'Test', metricName: 'EventsRead', statistic: 'Sum' });
    monitoring.addNoDataAlarm({ metric, name: 'orders-no-data', description: 'No orders events were read', runbookLink: `${RUNBOOK}#no-data` });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'p-orders-no-data-silent', Period: 3600 });
  });

  test('subscribes the configured e-mail addresses', () => {
    const { template } = monitored({ pipelineName: 'p', runbookLink: RUNBOOK, alarmEmails: ['oncall@example.com', 'data@example.com'] });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
  });

  test('creates one dashboard named after the pipeline, with the monitors\' widgets', () => {
    const { template, monitoring } = monitored({ pipelineName: 'sf-dev-test', runbookLink: RUNBOOK });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'sf-dev-test' });
    expect(monitoring.dashboard.node.path).toBe('TestStack/Monitoring/Dashboards/Dashboard');
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('EventsInvalid');
  });

  test('routes alarms to an existing topic instead of creating one', () => {
    const stack = testStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Existing', 'arn:aws:sns:eu-west-1:123456789012:oncall');
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', { pipelineName: 'p', runbookLink: RUNBOOK, existingAlarmTopic: topic });
    addInvalidEventsMonitor(monitoring);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'] });
  });

  test('an existing topic and e-mail addresses together are a clear error', () => {
    const stack = testStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Existing', 'arn:aws:sns:eu-west-1:123456789012:oncall');
    expect(() => new PipelineMonitoring(stack, 'M', { pipelineName: 'p', runbookLink: RUNBOOK, existingAlarmTopic: topic, alarmEmails: ['a@example.com'] })).toThrow(
      'TestStack/M: give either "existingAlarmTopic" or "alarmEmails", not both',
    );
  });

  test('passes the compliance gate', () => {
    const { stack } = monitored({ pipelineName: 'p', runbookLink: RUNBOOK, alarmEmails: ['oncall@example.com'] });
    expect(complianceFindings(stack)).toEqual([]);
  });
});
