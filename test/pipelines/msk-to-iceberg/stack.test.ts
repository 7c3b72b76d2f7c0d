import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildAwsApp } from '../../../platform/aws-app';
import { MskToIcebergStack } from '../../../pipelines/msk-to-iceberg/stack';
import { parseConfig} from '../../../platform/config';
import { complianceFindings, testApp } from '../../support/aws';
import { PROJECT_ROOT } from '../../../platform/paths';

/** The stack as the app builds it from cdk.json (the orders source feeds mskToIceberg), `overrides` as -c would give. */
function synthesizedStack(overrides: Record<string, unknown> = {}) {
  const app = testApp({ 'sources.orders.pipelines': ['landingZone', 'mskToIceberg'], ...overrides });
  const config = parseConfig(app.node.getAllContext());
  const stack = new MskToIcebergStack(app, 'MskToIceberg', { stackName: `${config.project}-${config.environment}-msk-to-iceberg`, config });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('MskToIcebergStack', () => {
  // One bundled synthesis (esbuild runs for each handler and the validator) shared by the assertions below.
  const { app, stack, template } = synthesizedStack();

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('is named after project and environment; one topic, application and table for the source that feeds it', () => {
    expect(stack.stackName).toBe('stream-foundry-dev-msk-to-iceberg');
    template.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 1);
    template.hasResourceProperties('Custom::KafkaTopics', { Topics: [{ Name: 'orders', Partitions: '6', RetentionMs: '604800000' }] });
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: Match.objectLike({ Name: 'stream_foundry_dev' }) });
    template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationName: 'stream-foundry-dev-msk-to-iceberg-orders',
      ApplicationConfiguration: Match.objectLike({
        EnvironmentProperties: { PropertyGroups: [{ PropertyGroupId: 'job', PropertyMap: Match.objectLike({ 'catalog.database': 'stream_foundry_dev', 'source.event.time.field': 'updated_at' }) }] },
      }),
    });
  });

  test('raw zone: the job archives the topic (raw.path), table orders_raw in the lake database, output ordersRawZone', () => {
    const rawBucket = stack.resolve(stack.pipeline.rawZone.bucket.bucketName);
    template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({
        EnvironmentProperties: { PropertyGroups: [{ PropertyGroupId: 'job', PropertyMap: Match.objectLike({ 'raw.path': { 'Fn::Join': ['', ['s3a://', rawBucket, '/orders']] } }) }] },
      }),
    });
    template.hasResourceProperties('AWS::Glue::Table', { DatabaseName: 'stream_foundry_dev', TableInput: Match.objectLike({ Name: 'orders_raw' }) });
    template.hasOutput('ordersRawZone', { Value: { 'Fn::Join': ['', ['s3://', rawBucket, '/orders/']] } });
  });

  test('every handler is bundled with the AWS SDK inside, for Node.js 22 on arm64', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('(Kafka topics|Flink job JAR|Managed Flink applications)') } }));
    expect(functions).toHaveLength(5); // topics (onEvent), build (onEvent, isComplete), starter (onEvent, isComplete)
    const assembly = app.synth();
    for (const f of functions) expect(f.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    // The topic creator's bundle carries kafkajs, the MSK IAM signer and the Kafka SDK client.
    const topicsFn = functions.find((f) => /Kafka topics/.test(f.Properties.Description))!;
    const bundle = fs.readFileSync(path.join(assembly.directory, `asset.${topicsFn.Properties.Code.S3Key.replace('.zip', '')}`, 'index.js'), 'utf8');
    expect(bundle).toContain('GetBootstrapBrokersCommand');
    expect(bundle).toContain('oauthbearer');
  });

  test('the job source asset holds the Maven project and the schemas, not target/', () => {
    const assembly = app.synth();
    const dirs = fs.readdirSync(assembly.directory).filter((d) => d.startsWith('asset.') && fs.existsSync(path.join(assembly.directory, d, 'pipelines', 'msk-to-iceberg', 'job', 'pom.xml')));
    expect(dirs).toHaveLength(1);
    const root = path.join(assembly.directory, dirs[0]);
    expect(fs.existsSync(path.join(root, 'schemas', 'orders.schema.json'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'pipelines', 'msk-to-iceberg', 'job', 'src', 'main', 'java'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'pipelines', 'msk-to-iceberg', 'job', 'target'))).toBe(false);
    // The pom reads the schemas from ../../schemas: the asset's layout matches.
    expect(fs.readFileSync(path.join(root, 'pipelines', 'msk-to-iceberg', 'job', 'pom.xml'), 'utf8')).toContain('${project.basedir}/../../../schemas');
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    expect(complianceFindings(app).filter((f) => !f.startsWith('Annotation::'))).toEqual([]);
  });

  test('passes cfn-lint with no error and no warning', () => {
    const assembly = app.synth();
    const file = path.join(assembly.directory, stack.templateFile);
    const run = spawnSync(path.join(PROJECT_ROOT, '.venv', 'bin', 'cfn-lint'), ['--format', 'parseable', file], { encoding: 'utf8' });
    expect(run.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
  });

  test('configuration reaches the stack: cluster, topic, application, upkeep, alarms, network, destruction', () => {
    const { template: custom } = synthesizedStack({
      'mskToIceberg.cluster.type': 'provisioned',
      'mskToIceberg.cluster.brokerNodes': '4',
      'mskToIceberg.topic.partitions': '12',
      'mskToIceberg.topic.retentionHours': '24',
      'mskToIceberg.application.parallelism': '4',
      'mskToIceberg.application.autoScaling': 'false',
      'mskToIceberg.application.checkpointIntervalMs': '3000',
      'mskToIceberg.upkeep.compaction': 'false',
      'mskToIceberg.upkeep.snapshotRetentionDays': '2',
      'mskToIceberg.alarms.maxOffsetLag': '5000',
      'mskToIceberg.network.natGateways': '2',
      'rawZone.archiveAfterDays': '30',
      'rawZone.expireAfterDays': '400',
      allowDataDestruction: 'true',
      'aws:cdk:bundling-stacks': [],
    });
    custom.hasResourceProperties('AWS::MSK::Cluster', { NumberOfBrokerNodes: 4 });
    custom.hasResourceProperties('Custom::KafkaTopics', { Topics: [{ Name: 'orders', Partitions: '12', RetentionMs: '86400000' }] });
    custom.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({
        FlinkApplicationConfiguration: Match.objectLike({
          CheckpointConfiguration: Match.objectLike({ CheckpointInterval: 3000 }),
          ParallelismConfiguration: Match.objectLike({ Parallelism: 4, AutoScalingEnabled: false }),
        }),
      }),
    });
    expect(Object.values(custom.findResources('AWS::Glue::TableOptimizer')).map((o) => o.Properties.Type).sort()).toEqual(['orphan_file_deletion', 'retention']);
    custom.hasResourceProperties('AWS::Glue::TableOptimizer', {
      TableOptimizerConfiguration: Match.objectLike({ RetentionConfiguration: { IcebergConfiguration: Match.objectLike({ SnapshotRetentionPeriodInDays: 2 }) } }),
    });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'MaxOffsetLag', Threshold: 5000 });
    custom.resourceCountIs('AWS::EC2::NatGateway', 2);
    custom.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'archive-raw-events', ExpirationInDays: 400, Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }] })]) },
    });
    custom.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });

  test('without sources feeding it the stack is left out of the app', () => {
    const app = testApp({ 'sources.orders.pipelines': ['landingZone'], 'aws:cdk:bundling-stacks': [] });
    buildAwsApp(app, parseConfig(app.node.getAllContext()));
    expect(app.node.tryFindChild('MskToIceberg')).toBeUndefined();
  });
});

void App;
