import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildAwsApp } from '../../../lib/aws/app';
import { KinesisToDeltaLakeStack } from '../../../lib/aws/kinesis-to-delta-lake-stack';
import { parseConfig, PROJECT_ROOT } from '../../../lib/config';
import { complianceFindings, testApp } from '../../support/aws';

/** The app exactly as `cdk synth` builds it from cdk.json, with `overrides` as `-c key=value` would give. */
function synthesizedStack(overrides: Record<string, unknown> = {}) {
  const app = testApp(overrides);
  buildAwsApp(app, parseConfig(app.node.getAllContext()));
  const stack = app.node.findChild('KinesisToDeltaLake') as KinesisToDeltaLakeStack;
  return { app, stack, template: Template.fromStack(stack) };
}

describe('KinesisToDeltaLakeStack', () => {
  // One bundled synthesis (esbuild runs for the validator and the job runner) shared by the assertions below.
  const { app, stack, template } = synthesizedStack({ alarmEmails: ['oncall@example.com'] });

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('is named after project and environment; the clickstream source gets a stream, a streaming job and a Delta table', () => {
    expect(stack.stackName).toBe('stream-foundry-dev-kinesis-to-delta-lake');
    expect(Object.keys(stack.pipelines)).toEqual(['clickstream']);
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, RetentionPeriodHours: 24 });
    template.hasResourceProperties('AWS::Glue::Job', {
      Name: 'stream-foundry-dev-kinesis-to-delta-lake-Pipeline-clickstream',
      Command: Match.objectLike({ Name: 'gluestreaming' }),
      GlueVersion: '5.1',
      DefaultArguments: Match.objectLike({ '--event-time-field': 'occurred_at', '--id-field': 'event_id', '--trigger-interval': '5 seconds' }),
    });
    template.hasResourceProperties('AWS::Glue::Table', { TableInput: Match.objectLike({ Name: 'clickstream', Parameters: Match.objectLike({ table_type: 'DELTA' }) }) });
  });

  test('the landing zone publishes the source to the pipeline stream: a landed file ends up in the Delta table', () => {
    const streams = template.findResources('AWS::Kinesis::Stream');
    const [streamId] = Object.keys(streams);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SOURCE_NAME: 'clickstream', TARGET: 'kinesis', KINESIS_STREAM_ARN: { 'Fn::GetAtt': [streamId, 'Arn'] } }) },
    });
    template.hasResourceProperties('AWS::Glue::Job', { DefaultArguments: Match.objectLike({ '--stream-arn': { 'Fn::GetAtt': [streamId, 'Arn'] } }) });
  });

  test('the job runner bundle loads with plain node and no node_modules: the AWS SDK travels with it (Node.js 22, arm64)', () => {
    const runner = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.restart' } }));
    expect(runner).toHaveLength(1);
    expect(runner[0].Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    // The code's S3 key is the asset hash; the assembly holds the bundle as asset.<hash>/.
    const assetHash = String(runner[0].Properties.Code.S3Key).replace(/\.zip$/, '');
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-glue-runner-'));
    fs.cpSync(path.join(app.outdir, `asset.${assetHash}`), directory, { recursive: true });
    const load = spawnSync(process.execPath, ['-e', 'const m = require("./index.js"); console.log(typeof m.onEvent, typeof m.restart)'], {
      cwd: directory,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', JOB_NAME: 'job' },
    });
    expect(load.stderr).not.toMatch(/Cannot find module/);
    expect(load.stdout.trim()).toBe('function function');
  });

  test('outputs what the README steps need: landing bucket, stream, job, workgroup', () => {
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual(['LandingBucket', 'clickstreamJob', 'clickstreamStream', 'clickstreamWorkGroup']);
    template.hasOutput('clickstreamWorkGroup', { Value: { Ref: Match.stringLikeRegexp('^PipelineCatalogWorkGroup') } });
  });

  test('data is retained by default', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::Kinesis::Stream', 'AWS::KMS::Key']) {
      for (const resource of Object.values(template.findResources(type))) expect(resource.DeletionPolicy).toBe('Retain');
    }
  });

  test('every alarm links this pipeline\'s or the landing zone\'s runbook', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms).length).toBeGreaterThan(15);
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: docs\/runbooks\/(kinesis-to-delta-lake|landing-zone)\.md#/);
    }
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    expect(complianceFindings(app)).toEqual([]);
  });

  test('passes cfn-lint with no error and no warning', () => {
    const cfnLint = path.join(PROJECT_ROOT, '.venv', 'bin', 'cfn-lint');
    expect(fs.existsSync(cfnLint)).toBe(true);
    const file = path.join(app.outdir, stack.templateFile);
    const run = spawnSync(cfnLint, ['--format', 'parseable', file], { encoding: 'utf8' });
    expect(run.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
  });

  test('configuration reaches the stack: shards, retention, trigger, workers, schedules, thresholds, destruction', () => {
    const { template: custom } = synthesizedStack({
      'aws:cdk:bundling-stacks': [],
      allowDataDestruction: 'true',
      'kinesisToDeltaLake.stream.shards': '4',
      'kinesisToDeltaLake.stream.retentionHours': '72',
      'kinesisToDeltaLake.job.triggerIntervalSeconds': '10',
      'kinesisToDeltaLake.job.workers': '3',
      'kinesisToDeltaLake.job.workerType': 'G.2X',
      'kinesisToDeltaLake.maintenance.schedule': 'cron(0 2 * * ? *)',
      'kinesisToDeltaLake.maintenance.vacuumRetentionHours': '336',
      'kinesisToDeltaLake.alarms.iteratorAgeSeconds': '120',
      'validator.memoryMiB': '512',
    });
    custom.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 4, RetentionPeriodHours: 72, StreamModeDetails: { StreamMode: 'PROVISIONED' } });
    custom.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
    custom.hasResourceProperties('AWS::Glue::Job', {
      Command: Match.objectLike({ Name: 'gluestreaming' }),
      WorkerType: 'G.2X',
      NumberOfWorkers: 3,
      DefaultArguments: Match.objectLike({ '--trigger-interval': '10 seconds' }),
    });
    custom.hasResourceProperties('AWS::Glue::Job', { Command: Match.objectLike({ Name: 'glueetl' }), DefaultArguments: Match.objectLike({ '--vacuum-retention-hours': '336' }) });
    custom.hasResourceProperties('AWS::Glue::Trigger', { Type: 'SCHEDULED', Schedule: 'cron(0 2 * * ? *)', StartOnCreation: true });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'GetRecords.IteratorAgeMilliseconds' }) }) })]),
      Threshold: 120000,
    });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'glue.driver.streaming.batchProcessingTimeInMs', Threshold: 10000 });
    custom.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Environment: { Variables: Match.objectLike({ SOURCE_NAME: 'clickstream' }) } });
  });

  test('several sources: one pipeline each, the event time taken from each schema unless configured', () => {
    const { stack: both } = synthesizedStack({ 'aws:cdk:bundling-stacks': [], 'sources.orders.pipelines': ['kinesisToDeltaLake'] });
    expect(Object.keys(both.pipelines)).toEqual(['clickstream', 'orders']);
    Template.fromStack(both).hasResourceProperties('AWS::Glue::Job', { DefaultArguments: Match.objectLike({ '--source': 'orders', '--event-time-field': 'updated_at' }) });
    const { template: configured } = synthesizedStack({ 'aws:cdk:bundling-stacks': [], 'kinesisToDeltaLake.eventTimeFields': { clickstream: 'received_at' } });
    configured.hasResourceProperties('AWS::Glue::Job', { DefaultArguments: Match.objectLike({ '--source': 'clickstream', '--event-time-field': 'received_at' }) });
  });

  test('without sources feeding the pipeline the stack is left out of the app', () => {
    const app = testApp({ 'sources.clickstream.pipelines': ['landingZone', 'gcp'] });
    buildAwsApp(app, parseConfig(app.node.getAllContext()));
    expect(app.node.tryFindChild('KinesisToDeltaLake')).toBeUndefined();
  });
});
