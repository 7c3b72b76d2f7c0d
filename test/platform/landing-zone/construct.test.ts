import * as path from 'path';
import * as fs from 'fs';
import * as os from 'os';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LandingTarget, LandingZone, LandingZoneProps } from '../../../platform/landing-zone/construct';
import { ENV, METRIC, METRICS_NAMESPACE } from '../../../platform/landing-zone/validator/contract';
import { SCHEMAS_DIR } from '../../../platform/config';
import { complianceFindings, testStack } from '../../support/aws';

// Construct tests skip esbuild (the stack test bundles for real): they look at wiring, not code.
const noBundling = { 'aws:cdk:bundling-stacks': [] };

function source(name: string, target: LandingTarget) {
  return {
    name,
    schemaFile: path.join(SCHEMAS_DIR, `${name}.schema.json`),
    idField: 'event_id',
    partitionKeyField: name === 'orders' ? 'order_id' : 'user_id',
    target,
  };
}

function kinesisLandingZone(props: Partial<LandingZoneProps> = {}) {
  const stack = testStack(noBundling);
  const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
  const zone = new LandingZone(stack, 'Zone', {
    sources: [source('clickstream', LandingTarget.kinesis(stream)), source('orders', LandingTarget.kinesis(stream))],
    ...props,
  });
  return { stack, stream, zone, template: Template.fromStack(stack) };
}

function kafkaStack() {
  const stack = testStack(noBundling);
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, flowLogs: { all: {} } });
  const zone = new LandingZone(stack, 'Zone', {
    sources: [
      source(
        'orders',
        LandingTarget.kafka({
          bootstrapBrokers: 'b-1.msk.example:9098,b-2.msk.example:9098',
          topic: 'orders.v1',
          clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/events/4c1f6f5e-1111-2222-3333-444455556666-2',
          vpc,
        }),
      ),
    ],
  });
  return { stack, zone, template: Template.fromStack(stack) };
}

/** The statements of the policy attached to one validator's role. */
function validatorStatements(template: Template, sourceName: string): Record<string, unknown>[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^Zone${sourceName}Role`) }] },
  });
  expect(Object.keys(policies)).toHaveLength(1);
  return Object.values(policies)[0].Properties.PolicyDocument.Statement;
}

/** A schema file in a temporary directory. */
function schemaFile(schema: object): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sf-schema-')), 'x.schema.json');
  fs.writeFileSync(file, JSON.stringify(schema));
  return file;
}

describe('LandingZone', () => {
  test('each source gets its own encrypted, TLS-only topic fed by object-created events under its prefix', () => {
    const { template } = kinesisLandingZone();
    template.resourceCountIs('AWS::SNS::Topic', 3); // two sources + the alarm topic
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ZoneMessagingKey'), 'Arn'] } });
    const notifications = template.findResources('Custom::S3BucketNotifications');
    const topicConfigs = Object.values(notifications)[0].Properties.NotificationConfiguration.TopicConfigurations;
    expect(topicConfigs).toEqual([
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'clickstream/' }] } },
        TopicArn: { Ref: expect.stringMatching(/^ZoneclickstreamTopic/) },
      },
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'orders/' }] } },
        TopicArn: { Ref: expect.stringMatching(/^ZoneordersTopic/) },
      },
    ]);
  });

  test('S3 may publish with the messaging key only from the landing bucket, SNS dead-letter only from the topics, both of this account', () => {
    const { template } = kinesisLandingZone();
    const key = Object.values(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('landing topics') } }))[0];
    const services = key.Properties.KeyPolicy.Statement.filter((s: { Principal: { Service?: string } }) => s.Principal.Service);
    const topicArn = (source: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:TestStack-Zone-${source}`]],
    });
    expect(services).toEqual([
      expect.objectContaining({
        Principal: { Service: 's3.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': [{ 'Fn::GetAtt': [expect.stringMatching(/^ZoneLandingBucket/), 'Arn'] }] },
        },
      }),
      expect.objectContaining({
        Principal: { Service: 'sns.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': [topicArn('clickstream'), topicArn('orders')] } },
      }),
    ]);
    // The topics carry exactly the names the key policy trusts; S3 may publish to them from the landing bucket only.
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'TestStack-Zone-orders' });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^ZoneLandingBucket'), 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  test('every service principal in every key policy is scoped to this account', () => {
    for (const { template } of [kinesisLandingZone(), kafkaStack()]) {
      for (const key of Object.values(template.findResources('AWS::KMS::Key'))) {
        for (const statement of key.Properties.KeyPolicy.Statement.filter((s: { Principal: { Service?: string } }) => s.Principal.Service)) {
          expect(statement.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
        }
      }
    }
  });

  test('a validator per source: Node.js 22 on arm64, the source settings in its environment, subscribed to its topic', () => {
    const { template } = kinesisLandingZone({ validatorMemoryMiB: 2048 });
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'landing-validator' } } }, 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 2048,
      Timeout: 900,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^ZoneordersLogs') } },
      Environment: {
        Variables: {
          SOURCE_NAME: 'orders',
          ID_FIELD: 'event_id',
          PARTITION_KEY_FIELD: 'order_id',
          TARGET: 'kinesis',
          KINESIS_STREAM_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Stream'), 'Arn'] },
          ERROR_BUCKET: { Ref: Match.stringLikeRegexp('^ZoneErrorBucket') },
          POWERTOOLS_SERVICE_NAME: 'landing-validator',
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: Match.stringLikeRegexp('^ZoneordersTopic') },
      Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ZoneordersFunction'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ZoneDeadLetterQueue'), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('failed invocations are retried twice, then sent to the encrypted dead-letter queue', () => {
    const { template } = kinesisLandingZone();
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventInvokeConfig',
      {
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 21600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ZoneDeadLetterQueue'), 'Arn'] } } },
      },
      2,
    );
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ZoneMessagingKey'), 'Arn'] },
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('least privilege: a validator reads its own prefix, writes its own error prefixes and only PutRecords', () => {
    const { template } = kinesisLandingZone();
    const statements = validatorStatements(template, 'clickstream');
    const grantsOn = (action: string) => statements.filter((s) => ([] as unknown[]).concat(s.Action).includes(action));
    const arn = (bucket: string, suffix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(bucket), 'Arn'] }, suffix]] });

    expect(grantsOn('s3:GetObject')).toEqual([
      expect.objectContaining({
        Action: ['s3:GetObject', 's3:GetObjectTagging', 's3:GetObjectVersion', 's3:GetObjectVersionTagging'],
        Resource: arn('^ZoneLandingBucket', '/clickstream/*'),
      }),
    ]);
    // A missing object must be a 404, not a 403: an unconditioned ListBucket (issue 15, finding 2: S3 does not
    // document evaluating an s3:prefix condition for that decision).
    expect(grantsOn('s3:ListBucket')).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ZoneLandingBucket/), 'Arn'] } },
    ]);
    expect(grantsOn('s3:PutObject')).toEqual([
      expect.objectContaining({
        Action: ['s3:AbortMultipartUpload', 's3:PutObject'],
        Resource: [arn('^ZoneErrorBucket', '/invalid/source=clickstream/*'), arn('^ZoneErrorBucket', '/quarantine/source=clickstream/*')],
      }),
    ]);
    // Quarantine copies the object with its tags.
    expect(grantsOn('s3:PutObjectTagging')).toEqual([
      expect.objectContaining({ Resource: arn('^ZoneErrorBucket', '/quarantine/source=clickstream/*') }),
    ]);
    expect(grantsOn('kinesis:PutRecords')).toEqual([
      expect.objectContaining({ Action: 'kinesis:PutRecords', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Stream/), 'Arn'] } }),
    ]);
    expect(JSON.stringify(statements)).not.toContain('/orders/');
    const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action as string));
    expect(actions).not.toContain('s3:*');
    expect(actions.filter((a) => a.startsWith('s3:')).sort()).toEqual(
      ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectTagging', 's3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:ListBucket', 's3:PutObject', 's3:PutObjectTagging'],
    );
  });

  test('alarms on failures, throttles, no data, invalid events, quarantined files, retries and the DLQ, all to the alarm topic', () => {
    const { template, zone } = kinesisLandingZone({ noDataMinutes: 30 });
    expect(zone.alarms).toHaveLength(2 * 7 + 1);
    const alarm = (nameSuffix: string, props: Record<string, unknown>) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: Match.stringLikeRegexp(nameSuffix),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
        ...props,
      });
    // No data: silent for 30 minutes AND events within the last day, so a fresh deploy is not in ALARM.
    const quiet = (suffix: string, props: Record<string, unknown>) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: Match.stringLikeRegexp(suffix),
        MetricName: 'EventsRead',
        Namespace: 'StreamFoundry/LandingZone',
        Dimensions: Match.arrayWith([{ Name: 'Source', Value: 'clickstream' }, { Name: 'service', Value: 'landing-validator' }]),
        AlarmActions: Match.absent(),
        ...props,
      });
    quiet('clickstream-no-data-silent$', { Period: 1800, ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching' });
    quiet('clickstream-no-data-armed$', {
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'TestStack-Zone-clickstream-no-data',
      AlarmRule: { 'Fn::Join': ['', ['(ALARM("', { 'Fn::GetAtt': [Match.stringLikeRegexp('silent'), 'Arn'] }, '") AND ALARM("', { 'Fn::GetAtt': [Match.stringLikeRegexp('armed'), 'Arn'] }, '"))']] },
      AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
      AlarmDescription: Match.stringLikeRegexp('Runbook: https://\\S+/runbooks/landing-zone.md#no-data'),
    });
    alarm('clickstream-rejected-records', { MetricName: 'EventsInvalid', ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, TreatMissingData: 'notBreaching' });
    alarm('orders-quarantined-files', { MetricName: 'ObjectsQuarantined', Threshold: 0 });
    alarm('orders-publish-retries', { MetricName: 'PublishRetries', Threshold: 100 });
    alarm('orders-validator-Fault-Count', { Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    alarm('orders-validator-Throttled-Count', { Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    alarm('orders-validator-Latency', { Threshold: 720000, ComparisonOperator: 'GreaterThanThreshold' }); // 80% of 15 min
    alarm('landing-dlq-Queue-Message-Count-Max', { Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    // Every alarm is named after the stack and links its own runbook entry.
    for (const a of Object.values({ ...template.findResources('AWS::CloudWatch::Alarm'), ...template.findResources('AWS::CloudWatch::CompositeAlarm') })) {
      expect(a.Properties.AlarmName).toMatch(/^TestStack-Zone-/);
      expect(a.Properties.AlarmDescription).toMatch(/Runbook: https:\/\/\S+\/runbooks\/landing-zone\.md#[a-z-]+/);
    }
    // The alarms watch exactly the metrics the handler publishes.
    const watched = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .filter((a) => a.Properties.Namespace === METRICS_NAMESPACE)
      .map((a) => a.Properties.MetricName);
    expect([...new Set(watched)].sort()).toEqual([METRIC.eventsInvalid, METRIC.eventsRead, METRIC.objectsQuarantined, METRIC.publishRetries].sort());
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('a Kafka target runs the validator in the VPC with IAM access to exactly its cluster and topic', () => {
    const { template } = kafkaStack();
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
      Environment: {
        Variables: Match.objectLike({
          TARGET: 'kafka',
          KAFKA_BOOTSTRAP_SERVERS: 'b-1.msk.example:9098,b-2.msk.example:9098',
          KAFKA_TOPIC: 'orders.v1',
          KAFKA_AUTH: 'iam',
          KAFKA_TLS: 'true',
        }),
      },
    });
    const statements = validatorStatements(template, 'orders');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'kafka-cluster:Connect',
          Resource: 'arn:aws:kafka:eu-west-1:123456789012:cluster/events/4c1f6f5e-1111-2222-3333-444455556666-2',
        }),
        expect.objectContaining({
          Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
          Resource: 'arn:aws:kafka:eu-west-1:123456789012:topic/events/4c1f6f5e-1111-2222-3333-444455556666-2/orders.v1',
        }),
      ]),
    );
    expect(JSON.stringify(statements)).not.toContain('kinesis:');
  });

  test('passes the compliance gate with a Kinesis and with a Kafka target', () => {
    expect(complianceFindings(kinesisLandingZone().stack)).toEqual([]);
    expect(complianceFindings(kafkaStack().stack)).toEqual([]);
  });

  test('registers every source schema in a Glue Schema Registry, unless disabled', () => {
    const { template } = kinesisLandingZone();
    template.resourceCountIs('AWS::Glue::Registry', 1);
    template.hasResourceProperties('AWS::Glue::Schema', {
      Name: 'orders',
      DataFormat: 'JSON',
      Compatibility: 'BACKWARD',
      Registry: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ZoneSchemaRegistry'), 'Arn'] } },
      SchemaDefinition: Match.stringLikeRegexp('"title": "Order event"'),
    });
    kinesisLandingZone({ registerSchemas: false }).template.resourceCountIs('AWS::Glue::Schema', 0);
  });

  test('uses existing buckets when given', () => {
    const stack = testStack(noBundling);
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    const landing = s3.Bucket.fromBucketName(stack, 'Landing', 'publishers-landing');
    const zone = new LandingZone(stack, 'Zone', {
      sources: [source('clickstream', LandingTarget.kinesis(stream))],
      existingLandingBucket: landing,
    });
    expect(zone.landingBucket).toBe(landing);
    Template.fromStack(stack).resourceCountIs('AWS::S3::Bucket', 2); // errors + access logs
  });

  test('configuration mistakes are clear errors', () => {
    const stack = testStack(noBundling);
    const stream = new kinesis.Stream(stack, 'Stream');
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'existing-errors');
    const clicks = source('clickstream', LandingTarget.kinesis(stream));
    expect(() => new LandingZone(stack, 'NoSources', { sources: [] })).toThrow('TestStack/NoSources: "sources" must name at least one data source');
    expect(() => new LandingZone(stack, 'Both', { sources: [clicks], existingErrorBucket: bucket, errorBucketProps: {} })).toThrow(
      'TestStack/Both: give either "existingErrorBucket" or "errorBucketProps", not both',
    );
    expect(() => new LandingZone(stack, 'Twice', { sources: [clicks, clicks] })).toThrow('TestStack/Twice: source "clickstream" is listed twice');
    expect(() => new LandingZone(stack, 'NoSchema', { sources: [{ ...clicks, schemaFile: '/nowhere/x.schema.json' }] })).toThrow(
      'TestStack/NoSchema: the schema of source "clickstream" (/nowhere/x.schema.json) is not readable',
    );
    expect(() => new LandingZone(stack, 'BadSchema', { sources: [{ ...clicks, schemaFile: path.join(SCHEMAS_DIR, 'orders.samples.ndjson') }] })).toThrow(
      /TestStack\/BadSchema: the schema of source "clickstream" \(.*orders.samples.ndjson\) is not JSON/,
    );
    const invalid = schemaFile({ type: 'object', properties: { id: { type: 'strnig' } } });
    expect(() => new LandingZone(stack, 'Invalid', { sources: [{ ...clicks, schemaFile: invalid }] })).toThrow(
      /TestStack\/Invalid: the schema of source "clickstream" \(.*\) cannot be compiled: .*type/,
    );
    const vpc = ec2.Vpc.fromVpcAttributes(new Stack(), 'V', { vpcId: 'vpc-1', availabilityZones: ['a'], privateSubnetIds: ['s-1'] });
    expect(() => new LandingZone(stack, 'NoArn', { sources: [source('orders', LandingTarget.kafka({ bootstrapBrokers: 'b:9098', topic: 't', vpc }))] })).toThrow(
      'LandingTarget.kafka: "clusterArn" is required with authentication "iam" (topic "t")',
    );
  });

  test('a schema with an unknown keyword (a typo) synthesizes with a warning naming the keyword and the schema', () => {
    const stack = testStack(noBundling);
    const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.MANAGED });
    const typo = schemaFile({ type: 'object', required: ['event_id', 'user_id'], prperties: { event_id: { type: 'string' } } });
    new LandingZone(stack, 'Zone', { sources: [{ ...source('clickstream', LandingTarget.kinesis(stream)), schemaFile: typo }] });
    Annotations.fromStack(stack).hasWarning('/TestStack/Zone', Match.stringLikeRegexp(`${typo}.*prperties`));
  });

  test('the validator environment is exactly what the handler reads', () => {
    const { template } = kinesisLandingZone();
    const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'landing-validator' } } } }))[0];
    const names = Object.keys(fn.Properties.Environment.Variables).filter((n) => n !== 'NODE_OPTIONS');
    expect(names.sort()).toEqual(
      [ENV.sourceName, ENV.idField, ENV.partitionKeyField, ENV.errorBucket, ENV.serviceName, ENV.metricsNamespace, ENV.target, ENV.kinesisStreamArn].sort(),
    );
  });
});
