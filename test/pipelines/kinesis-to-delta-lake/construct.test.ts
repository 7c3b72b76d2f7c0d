import * as fs from 'fs';
import * as path from 'path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { JOB_CONTRACT, KinesisToDeltaLake, KinesisToDeltaLakeProps } from '../../../pipelines/kinesis-to-delta-lake/construct';
import { ENV, METRICS_NAMESPACE } from '../../../pipelines/kinesis-to-delta-lake/handlers/glue-streaming-job/contract';
import { SCHEMAS_DIR } from '../../../platform/config';
import { SecureBucket } from '../../../platform/secure-bucket';
import { complianceFindings, testStack } from '../../support/aws';
import { fromRoot } from '../../../platform/paths';
import { aggregateDigest, loadRules, processingDocument } from '../../../platform/processing-rules';
import { JobCode } from '../../../pipelines/kinesis-to-delta-lake/construct/job-code';
import FRESHNESS_CONTRACT from '../../../platform/freshness/contract.json';

// Construct tests skip esbuild (the stack test bundles for real): they look at wiring, not code.
const noBundling = { 'aws:cdk:bundling-stacks': [] };
const source = { name: 'clickstream', schemaFile: path.join(SCHEMAS_DIR, 'clickstream.schema.json'), idField: 'event_id', eventTimeField: 'occurred_at' };

function pipeline(props: Partial<KinesisToDeltaLakeProps> = {}) {
  const stack = testStack(noBundling);
  const construct = new KinesisToDeltaLake(stack, 'Pipeline', { source, ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
/** The statements of the policy attached to the role whose logical id starts with `rolePrefix`. */
function statements(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] } });
  expect(Object.keys(policies)).toHaveLength(1);
  return Object.values(policies)[0].Properties.PolicyDocument.Statement;
}
const actions = (s: Statement) => [s.Action].flat();
const json = (x: unknown) => JSON.stringify(x);

describe('KinesisToDeltaLake', () => {
  const { construct, template, stack } = pipeline();
  const streamingJob = () => Object.values(template.findResources('AWS::Glue::Job', { Properties: { Command: { Name: 'gluestreaming' } } }))[0].Properties;

  test('a Glue 5.1 streaming job runs the job\'s entry script with the package and Delta, one run at a time, no Glue retries', () => {
    const job = streamingJob();
    expect(job.GlueVersion).toBe('5.1');
    // Each file is an S3 asset: its key is the hash of its content, so a changed script is a changed job.
    const asset = (ext: string) => ({ 'Fn::Sub': expect.stringMatching(new RegExp(`^s3://cdk-hnb659fds-assets-\\$\\{AWS::AccountId\\}-\\$\\{AWS::Region\\}/[0-9a-f]{64}\\.${ext}$`)) });
    expect(job.Command).toEqual({ Name: 'gluestreaming', PythonVersion: '3', ScriptLocation: asset('py') });
    expect(job.ExecutionProperty).toEqual({ MaxConcurrentRuns: 1 });
    expect(job.MaxRetries).toBe(0);
    expect(job.MaintenanceWindow).toBe('Sun:03');
    const args = job.DefaultArguments;
    expect(args['--datalake-formats']).toBe('delta');
    expect(args['--conf']).toBe(
      'spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog --conf spark.sql.session.timeZone=UTC',
    );
    expect(args['--extra-py-files']).toEqual(asset('zip'));
    // The schema ships inside the package (no S3 request to read it: finding 1); the job finds it by file name.
    expect(args['--schema-resource']).toBe('clickstream.schema.json');
    expect(args['--schema-path']).toBeUndefined();
    expect(args).toMatchObject({
      '--enable-metrics': 'true',
      '--enable-observability-metrics': 'true',
      '--source': 'clickstream',
      '--event-time-field': 'occurred_at',
      '--id-field': 'event_id',
      '--trigger-interval': '5 seconds',
      '--watermark-delay': '600 seconds',
      '--starting-position': 'TRIM_HORIZON',
      '--source-adapter': 'glue-kinesis',
      '--metrics': 'true',
      '--upkeep-interval-minutes': '60',
      '--optimize-days': '2',
      '--vacuum-retention-hours': '168',
      '--log-retention': 'interval 7 days',
      '--deleted-file-retention': 'interval 7 days',
      '--vacuum-mode': 'FULL',
      // Per deployment (the stack id's UUID), so a destroy and a new deploy never collide on the retained groups.
      '--custom-logGroup-prefix': {
        'Fn::Join': ['', ['/aws-glue/jobs/TestStack-Pipeline/', { 'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }] }]],
      },
    });
    expect(json(args['--stream-arn'])).toContain('PipelineStream');
    for (const [arg, prefix] of [['--table-path', 'clickstream/events/'], ['--error-path', 'clickstream/errors/'], ['--checkpoint-location', 'clickstream/checkpoint/']]) {
      expect(args[arg]).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^PipelineLakeBucket/) }, `/${prefix}`]] });
    }
  });

  test('the job\'s own arguments are those of the contract file, by which the job parses them (args.py; pytest test_args.py)', () => {
    const own = Object.keys(streamingJob().DefaultArguments).filter((a) => !/^--(job-language|datalake-formats|conf|extra-py-files|enable-.*|custom-logGroup-prefix)$/.test(a));
    // The processing rules' arguments appear only for a source with rules, the delivery's only with a delivery stream
    // (both tested below).
    const { processingResource, aggregatesPath, hashKeySecret, deliveryStreamArn, deliveryPartitionKeyField } = JOB_CONTRACT.arguments;
    const optional = [processingResource, aggregatesPath, hashKeySecret, deliveryStreamArn, deliveryPartitionKeyField];
    expect(own.sort()).toEqual(Object.values(JOB_CONTRACT.arguments).filter((a) => !optional.includes(a)).sort());
  });

  test('least privilege: the job reads this stream only, and this source\'s lake prefix with its key; code objects one by one', () => {
    const policy = statements(template, 'PipelineJobAccessRole');
    const kinesisStatement = policy.find((s) => actions(s).some((a) => a.startsWith('kinesis:')))!;
    expect(actions(kinesisStatement).sort()).toEqual(['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards']);
    expect(kinesisStatement.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PipelineStream/), 'Arn'] });
    const objects = policy.find((s) => actions(s).includes('s3:PutObject'))!;
    expect(json(objects.Resource)).toContain('/clickstream/*');
    expect(json(objects.Resource)).toContain('/clickstream_$folder$');
    expect(json(objects.Resource)).not.toMatch(/"\/\*"/);
    // Finding 2: S3A's existence probes need 404 for a missing key, which S3 gives only to a caller that may list
    // the bucket; whether a prefix-conditioned ListBucket counts is undocumented, so the grant has no condition.
    const list = policy.filter((s) => actions(s).includes('s3:ListBucket'));
    expect(list).toHaveLength(1);
    expect(list[0]).toEqual({ Action: 's3:ListBucket', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PipelineLakeBucket/), 'Arn'] } });
    const code = policy.find((s) => json(s.Resource).includes('cdk-hnb659fds-assets'))!;
    expect(actions(code)).toEqual(['s3:GetObject']);
    expect(json(code.Resource).match(/\.(py|zip|json)/g)!.sort()).toEqual(['.py', '.zip']);
    expect(policy.filter((s) => json(s.Resource).includes('cdk-hnb659fds-assets') && actions(s).includes('s3:ListBucket'))).toEqual([]);
    const kms = policy.find((s) => actions(s).some((a) => a.startsWith('kms:')))!;
    expect(actions(kms).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(json(kms.Resource)).toContain('PipelineLakeKey');
    const logs = policy.filter((s) => actions(s).some((a) => a.startsWith('logs:')));
    expect(logs.flatMap(actions).sort()).toEqual(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(json(logs.map((s) => s.Resource))).toMatch(/PipelineJobAccessErrorLogs.*PipelineJobAccessOutputLogs/);
    const metrics = policy.find((s) => actions(s).includes('cloudwatch:PutMetricData'))!;
    expect(metrics.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': ['Glue', JOB_CONTRACT.metrics.namespace] } });
    // No action anywhere is a wildcard.
    for (const s of policy) for (const a of actions(s)) expect(a).not.toMatch(/\*$/);
  });

  test('freshness exit: receipts at the lake bucket\'s root, PutObject on this source\'s receipts prefix only; the canary contract is the platform\'s', () => {
    // The job's copy of the canary contract (contract.json "canary", read by the job) equals platform/freshness's.
    expect(JOB_CONTRACT.canary).toEqual({ idPrefix: FRESHNESS_CONTRACT.canaryIdPrefix, receiptsPrefix: FRESHNESS_CONTRACT.receiptsPrefix });
    expect(streamingJob().DefaultArguments[JOB_CONTRACT.arguments.freshnessReceiptsPath]).toEqual({
      'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^PipelineLakeBucket/) }, '/']],
    });
    const receipts = statements(template, 'PipelineJobAccessRole').filter((s) => json(s.Resource).includes('_freshness'));
    expect(receipts).toEqual([
      { Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^PipelineLakeBucket/), 'Arn'] }, '/_freshness/clickstream/*']] } },
    ]);
    // No other statement reaches outside the source's prefix: the lake statement stays on clickstream/.
    const lake = statements(template, 'PipelineJobAccessRole').filter((s) => json(s.Resource).includes('PipelineLakeBucket') && !actions(s).includes('s3:ListBucket'));
    expect(lake.map((s) => json(s.Resource).match(/\/(clickstream[^"]*|_freshness[^"]*)"/g)?.join(' '))).toEqual(['/clickstream/*" /clickstream_$folder$"', '/_freshness/clickstream/*"']);
  });

  test('one writer per Delta table: the upkeep runs inside the streaming job; no other job, trigger or role writes to the lake', () => {
    template.resourceCountIs('AWS::Glue::Job', 1);
    template.resourceCountIs('AWS::Glue::Trigger', 0);
    const writers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).some((s) => actions(s).some((a) => ['s3:PutObject', 's3:DeleteObject'].includes(a)) && json(s.Resource).includes('PipelineLakeBucket')),
    );
    expect(writers.map(([, p]) => p.Properties.Roles)).toEqual([[{ Ref: expect.stringMatching(/^PipelineJobAccessRole/) }]]);
  });

  test('upkeep settings: an interval of at least a minute, passed to the streaming job', () => {
    const args = (upkeep: KinesisToDeltaLakeProps['upkeep']) => {
      const { template } = pipeline({ upkeep });
      return Object.values(template.findResources('AWS::Glue::Job'))[0].Properties.DefaultArguments['--upkeep-interval-minutes'];
    };
    expect(args({ interval: Duration.minutes(30) })).toBe('30');
    expect(args({})).toBe('60');
    expect(() => args({ interval: Duration.seconds(30) })).toThrow(/"upkeep.interval" must be at least 1 minute \(got 30 seconds\)/);
  });

  test('start on deploy: a custom resource carries the job definition, so a new script or argument restarts the run', () => {
    const runs = template.findResources('Custom::GlueStreamingJobRun');
    expect(Object.keys(runs)).toHaveLength(1);
    const run = Object.values(runs)[0];
    const job = streamingJob();
    expect(run.Properties.JobName).toEqual({ Ref: expect.stringMatching(/^PipelineJob/) });
    expect(run.Properties.Definition).toEqual({ ScriptLocation: job.Command.ScriptLocation, GlueVersion: '5.1', WorkerType: 'G.1X', NumberOfWorkers: 5, Arguments: job.DefaultArguments });
    // Ordered after the job and its role's policy: the new run has the new script and its permissions.
    expect(json(run.DependsOn)).toMatch(/PipelineJobAccessRoleDefaultPolicy/);
    const control = statements(template, 'PipelineRunnerControlRole').find((s) => actions(s).includes('glue:BatchStopJobRun'))!;
    expect(actions(control).sort()).toEqual(['glue:BatchStopJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:StartJobRun']);
    expect(json(control.Resource)).toContain(':job/TestStack-Pipeline');
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.onEvent', Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 900 });
  });

  test('a changed job file is a changed run definition of the same resource: CloudFormation sends an Update, which restarts the run', () => {
    const definitionFor = (schemaFile: string) => {
      const { template } = pipeline({ source: { ...source, schemaFile } });
      const runs = template.findResources('Custom::GlueStreamingJobRun');
      return { id: Object.keys(runs)[0], definition: Object.values(runs)[0].Properties.Definition };
    };
    const before = definitionFor(path.join(SCHEMAS_DIR, 'clickstream.schema.json'));
    const after = definitionFor(path.join(SCHEMAS_DIR, 'orders.schema.json'));
    expect(after.id).toBe(before.id);
    expect(after.definition.Arguments['--extra-py-files']).not.toEqual(before.definition.Arguments['--extra-py-files']);
    expect(after.definition.ScriptLocation).toEqual(before.definition.ScriptLocation);
  });

  test('restart wiring: failed-run events and a 5-minute check invoke the restarter, which may only list and start runs', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.glue'], 'detail-type': ['Glue Job State Change'], detail: { jobName: [Match.anyValue()], state: ['FAILED', 'TIMEOUT', 'ERROR', 'EXPIRED'] } },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PipelineRunnerRestarter'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PipelineRunnerRestarter'), 'Arn'] } })] });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.restart',
      Environment: { Variables: Match.objectLike({ [ENV.jobName]: 'TestStack-Pipeline', [ENV.maxRestartsPerHour]: '5', [ENV.metricsNamespace]: METRICS_NAMESPACE }) },
    });
    const restarter = statements(template, 'PipelineRunnerRestarterRole').find((s) => actions(s).some((a) => a.startsWith('glue:')))!;
    expect(actions(restarter).sort()).toEqual(['glue:GetJobRuns', 'glue:StartJobRun']);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PipelineRunnerDeadLetterQueue'), 'Arn'] } } } });
  });

  test('catalog: Delta tables for Athena v3 at the table locations, an enforced encrypted workgroup, saved queries', () => {
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'teststack_pipeline' } });
    for (const [name, prefix] of [['clickstream', 'events'], ['clickstream_errors', 'errors']]) {
      const location = { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^PipelineLakeBucket') }, `/clickstream/${prefix}/`]] };
      template.hasResourceProperties('AWS::Glue::Table', {
        DatabaseName: 'teststack_pipeline',
        TableInput: Match.objectLike({
          Name: name,
          TableType: 'EXTERNAL_TABLE',
          Parameters: { table_type: 'DELTA', 'spark.sql.sources.provider': 'delta', EXTERNAL: 'TRUE' },
          StorageDescriptor: Match.objectLike({ Location: location, SerdeInfo: { Parameters: { path: location } } }),
        }),
      });
    }
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: { OutputLocation: Match.anyValue(), EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('QueryResultsKey'), 'Arn'] } } },
      }),
    });
    // Finding 5: both documented registrations at once (see catalog.ts): the placeholder column Spark and Athena's
    // sync page use, no partition keys (partitions come from the Delta log).
    for (const table of Object.values(template.findResources('AWS::Glue::Table'))) {
      expect(table.Properties.TableInput.StorageDescriptor.Columns).toEqual([expect.objectContaining({ Name: 'col', Type: 'array<string>' })]);
      expect(table.Properties.TableInput.PartitionKeys).toEqual([]);
    }
    // The saved queries use only columns the job writes (pipelines/kinesis-to-delta-lake/job: the schema's and the job's own columns).
    const fs = jest.requireActual('fs') as typeof import('fs');
    const pipelinePy = fs.readFileSync(fromRoot('pipelines/kinesis-to-delta-lake/job/src/stream_foundry_delta/pipeline.py'), 'utf8');
    const schemaColumns = Object.keys(JSON.parse(fs.readFileSync(source.schemaFile, 'utf8')).properties);
    const sql = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties.QueryString as string);
    const used = new Set(sql.join('\n').replace(/"[^"]*"|'[^']*'/g, '').match(/\b[a-z][a-z0-9_]*_[a-z0-9_]+\b|\braw\b|\breason\b/g));
    expect([...used]).toEqual(expect.arrayContaining(['event_date', 'occurred_at', 'ingested_at', 'kinesis_arrival_time', 'error_date', 'kinesis_sequence_number', 'reason', 'raw']));
    for (const column of used) {
      if (['approx_percentile', 'date_diff', 'current_date', 'p50_ms_event_to_table', 'p95_ms_stream_to_table'].includes(column)) continue;
      expect(schemaColumns.includes(column) || pipelinePy.includes(`"${column}"`)).toBe(true);
    }
    template.resourceCountIs('AWS::Athena::NamedQuery', 3);
    template.hasResourceProperties('AWS::Athena::NamedQuery', { Database: 'teststack_pipeline', QueryString: Match.stringLikeRegexp('FROM "teststack_pipeline"."clickstream"\nWHERE event_date') });
    expect(construct.database).toBe(construct.catalog.database);
    expect(construct.workgroup).toBe(construct.catalog.workgroup);
  });

  test('the stream is on-demand, encrypted and retained; the lake bucket counts writes of rejected records', () => {
    template.hasResource('AWS::Kinesis::Stream', {
      Properties: { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, RetentionPeriodHours: 24, StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' } },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::Bucket', { MetricsConfigurations: [{ Id: 'clickstream-rejected', Prefix: 'clickstream/errors/error_date=' }] });
  });

  test('alarms: iterator age, write throttling, job failure, not running, restarts exhausted, slow batches, no data, rejected records, upkeep, restarter', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const metricOf = (a: { MetricName?: string; Metrics?: { MetricStat?: { Metric: { MetricName: string } } }[] }) =>
      a.MetricName ?? a.Metrics?.find((m) => m.MetricStat)?.MetricStat?.Metric.MetricName;
    const find = (metricName: string) => alarms.find((a) => metricOf(a) === metricName);
    expect(find('GetRecords.IteratorAgeMilliseconds')).toMatchObject({ Threshold: 300_000, ComparisonOperator: 'GreaterThanThreshold' });
    expect(find('PutRecords.ThrottledRecords')).toMatchObject({ Threshold: 0 });
    // Finding 6: the job's own metrics (contract.json), not Glue's forEachBatch metrics.
    const { namespace, names } = JOB_CONTRACT.metrics;
    const jobDimension = [{ Name: 'JobName', Value: 'TestStack-Pipeline' }];
    expect(find(names.batchDurationMs)).toMatchObject({ Namespace: namespace, Statistic: 'Average', Threshold: 5000, EvaluationPeriods: 3, Dimensions: jobDimension });
    expect(find(names.upkeepFailed)).toMatchObject({ Namespace: namespace, Statistic: 'Sum', Threshold: 0, TreatMissingData: 'notBreaching', Dimensions: jobDimension });
    const noData = alarms.filter((a) => metricOf(a) === names.eventsIn);
    expect(noData.map((a) => [a.Namespace, a.TreatMissingData]).sort()).toEqual([[namespace, 'breaching'], [namespace, 'notBreaching']]); // silent + armed
    expect(alarms.filter((a) => String(metricOf(a)).startsWith('glue.driver'))).toEqual([]);
    expect(alarms.filter((a) => metricOf(a) === 'TriggeredRules')).toHaveLength(1); // job failed
    expect(find('JobRunning')).toMatchObject({ Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', Namespace: METRICS_NAMESPACE });
    expect(find('RestartsExhausted')).toMatchObject({ Threshold: 0 });
    expect(find('PutRequests')).toMatchObject({ Namespace: 'AWS/S3', Dimensions: expect.arrayContaining([{ Name: 'FilterId', Value: 'clickstream-rejected' }]) });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'TestStack-Pipeline-clickstream-job-no-data' });
    const runbookAnchors = alarms.map((a) => /Runbook: https:\/\/\S+\/runbooks\/kinesis-to-delta-lake\.md#([a-z-]+)/.exec(a.AlarmDescription)?.[1]);
    expect(new Set(runbookAnchors)).toEqual(
      new Set(['lag-iterator-age', 'write-throttled', 'batch-slow', 'job-failed', 'job-not-running', 'restarts-exhausted', 'upkeep-failed', 'rejected-records', 'no-data', 'restarter-faults', 'dead-letter-queue-not-empty']),
    );
    expect(construct.alarms.length).toBe(alarms.length - 2 + 1); // the no-data building blocks count once, as their composite
  });

  test('passes the compliance gate', () => {
    expect(complianceFindings(stack)).toEqual([]);
  });

  test('bring your own stream and lake bucket; props are checked', () => {
    const stack = testStack(noBundling);
    const stream = new kinesis.Stream(stack, 'Mine', { encryption: kinesis.StreamEncryption.MANAGED });
    const bucket = new SecureBucket(stack, 'MyLake').bucket;
    const own = new KinesisToDeltaLake(stack, 'Own', { source, existingStream: stream, existingLakeBucket: bucket, job: { triggerInterval: Duration.seconds(2), startingPosition: 'LATEST' } });
    expect(own.stream).toBe(stream);
    expect(own.lakeBucket).toBe(bucket);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Kinesis::Stream', 1);
    t.hasResourceProperties('AWS::Glue::Job', { DefaultArguments: Match.objectLike({ '--trigger-interval': '2 seconds', '--starting-position': 'LATEST' }) });
    const other = testStack(noBundling);
    expect(() => new KinesisToDeltaLake(other, 'A', { source, existingStream: stream, streamProps: {} })).toThrow('give either "existingStream" or "streamProps", not both');
    expect(() => new KinesisToDeltaLake(other, 'B', { source, upkeep: { vacuumRetention: Duration.hours(24) } })).toThrow('must be at least "upkeep.logRetention"');
    expect(() => new KinesisToDeltaLake(other, 'D', { source, upkeep: { interval: Duration.seconds(10) } })).toThrow('"upkeep.interval" must be at least 1 minute');
    expect(() => new KinesisToDeltaLake(other, 'C', { source: { ...source, name: 'Click_Stream' } })).toThrow('lower-case');
  });
});

describe('KinesisToDeltaLake with processing rules (docs/processing-rules.md)', () => {
  const rulesFile = fromRoot('schemas', 'clickstream.rules.json');
  const schema = JSON.parse(fs.readFileSync(source.schemaFile, 'utf8'));
  const processing = processingDocument(source, schema, loadRules(rulesFile, 'rules'), 'rules');
  const { stack, construct, template } = pipeline({ source: { ...source, processing } });
  const args = () => Object.values(template.findResources('AWS::Glue::Job'))[0].Properties.DefaultArguments;

  test('the job gets the processing document beside the schema, the aggregates table and the hash key', () => {
    expect(args()).toMatchObject({
      [JOB_CONTRACT.arguments.processingResource]: 'clickstream.processing.json',
      [JOB_CONTRACT.arguments.aggregatesPath]: { 'Fn::Join': ['', ['s3://', expect.anything(), `/clickstream/aggregates/${aggregateDigest(processing)}/`]] },
      [JOB_CONTRACT.arguments.hashKeySecret]: { Ref: expect.stringMatching(/^ProcessingRulesHashKey/) },
    });
  });

  test('the package ships the document the job reads (the output schema is what the tables are built from)', () => {
    const code = construct.node.findChild('Code') as JobCode;
    const shipped = JSON.parse(fs.readFileSync(path.join(code.packageDir, 'stream_foundry_delta', JOB_CONTRACT.schemaDir, 'clickstream.processing.json'), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(processing)));
    expect(shipped.outputSchema.properties).toHaveProperty('page_key');
  });

  test('the hash key is one secret per stack, readable by the job role only, never rotated on purpose', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const read = statements(template, 'PipelineJobAccessRole').find((s) => actions(s).includes('secretsmanager:GetSecretValue'))!;
    expect(read.Resource).toEqual({ Ref: expect.stringMatching(/^ProcessingRulesHashKey/) });
  });

  test('an aggregates table next to the events table, read from its Delta log', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'clickstream_aggregates', Parameters: Match.objectLike({ table_type: 'DELTA' }) }),
    });
  });

  test('a changed aggregate definition is a new aggregates location (Spark cannot restore window state into other windows)', () => {
    const changed = { ...processing, rules: { ...processing.rules, aggregate: { ...processing.rules.aggregate!, windowSeconds: 300 } } };
    expect(aggregateDigest(changed)).not.toEqual(aggregateDigest(processing));
    expect(aggregateDigest(JSON.parse(JSON.stringify(processing)))).toEqual(aggregateDigest(processing));
  });

  test('passes the compliance gate', () => {
    expect(complianceFindings(stack)).toEqual([]);
  });
});

describe('KinesisToDeltaLake with a delivery stream (platform/customer-delivery)', () => {
  const stack = testStack(noBundling);
  // As CustomerDelivery builds it: its own rotated key (cross-account readers decrypt).
  const delivery = new kinesis.Stream(stack, 'Delivery', { encryptionKey: new kms.Key(stack, 'DeliveryKey', { enableKeyRotation: true }) });
  Validations.of(delivery).acknowledge({ id: 'AwsSolutions-KDS3', reason: 'As CustomerDelivery does: cross-account readers need a customer-managed key.' });
  new KinesisToDeltaLake(stack, 'Pipeline', { source, delivery: { stream: delivery, partitionKeyField: 'user_id' } });
  const template = Template.fromStack(stack);

  test('the job puts its committed events to the stream, keyed by the partition-key field', () => {
    const job = Object.values(template.findResources('AWS::Glue::Job', { Properties: { Command: { Name: 'gluestreaming' } } }))[0].Properties;
    expect(job.DefaultArguments).toMatchObject({
      [JOB_CONTRACT.arguments.deliveryStreamArn]: { 'Fn::GetAtt': [expect.stringMatching(/^Delivery/), 'Arn'] },
      [JOB_CONTRACT.arguments.deliveryPartitionKeyField]: 'user_id',
    });
  });

  test('least privilege: PutRecords on that stream and data keys of its key, nothing read back', () => {
    const policy = statements(template, 'PipelineJobAccessRole');
    const put = policy.filter((s) => actions(s).includes('kinesis:PutRecords'));
    expect(put).toHaveLength(1);
    expect(actions(put[0])).toEqual(['kinesis:PutRecords']);
    expect(put[0].Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Delivery/), 'Arn'] });
    const deliveryKey = policy.filter((s) => json(s.Resource).includes('DeliveryKey'));
    expect(deliveryKey.map(actions)).toEqual([['kms:GenerateDataKey']]);
  });
});
