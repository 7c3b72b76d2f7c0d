import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { MskToIceberg, MskToIcebergProps } from '../../../pipelines/msk-to-iceberg/construct';
import { stageJobSource } from '../../../pipelines/msk-to-iceberg/construct/job-build';
import { LandingZone } from '../../../platform/landing-zone/construct';
import { SCHEMAS_DIR } from '../../../platform/config';
import { complianceFindings, testStack } from '../../support/aws';
import { fromRoot } from '../../../platform/paths';
import { RawZone } from '../../../platform/raw-zone';
import { loadRules, processingDocument } from '../../../platform/processing-rules';

const orders = { name: 'orders', schemaFile: path.join(SCHEMAS_DIR, 'orders.schema.json'), idField: 'event_id', partitionKeyField: 'order_id' };

function pipeline(props: Partial<MskToIcebergProps> = {}) {
  const stack = testStack({ 'aws:cdk:bundling-stacks': [] });
  const construct = new MskToIceberg(stack, 'Pipe', { sources: [orders], ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

const { stack, construct, template } = pipeline();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any; DependsOn?: string[] }>; // eslint-disable-line @typescript-eslint/no-explicit-any
const idOf = (type: string, match: (r: { Properties: any }) => boolean = () => true) => // eslint-disable-line @typescript-eslint/no-explicit-any
  Object.entries(resources).find(([, r]) => r.Type === type && match(r))![0];
const statementsOfRole = (roleId: string) =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);

/**
 * The application's runtime properties as Managed Flink hands them to the job (its application_properties.json format),
 * with CloudFormation references rendered as sample values of the same shape: a bucket is a valid bucket name, the
 * brokers an MSK Serverless IAM bootstrap address.
 */
function deployedApplicationProperties(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const render = (v: any): string => {
    if (typeof v === 'string') return v;
    if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
    if (v.Ref) return `sample-${String(v.Ref).toLowerCase()}`.slice(0, 63);
    if (v['Fn::GetAtt']?.[1] === 'BootstrapBrokers') return 'boot-abc123.c2.kafka-serverless.us-east-1.amazonaws.com:9098';
    throw new Error(`cannot render ${JSON.stringify(v)}`);
  };
  const app = Object.values(resources).find((r) => r.Type === 'AWS::KinesisAnalyticsV2::Application')!;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return app.Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups.map((g: any) => ({
    PropertyGroupId: g.PropertyGroupId,
    PropertyMap: Object.fromEntries(Object.entries(g.PropertyMap).map(([k, v]) => [k, render(v)])),
  }));
}
const JOB_TEST_RESOURCES = fromRoot('pipelines/msk-to-iceberg/job/src/test/resources');

/** Glue's snapshot retention for the table, as deployed: the job's long-stop test (EndToEndTest) expires with it. */
function deployedSnapshotRetention(): unknown {
  const retention = Object.values(resources).find((r) => r.Type === 'AWS::Glue::TableOptimizer' && r.Properties.Type === 'retention')!;
  return retention.Properties.TableOptimizerConfiguration.RetentionConfiguration.IcebergConfiguration;
}

describe('MskToIceberg', () => {
  test('the job is tested with the properties and the snapshot retention the construct deploys (pipelines/msk-to-iceberg/job tests)', () => {
    // On a deliberate change: UPDATE_DEPLOYED_PROPERTIES=1 npx jest test/pipelines/msk-to-iceberg/construct.test.ts, then run the job's tests.
    for (const [file, value] of [
      ['deployed-application-properties.json', deployedApplicationProperties()],
      ['deployed-snapshot-retention.json', deployedSnapshotRetention()],
    ] as const) {
      const deployed = `${JSON.stringify(value, null, 2)}\n`;
      if (process.env.UPDATE_DEPLOYED_PROPERTIES) fs.writeFileSync(path.join(JOB_TEST_RESOURCES, file), deployed);
      expect(fs.readFileSync(path.join(JOB_TEST_RESOURCES, file), 'utf8')).toBe(deployed);
    }
  });

  test('MSK Serverless with IAM authentication in the private subnets, brokers reachable on 9098 from the clients only', () => {
    template.hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [{ SubnetIds: Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp('privateSubnet') })]) }],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 9098, ToPort: 9098, IpProtocol: 'tcp' });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  test('existingVpc XOR vpcProps; interface endpoints on request', () => {
    const s = testStack({ 'aws:cdk:bundling-stacks': [] });
    const vpc = new ec2.Vpc(s, 'Mine');
    expect(() => new MskToIceberg(s, 'P', { sources: [orders], existingVpc: vpc, vpcProps: {} })).toThrow(/"existingVpc" or "vpcProps"/);
    const { template: withEndpoints } = pipeline({ interfaceEndpoints: true });
    withEndpoints.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 4);
  });

  test('topics are created by a custom resource in the VPC, with partitions and retention; its attribute feeds the brokers', () => {
    template.hasResourceProperties('Custom::KafkaTopics', {
      ClusterArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ClusterServerless'), 'Arn'] },
      Topics: [{ Name: 'orders', Partitions: '6', RetentionMs: String(168 * 3_600_000) }],
    });
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && /Creates the Kafka topics/.test(r.Properties.Description))!;
    expect(fn.Properties.VpcConfig.SecurityGroupIds).toHaveLength(1);
    const app = Object.values(resources).find((r) => r.Type === 'AWS::KinesisAnalyticsV2::Application')!;
    const job = app.Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups[0];
    expect(job.PropertyGroupId).toBe('job');
    expect(JSON.stringify(job.PropertyMap['kafka.bootstrap.servers'])).toMatch(/Topics.*BootstrapBrokers/);
  });

  test('the topic creator can create and alter only the pipeline topics, and never delete', () => {
    const statements = statementsOfRole(idOf('AWS::IAM::Role', (r) => /Creates the Kafka topics/.test(r.Properties.Description ?? '')));
    const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['kafka-cluster:CreateTopic', 'kafka-cluster:AlterTopic', 'kafka:GetBootstrapBrokers']));
    expect(actions.filter((a: string) => /Delete/.test(a) && !/NetworkInterface/.test(a))).toEqual([]);
    const topicStatement = statements.find((s: { Action: string[] }) => [s.Action].flat().includes('kafka-cluster:CreateTopic'));
    expect(JSON.stringify(topicStatement.Resource)).toContain(':topic/');
    expect(JSON.stringify(topicStatement.Resource)).toContain('/orders');
  });

  test('the Flink application: 1.20, in the VPC, custom 5 s checkpoints, snapshots on, parallelism and autoscaling, logs to CloudWatch', () => {
    template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      RuntimeEnvironment: 'FLINK-1_20',
      ApplicationConfiguration: {
        ApplicationSnapshotConfiguration: { SnapshotsEnabled: true },
        FlinkApplicationConfiguration: {
          CheckpointConfiguration: { ConfigurationType: 'CUSTOM', CheckpointingEnabled: true, CheckpointInterval: 5000, MinPauseBetweenCheckpoints: 1000 },
          ParallelismConfiguration: { ConfigurationType: 'CUSTOM', Parallelism: 2, ParallelismPerKPU: 1, AutoScalingEnabled: true },
        },
        VpcConfigurations: [{ SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() }],
        ApplicationCodeConfiguration: {
          CodeContentType: 'ZIPFILE',
          CodeContent: { S3ContentLocation: { FileKey: Match.stringLikeRegexp('^flink-iceberg/[0-9a-f]{64}/flink-iceberg-job.jar$') } },
        },
        EnvironmentProperties: {
          PropertyGroups: [
            {
              PropertyGroupId: 'job',
              PropertyMap: Match.objectLike({
                'kafka.topic': 'orders',
                'kafka.auth': 'iam',
                'kafka.group.id': 'stream-foundry-teststack-orders',
                'catalog.type': 'glue',
                'catalog.database': 'teststack',
                'catalog.table': 'orders',
                'source.schema': 'orders',
                'source.event.time.field': 'updated_at',
                'source.id.field': 'event_id',
              }),
            },
          ],
        },
      },
    });
    template.hasResourceProperties('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', { CloudWatchLoggingOption: { LogStreamARN: Match.anyValue() } });
  });

  test('the application is created only after its JAR is built, and started (restore from snapshot) after every create and update', () => {
    const appId = idOf('AWS::KinesisAnalyticsV2::Application');
    const buildId = idOf('Custom::FlinkJobBuild');
    expect(resources[appId].DependsOn).toEqual(expect.arrayContaining([buildId]));
    template.hasResourceProperties('Custom::FlinkJobBuild', {
      ArtifactKey: Match.stringLikeRegexp('^flink-iceberg/[0-9a-f]{64}/'),
      ProjectName: { Ref: Match.stringLikeRegexp('JobBuildProject') },
    });
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: { Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0', Type: 'LINUX_CONTAINER' },
      Source: { Type: 'S3', BuildSpec: Match.stringLikeRegexp('mvn -B -ntp package -DskipTests') },
      TimeoutInMinutes: 30,
    });
    const starter = Object.values(resources).find((r) => r.Type === 'Custom::FlinkApplicationStarter')!;
    expect(starter.Properties).toMatchObject({ ApplicationName: { Ref: appId }, DatabaseName: 'teststack', TableName: 'orders' });
    expect(starter.Properties.ConfigHash).toMatch(/^[0-9a-f]{32}$/);
    // A changed setting is a changed hash: CloudFormation reruns the starter after the application's update.
    const other = pipeline({ application: { parallelism: 4 } }).template.toJSON().Resources;
    const otherHash = (Object.values(other) as any[]).find((r) => r.Type === 'Custom::FlinkApplicationStarter').Properties.ConfigHash; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(otherHash).not.toBe(starter.Properties.ConfigHash);
    // The build and start waits poll up to 30 minutes.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
  });

  test("the build's source is the job's pom, main sources and the sources' schemas: a change to the job's tests builds no new JAR", () => {
    // A schema file named otherwise than its source is staged under the source's name, where the job looks it up.
    const staged = stageJobSource([{ ...orders, schemaFile: path.join(SCHEMAS_DIR, 'releases', 'orders', 'v1.schema.json') }]);
    const files = (fs.readdirSync(staged, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(staged, f)).isFile()).sort();
    const job = 'pipelines/msk-to-iceberg/job/';
    expect(files.filter((f) => !f.startsWith(`${job}src/main/`))).toEqual([`${job}pom.xml`, 'schemas/orders.schema.json']);
    expect(files).toContain(`${job}src/main/java/dev/streamfoundry/flink/IcebergIngestJob.java`);
    expect(files.some((f) => f.startsWith(`${job}src/test/`))).toBe(false);
  });

  test('least privilege: the job reads its topic and group, writes its table prefix and its Glue table, nothing more', () => {
    const statements = statementsOfRole(idOf('AWS::IAM::Role', (r) => /^Managed Flink application /.test(r.Properties.Description ?? '')));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const bySid: Record<string, any> = Object.fromEntries(statements.filter((s: { Sid?: string }) => s.Sid).map((s: { Sid: string }) => [s.Sid, s]));
    expect([bySid.KafkaTopic.Action].flat()).toEqual(['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData']);
    expect(JSON.stringify(bySid.KafkaTopic.Resource)).toMatch(/:topic\/.*\/orders"/);
    expect(JSON.stringify(bySid.KafkaGroup.Resource)).toMatch(/:group\/.*\/stream-foundry-teststack-orders"/);
    expect(JSON.stringify(bySid.Warehouse.Resource)).toContain('/warehouse/teststack.db/orders/*');
    // ListBucket unconditioned on the pipeline's own buckets: S3 answers the job's HEAD probes of missing keys 404, not 403.
    expect(bySid.WarehouseList.Condition).toBeUndefined();
    expect(bySid.ErrorsList.Condition).toBeUndefined();
    expect(JSON.stringify(bySid.GlueTable.Resource)).toContain(':table/teststack/orders');
    expect(JSON.stringify(bySid.GlueTable.Resource)).not.toContain('teststack/*');
    expect(JSON.stringify(bySid.Errors.Resource)).toContain('/flink/orders/*');
    const actions = statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions.filter((a: string) => a.endsWith(':*') || a === '*')).toEqual([]);
    expect(actions).not.toContain('kafka-cluster:WriteData');
    expect(actions).not.toContain('glue:CreateDatabase');
  });

  test("freshness: receipts at the warehouse bucket's root (s3a://, like the error path); the role may only put new objects under _freshness/orders/", () => {
    const properties = Object.values(template.findResources('AWS::KinesisAnalyticsV2::Application'))[0].Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups[0].PropertyMap;
    const warehouse = construct.warehouseBucket;
    expect(properties['freshness.receipts.path']).toEqual({ 'Fn::Join': ['', ['s3a://', stack.resolve(warehouse.bucketName)]] });
    const statements = statementsOfRole(idOf('AWS::IAM::Role', (r) => /^Managed Flink application /.test(r.Properties.Description ?? '')));
    const onReceipts = statements.filter((st: { Resource: unknown }) => JSON.stringify(st.Resource).includes('_freshness/'));
    expect(onReceipts).toHaveLength(1);
    expect(onReceipts[0].Action).toBe('s3:PutObject');
    expect(onReceipts[0].Resource).toEqual({ 'Fn::Join': ['', [stack.resolve(warehouse.bucketArn), '/_freshness/orders/*']] });
  });

  test('lake: Glue database at the warehouse, Athena workgroup with KMS-encrypted results and an example query, optimizers after the start', () => {
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'teststack', LocationUri: Match.anyValue() } });
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() }, OutputLocation: Match.anyValue() },
      }),
    });
    template.hasResourceProperties('AWS::Athena::NamedQuery', { Database: 'teststack', QueryString: Match.stringLikeRegexp('FROM "teststack"."orders"') });
    const starterId = idOf('Custom::FlinkApplicationStarter');
    const optimizers = Object.values(resources).filter((r) => r.Type === 'AWS::Glue::TableOptimizer');
    expect(optimizers.map((o) => o.Properties.Type).sort()).toEqual(['compaction', 'orphan_file_deletion', 'retention']);
    for (const o of optimizers) {
      expect(o.DependsOn).toEqual(expect.arrayContaining([starterId]));
      expect(o.Properties).toMatchObject({ DatabaseName: 'teststack', TableName: 'orders', TableOptimizerConfiguration: { Enabled: true } });
    }
    const retention = optimizers.find((o) => o.Properties.Type === 'retention')!;
    expect(retention.Properties.TableOptimizerConfiguration.RetentionConfiguration.IcebergConfiguration).toEqual({
      SnapshotRetentionPeriodInDays: 1,
      NumberOfSnapshotsToRetain: 100,
      CleanExpiredFiles: true,
    });
  });

  test('landing target: a landing zone in front (as the stack attaches it) validates in the VPC and publishes to the topic with IAM auth', () => {
    const zoned = testStack({ 'aws:cdk:bundling-stacks': [] });
    const pipe = new MskToIceberg(zoned, 'Pipe', { sources: [orders] });
    const zone = new LandingZone(pipe, 'LandingZone', { sources: [{ ...orders, target: pipe.landingTarget('orders') }], monitoring: pipe.monitoring, existingErrorBucket: pipe.errorBucket });
    Template.fromStack(zoned).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SOURCE_NAME: 'orders', TARGET: 'kafka', KAFKA_TOPIC: 'orders', KAFKA_AUTH: 'iam' }) },
      VpcConfig: Match.anyValue(),
    });
    expect(zone.validators.orders).toBeDefined();
  });

  test('alarms: lag (offset and time), downtime, restarts, failed and slow checkpoints, malformed records, no data; each with its runbook', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmActions);
    const names = alarms.map((a) => a.Properties.AlarmName as string);
    for (const suffix of ['orders-offset-lag', 'orders-time-lag', 'orders-checkpoint-duration', 'orders-rejected-records', 'Downtime', 'FullRestartRate']) {
      expect(names.some((n) => n.includes(suffix))).toBe(true);
    }
    const lag = alarms.find((a) => /orders-offset-lag/.test(a.Properties.AlarmName))!;
    expect(lag.Properties).toMatchObject({ Namespace: 'AWS/Kafka', MetricName: 'MaxOffsetLag', Threshold: 100000 });
    expect(lag.Properties.Dimensions).toEqual(
      expect.arrayContaining([{ Name: 'Consumer Group', Value: 'stream-foundry-teststack-orders' }, { Name: 'Topic', Value: 'orders' }]),
    );
    const timeLag = alarms.find((a) => /orders-time-lag/.test(a.Properties.AlarmName))!;
    expect(timeLag.Properties).toMatchObject({ MetricName: 'EstimatedMaxTimeLag', Threshold: 120 });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: Match.stringLikeRegexp('orders-flink-no-data$') });
    // The job's own metrics (registered under "kinesisanalytics", JobContractTest), by the names of the contract file.
    const app = { Name: 'Application', Value: construct.applications.orders.applicationName };
    const malformed = alarms.find((a) => /orders-rejected-records/.test(a.Properties.AlarmName))!;
    expect(malformed.Properties).toMatchObject({ Namespace: 'AWS/KinesisAnalytics', MetricName: 'eventsMalformedPerSecond', Statistic: 'Maximum', Threshold: 0, TreatMissingData: 'notBreaching' });
    expect(malformed.Properties.Dimensions).toEqual([app]);
    const silent = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && /orders-flink-no-data-silent/.test(r.Properties.AlarmName))!;
    expect(silent.Properties).toMatchObject({ MetricName: 'eventsInPerSecond', Statistic: 'Sum', Period: 3600, Threshold: 0.01, TreatMissingData: 'breaching' });
    expect(silent.Properties.Dimensions).toEqual([app]);
    for (const a of Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmDescription).toMatch(/Runbook: https:\/\/\S+\/runbooks\/(msk-to-iceberg|landing-zone)\.md#/);
    }
    template.hasResourceProperties('AWS::S3::Bucket', { MetricsConfigurations: [{ Id: 'flink-errors-orders', Prefix: 'flink/orders/' }] });
  });

  test('raw zone: the job archives its topic under <raw bucket>/orders/ (s3a FileSink), table orders_raw beside the Iceberg table, output ordersRawZone', () => {
    const rawBucket = construct.rawZone.bucket;
    const properties = Object.values(template.findResources('AWS::KinesisAnalyticsV2::Application'))[0].Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups[0].PropertyMap;
    expect(properties['raw.path']).toEqual({ 'Fn::Join': ['', ['s3a://', stack.resolve(rawBucket.bucketName), '/orders']] });
    template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'teststack',
      TableInput: Match.objectLike({ Name: 'orders_raw', PartitionKeys: [Match.objectLike({ Name: 'dt' }), Match.objectLike({ Name: 'hour' })] }),
    });
    const rawTable = idOf('AWS::Glue::Table', (r) => r.Properties.TableInput.Name === 'orders_raw');
    expect(resources[rawTable].DependsOn).toEqual(expect.arrayContaining([idOf('AWS::Glue::Database')]));
    template.hasOutput('ordersRawZone', { Value: { 'Fn::Join': ['', ['s3://', stack.resolve(rawBucket.bucketName), '/orders/']] } });
    // No delivery stream: the job is the writer (README, "Why the job and not Firehose").
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
    // The raw zone's own bucket: encrypted with its key, archived after 90 days, never expired by default.
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } })] },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'archive-raw-events', Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] })]) },
    });
  });

  test("raw zone grants: the application writes and reads its own source's prefix only, with the zone's key", () => {
    const statements = statementsOfRole(idOf('AWS::IAM::Role', (r) => /^Managed Flink application /.test(r.Properties.Description ?? '')));
    const rawBucketArn = stack.resolve(construct.rawZone.bucket.bucketArn);
    const onRaw = statements.filter((st: { Resource: unknown }) => JSON.stringify(st.Resource).includes(JSON.stringify(rawBucketArn).slice(1, -1)));
    const objects = onRaw.filter((st: { Resource: unknown }) => JSON.stringify(st.Resource).includes('/orders/*'));
    const objectActions = objects.flatMap((st: { Action: string | string[] }) => [st.Action].flat()).sort();
    expect(objectActions).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject']);
    // Every object statement on the raw bucket is scoped to orders/; the bucket itself only lists (S3's 404 rule).
    for (const st of onRaw) {
      const resourcesOf = [st.Resource].flat().map((r: unknown) => JSON.stringify(r));
      const bucketOnly = resourcesOf.every((r: string) => !r.includes('/'));
      if (bucketOnly) expect([st.Action].flat()).toEqual(['s3:ListBucket']);
      else expect(resourcesOf.every((r: string) => r.includes('/orders/*'))).toBe(true);
    }
    const keyArn = JSON.stringify(stack.resolve(construct.rawZone.key.keyArn));
    const keyActions = statements
      .filter((st: { Resource: unknown }) => [st.Resource].flat().some((r: unknown) => JSON.stringify(r) === keyArn))
      .flatMap((st: { Action: string | string[] }) => [st.Action].flat());
    expect(new Set(keyActions)).toEqual(new Set(['kms:GenerateDataKey', 'kms:Decrypt']));
  });

  test('raw zone: bring your own (existingRawZone XOR rawZoneProps), lifecycle settings reach the bucket', () => {
    expect(() => pipeline({ existingRawZone: construct.rawZone, rawZoneProps: {} })).toThrow(/give either "existingRawZone" or "rawZoneProps", not both/);
    const shared = testStack({ 'aws:cdk:bundling-stacks': [] });
    const zone = new RawZone(shared, 'SharedRaw', { runbook: 'msk-to-iceberg' });
    const own = new MskToIceberg(shared, 'Pipe', { sources: [orders], existingRawZone: zone });
    expect(own.rawZone).toBe(zone);
    expect(zone.sources.orders.tableName).toBe('orders_raw');
    expect(Template.fromStack(shared).findResources('AWS::S3::Bucket', { Properties: { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'archive-raw-events' })]) } } })).not.toEqual({});
    const { template: deep } = pipeline({ rawZoneProps: { archiveAfter: Duration.days(30), archiveStorageClass: 'DEEP_ARCHIVE', expireAfter: Duration.days(3650) } });
    deep.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'archive-raw-events', ExpirationInDays: 3650, Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 30 }] })]) },
    });
  });

  test('provisioned MSK: TLS in transit and in the cluster, IAM, broker logs', () => {
    const { template: provisioned } = pipeline({ cluster: { type: 'provisioned', brokerNodes: 4 } });
    provisioned.hasResourceProperties('AWS::MSK::Cluster', {
      NumberOfBrokerNodes: 4,
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } },
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true } } },
    });
    provisioned.resourceCountIs('AWS::MSK::ServerlessCluster', 0);
  });

  test('data is retained by default; the cluster (compute, fixed name) and the catalog go with the stack', () => {
    for (const r of Object.values(template.findResources('AWS::S3::Bucket'))) expect(r.DeletionPolicy).toBe('Retain');
    // A retained fixed name would make the deploy after a destroy fail ("already exists").
    for (const type of ['AWS::MSK::ServerlessCluster', 'AWS::Glue::Database']) {
      for (const r of Object.values(template.findResources(type))) expect(r.DeletionPolicy).toBe('Delete');
    }
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    expect(complianceFindings(stack).filter((f) => !f.startsWith('Annotation::'))).toEqual([]);
  });
});

describe('MskToIceberg with processing rules (docs/processing-rules.md)', () => {
  // Rules on the clickstream schema (the orders schema has no rules file): the construct takes any data source.
  const clickstream = { name: 'clickstream', schemaFile: path.join(SCHEMAS_DIR, 'clickstream.schema.json'), idField: 'event_id', partitionKeyField: 'user_id', eventTimeField: 'occurred_at' };
  const processing = processingDocument(clickstream, JSON.parse(fs.readFileSync(clickstream.schemaFile, 'utf8')), loadRules(path.join(SCHEMAS_DIR, 'clickstream.rules.json'), 'rules'), 'rules');
  const ruled = pipeline({ sources: [{ ...clickstream, processing }] });
  const properties = () => {
    const app = Object.values(ruled.template.findResources('AWS::KinesisAnalyticsV2::Application'))[0];
    return app.Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups[0].PropertyMap;
  };

  test('the application reads the processing document from its JAR, writes the aggregates table, gets the hash key', () => {
    expect(properties()).toMatchObject({
      'source.processing': 'schemas/clickstream.processing.json',
      'catalog.aggregates.table': 'clickstream_aggregates',
      'rules.hash.key.secret': { Ref: expect.stringMatching(/^ProcessingRulesHashKey/) },
    });
  });

  test('the JAR is built with the document: the staged source holds it, and without rules the source is unchanged', () => {
    const staged = stageJobSource([{ ...clickstream, processing }]);
    expect(JSON.parse(fs.readFileSync(path.join(staged, 'schemas', 'clickstream.processing.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(processing)));
    expect(fs.existsSync(path.join(stageJobSource([clickstream]), 'schemas', 'clickstream.processing.json'))).toBe(false);
  });

  test('the role may create and write the aggregates table, and read the hash key', () => {
    const policies = JSON.stringify(ruled.template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('clickstream_aggregates');
    expect(policies).toContain('secretsmanager:GetSecretValue');
  });

  test('passes the compliance gate', () => {
    expect(complianceFindings(ruled.stack)).toEqual([]);
  });

  test('allowNonRestoredState (once, to change an aggregate section) reaches the update and the start; unset, neither changes', () => {
    const once = pipeline({ sources: [{ ...clickstream, processing }], application: { allowNonRestoredState: true } });
    const app = Object.values(once.template.findResources('AWS::KinesisAnalyticsV2::Application'))[0];
    expect(app.Properties.RunConfiguration).toEqual({ FlinkRunConfiguration: { AllowNonRestoredState: true } });
    once.template.hasResourceProperties('Custom::FlinkApplicationStarter', { AllowNonRestoredState: 'true' });
    const usual = Object.values(ruled.template.findResources('AWS::KinesisAnalyticsV2::Application'))[0];
    expect(usual.Properties.RunConfiguration).toBeUndefined();
    expect(JSON.stringify(ruled.template.findResources('Custom::FlinkApplicationStarter'))).not.toContain('AllowNonRestoredState');
  });
});

describe('MskToIceberg delivering to customers (platform/customer-delivery)', () => {
  const delivering = pipeline({ deliverySources: ['orders'] });
  const app = () => Object.values(delivering.template.findResources('AWS::KinesisAnalyticsV2::Application'))[0];
  const roleStatements = () => {
    const role = app().Properties.ServiceExecutionRole['Fn::GetAtt'][0];
    return Object.values(delivering.template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(role)).flatMap((p) => p.Properties.PolicyDocument.Statement);
  };

  test('the job writes delivery.<source>, keyed by the partition-key field; the topic is created with the source topic', () => {
    expect(app().Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups[0].PropertyMap).toMatchObject({ 'delivery.topic': 'delivery.orders', 'delivery.key.field': 'order_id' });
    const [topics] = Object.values(delivering.template.findResources('Custom::KafkaTopics'));
    expect(topics.Properties.Topics.map((t: { Name: string }) => t.Name)).toEqual(['orders', 'delivery.orders']);
  });

  test('least privilege: idempotent writes to the delivery topic, nothing else new', () => {
    const sids = roleStatements().filter((s: { Sid?: string }) => s.Sid?.startsWith('KafkaDelivery'));
    expect(sids.map((s: { Sid: string; Action: unknown }) => [s.Sid, s.Action])).toEqual([
      ['KafkaDeliveryCluster', 'kafka-cluster:WriteDataIdempotently'],
      ['KafkaDeliveryTopic', ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData']],
    ]);
    expect(JSON.stringify(sids[1].Resource)).toContain('/delivery.orders');
  });

  test('without customers nothing changes: no delivery property, no delivery topic', () => {
    const props = Object.values(template.findResources('AWS::KinesisAnalyticsV2::Application'))[0].Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups[0].PropertyMap;
    expect(props['delivery.topic']).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('delivery.orders');
  });

  test('with rules that drop or rename the partition-key field, the key is the event id (the job refuses a key the table lacks)', () => {
    const clickstream = { name: 'clickstream', schemaFile: path.join(SCHEMAS_DIR, 'clickstream.schema.json'), idField: 'event_id', partitionKeyField: 'duration_ms', eventTimeField: 'occurred_at' };
    const processing = processingDocument(clickstream, JSON.parse(fs.readFileSync(clickstream.schemaFile, 'utf8')), loadRules(path.join(SCHEMAS_DIR, 'clickstream.rules.json'), 'rules'), 'rules');
    expect(Object.keys(processing.outputSchema.properties ?? {})).not.toContain('duration_ms');
    const ruled = pipeline({ sources: [{ ...clickstream, processing }], deliverySources: ['clickstream'] });
    const map = Object.values(ruled.template.findResources('AWS::KinesisAnalyticsV2::Application'))[0].Properties.ApplicationConfiguration.EnvironmentProperties.PropertyGroups[0].PropertyMap;
    expect(map['delivery.key.field']).toBe('event_id');
  });
});
