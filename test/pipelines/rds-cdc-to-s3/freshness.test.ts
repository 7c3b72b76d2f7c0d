/**
 * Pipeline 3's freshness canary (construct/freshness.ts): the heartbeat writer on its schedule in the database's
 * network, the heartbeat table in the task's mappings and nowhere in the lake, the receipt writer on the S3
 * notification of the heartbeat folder, least privilege (with the receipt writer's recorded requests evaluated against
 * the synthesized policies), the options, and cdk-nag.
 */
jest.mock('hyparquet', () => require('./support/hyparquet').hyparquetCommonJs());

import { buildSync } from 'esbuild';
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RdsCdcToS3, RdsCdcToS3Props } from '../../../pipelines/rds-cdc-to-s3/construct';
import { buildTableMappings } from '../../../pipelines/rds-cdc-to-s3/construct/table-mappings';
import { HEARTBEAT_SELECTION, withHeartbeatTable } from '../../../pipelines/rds-cdc-to-s3/construct/freshness';
import { RECEIPTS_ENV, WRITER_ENV } from '../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-writer/contract';
import { readColumns } from '../../../pipelines/rds-cdc-to-s3/handlers/heartbeat-receipts/parquet';
import { canaryId } from '../../../platform/freshness/contract';
import { fromRoot } from '../../../platform/paths';
import { complianceFindings, testStack } from '../../support/aws';
import { deniedRequests, explain, runtimeRequests, StackPolicies } from '../../support/iam-proof';
import { heartbeatReceiptsRequests, heartbeatWriterRequests } from './support/freshness-requests';
import { HeartbeatParquetWriter } from './support/heartbeat-parquet';

const ORDERS = { schema: 'shop', name: 'orders' };
const PROPS: RdsCdcToS3Props = {
  tables: { tables: [ORDERS] },
  lakeTables: [{ selection: ORDERS, columns: [{ name: 'order_id', type: 'bigint' }, { name: 'status', type: 'text' }], primaryKey: ['order_id'] }],
};

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Resources = Record<string, { Type: string; Properties?: Json; DependsOn?: string[] }>;

function build(props: Partial<RdsCdcToS3Props> = {}, stack: Stack = testStack({ 'aws:cdk:bundling-stacks': [] })) {
  const cdc = new RdsCdcToS3(stack, 'Cdc', { ...PROPS, ...props });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const id = (c: { node: { defaultChild?: unknown } } | CfnElement) => stack.getLogicalId((c instanceof CfnElement ? c : c.node.defaultChild) as CfnElement);
  return { stack, cdc, template, resources, id };
}

/** The statements of the policies attached to `roleId`, flattened to { actions, resources }. */
function statementsOf(resources: Resources, roleId: string) {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .map((s: Json) => ({ actions: [s.Action].flat().sort(), resources: [s.Resource].flat(), condition: s.Condition }));
}

describe('freshness canary (defaults: PostgreSQL, every minute)', () => {
  const { stack, cdc, template, resources, id } = build();
  const canary = cdc.freshness!;
  const writerId = id(canary.heartbeatWriter);
  const receiptId = id(canary.receiptWriter);
  const writerRole = canary.heartbeatWriter.role!;
  const receiptRole = canary.receiptWriter.role!;
  const rawBucketId = id(cdc.rawBucket as s3.Bucket);
  const rawKeyId = stack.resolve(cdc.rawBucketKey.keyArn)['Fn::GetAtt'][0];

  test('exposes the receipts: the raw bucket, under _freshness/heartbeat/, source "heartbeat"', () => {
    expect(canary.source).toBe('heartbeat');
    expect(canary.receiptsBucket).toBe(cdc.rawBucket);
    expect(canary.receiptsPrefix).toBe('_freshness/heartbeat/');
    expect(canary.changeFolder).toBe('cdc/stream_foundry/heartbeat/');
  });

  test('a heartbeat every minute: EventBridge invokes the writer (no Lambda retry: the next beat replaces a missed one)', () => {
    const rule = Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression)!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [writerId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 } }),
    ]);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: writerId }, MaximumRetryAttempts: 0 });
    template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [writerId, 'Arn'] }, Principal: 'events.amazonaws.com' });
  });

  test('the writer runs in the database subnets with its own security group, which the database and the Secrets Manager endpoint admit', () => {
    const fn = resources[writerId].Properties;
    const sgId = stack.resolve(canary.securityGroup.securityGroupId)['Fn::GetAtt'][0];
    expect(fn.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sgId, 'GroupId'] }]);
    const dbSubnets = Object.values(resources).find((r) => r.Type === 'AWS::RDS::DBSubnetGroup')!.Properties.SubnetIds;
    expect(fn.VpcConfig.SubnetIds).toEqual(dbSubnets);
    expect(fn).toMatchObject({ Handler: 'index.onSchedule', Runtime: 'nodejs22.x', Timeout: 30 });
    expect(fn.Environment.Variables).toEqual({
      [WRITER_ENV.secretArn]: stack.resolve(cdc.source.secret.secretArn),
      [WRITER_ENV.databaseName]: 'appdb',
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      NODE_OPTIONS: '--enable-source-maps',
    });
    const ingressFrom = (group: ec2.ISecurityGroup) =>
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.GroupId).includes(stack.resolve(group.securityGroupId)['Fn::GetAtt'][0]))
        .filter((r) => r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0] === sgId)
        .map((r) => [r.Properties.FromPort, r.Properties.ToPort]);
    expect(ingressFrom(cdc.source.securityGroup)).toEqual([[5432, 5432]]);
    expect(ingressFrom(cdc.network.secretsManagerEndpoint!.connections.securityGroups[0])).toEqual([[443, 443]]);
  });

  test('the writer may read the database secret (and decrypt it through Secrets Manager), and nothing else', () => {
    const roleId = stack.resolve(writerRole.roleArn)['Fn::GetAtt'][0];
    const statements = statementsOf(resources, roleId);
    expect(statements.map((s) => s.actions)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['ec2:AssignPrivateIpAddresses', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:UnassignPrivateIpAddresses'],
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
    ]);
    expect(statements[2].resources).toEqual([stack.resolve(cdc.source.secret.secretArn)]);
    const dbKey = Object.values(resources).find((r) => r.Type === 'AWS::KMS::Key' && /source database/.test(r.Properties.Description))!;
    expect(dbKey.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Principal: { AWS: expect.arrayContaining([{ 'Fn::GetAtt': [roleId, 'Arn'] }]) },
        Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
      }),
    );
  });

  test('the task replicates the heartbeat table by its own selection rule (no pattern), after the user\'s', () => {
    const task = Object.values(resources).find((r) => r.Type === 'AWS::DMS::ReplicationTask')!;
    const rules = JSON.parse(task.Properties.TableMappings).rules;
    expect(rules.filter((r: Json) => r['rule-type'] === 'selection').map((r: Json) => [r['object-locator'], r['rule-action']])).toEqual([
      [{ 'schema-name': 'shop', 'table-name': 'orders' }, 'include'],
      [{ 'schema-name': 'stream_foundry', 'table-name': 'heartbeat' }, 'include'],
    ]);
    expect(HEARTBEAT_SELECTION).toEqual({ schema: 'stream_foundry', name: 'heartbeat' });
  });

  test('no Glue table or saved query for the heartbeat table: the lake shows the business tables only', () => {
    const glue = Object.values(resources).filter((r) => r.Type === 'AWS::Glue::Table');
    expect(glue.map((t) => t.Properties.TableInput.Name)).toEqual(['shop_orders']);
    expect(JSON.stringify(glue)).not.toContain('stream_foundry');
    expect(JSON.stringify(Object.values(resources).filter((r) => r.Type === 'AWS::Athena::NamedQuery'))).not.toContain('heartbeat');
  });

  test('the receipt writer is notified of new Parquet files in the heartbeat folder only', () => {
    const notifications = Object.values(resources).find((r) => r.Type === 'Custom::S3BucketNotifications')!;
    expect(notifications.Properties.BucketName).toEqual({ Ref: rawBucketId });
    expect(notifications.Properties.NotificationConfiguration).toEqual({
      LambdaFunctionConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          LambdaFunctionArn: { 'Fn::GetAtt': [receiptId, 'Arn'] },
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.parquet' }, { Name: 'prefix', Value: 'cdc/stream_foundry/heartbeat/' }] } },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [receiptId, 'Arn'] },
      Principal: 's3.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: { 'Fn::GetAtt': [rawBucketId, 'Arn'] },
    });
    const fn = resources[receiptId].Properties;
    expect(fn.VpcConfig).toBeUndefined();
    expect(fn).toMatchObject({ Handler: 'index.onObjectCreated', Runtime: 'nodejs22.x' });
    expect(fn.Environment.Variables).toMatchObject({ [RECEIPTS_ENV.changeFolder]: 'cdc/stream_foundry/heartbeat/', [RECEIPTS_ENV.kmsKeyArn]: { 'Fn::GetAtt': [rawKeyId, 'Arn'] } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: receiptId }, MaximumRetryAttempts: 2 });
  });

  test('the receipt writer reads the heartbeat files and writes its receipts with the bucket key: nothing else, no listing', () => {
    const roleId = stack.resolve(receiptRole.roleArn)['Fn::GetAtt'][0];
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [rawBucketId, 'Arn'] }, `/${prefix}*`]] });
    expect(statementsOf(resources, roleId).map(({ actions, resources: r }) => ({ actions, r }))).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], r: expect.anything() },
      { actions: ['s3:GetObject'], r: [objects('cdc/stream_foundry/heartbeat/')] },
      { actions: ['s3:PutObject'], r: [objects('_freshness/heartbeat/')] },
      { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], r: [{ 'Fn::GetAtt': [rawKeyId, 'Arn'] }] },
    ]);
  });

  test('permission proof: every request the receipt writer makes, with the deployed environment, is allowed (identity, bucket and key policies)', async () => {
    const policies = new StackPolicies(template.toJSON(), stack.stackName);
    const env = policies.value(resources[receiptId].Properties.Environment.Variables) as Record<string, string>;
    const bucket = policies.physicalName(rawBucketId);
    const parquet = await HeartbeatParquetWriter.create();
    const t0 = Date.UTC(2026, 11, 4, 18, 0, 0);
    const bytes = await parquet.file([{ op: 'I', id: canaryId(t0), publishedMs: t0, commit: '2026-12-04 18:00:00.300000' }]);
    parquet.close();
    // With the real reader (hyparquet) over a real file; support/freshness-requests.ts without them serves roles.test.ts.
    const requests = await heartbeatReceiptsRequests(env, bucket, { bytes, read: readColumns });
    expect(requests.map((r) => r.action).sort()).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject']));
    expect(explain(await deniedRequests(policies, policies.roleOf(receiptId), [...runtimeRequests(policies, receiptId), ...requests]))).toEqual([]);
    // ... and without them (what roles.test.ts can run): the same kinds of request, also allowed.
    const light = await heartbeatReceiptsRequests(env, bucket);
    expect(new Set(light.map((r) => r.action))).toEqual(new Set(requests.map((r) => r.action)));
    expect(explain(await deniedRequests(policies, policies.roleOf(receiptId), light))).toEqual([]);
    // The proof bites: a receipt of another source, or a read outside the heartbeat folder, is denied.
    const denied = await deniedRequests(policies, policies.roleOf(receiptId), [
      { action: 's3:PutObject', resource: `arn:aws:s3:::${bucket}/_freshness/orders/x/1.json` },
      { action: 's3:GetObject', resource: `arn:aws:s3:::${bucket}/cdc/shop/orders/LOAD00000001.parquet` },
    ]);
    expect(denied.map((d) => d.request.resource)).toEqual([`arn:aws:s3:::${bucket}/_freshness/orders/x/1.json`, `arn:aws:s3:::${bucket}/cdc/shop/orders/LOAD00000001.parquet`]);
  });

  test('permission proof: the heartbeat writer\'s one AWS request (the secret, as its environment names it) and its network interfaces', async () => {
    const policies = new StackPolicies(template.toJSON(), stack.stackName);
    const env = policies.value(resources[writerId].Properties.Environment.Variables) as Record<string, string>;
    const requests = [...runtimeRequests(policies, writerId), ...heartbeatWriterRequests(env)];
    expect(requests.map((r) => r.action)).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'ec2:CreateNetworkInterface']));
    expect(explain(await deniedRequests(policies, policies.roleOf(writerId), requests))).toEqual([]);
    // The receipt writer may not read the secret.
    expect((await deniedRequests(policies, policies.roleOf(receiptId), heartbeatWriterRequests(env))).map((d) => d.request.action)).toEqual(['secretsmanager:GetSecretValue', 'kms:Decrypt']);
  });

  test('zero unacknowledged cdk-nag findings', () => {
    expect(complianceFindings(stack).filter((f) => !f.startsWith('Annotation::stream-foundry:noAlarmRecipients'))).toEqual([]);
  });
});

describe('freshness canary options', () => {
  const functionsOf = (resources: Resources) => Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => r.Properties.Handler);

  test('intervalMinutes sets the schedule and how long EventBridge may hold a beat', () => {
    const { resources } = build({ freshness: { intervalMinutes: 5 } });
    const rule = Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression)!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.Targets[0].RetryPolicy.MaximumEventAgeInSeconds).toBe(300);
  });

  test('freshness: false builds no canary and leaves the table mappings as the user wrote them', () => {
    const { cdc, resources } = build({ freshness: false });
    expect(cdc.freshness).toBeUndefined();
    expect(functionsOf(resources)).not.toEqual(expect.arrayContaining(['index.onSchedule']));
    expect(functionsOf(resources)).not.toContain('index.onObjectCreated');
    expect(Object.values(resources).filter((r) => r.Type === 'Custom::S3BucketNotifications')).toEqual([]);
    const task = Object.values(resources).find((r) => r.Type === 'AWS::DMS::ReplicationTask')!;
    expect(task.Properties.TableMappings).toBe(JSON.stringify(buildTableMappings(PROPS.tables)));
  });

  test('MySQL: no canary by default; asking for one fails synth naming the setting', () => {
    expect(build({ engine: 'mysql' }).cdc.freshness).toBeUndefined();
    expect(() => build({ engine: 'mysql', freshness: { intervalMinutes: 1 } })).toThrow(
      'freshness: received {"intervalMinutes":1}; expected false with engine "mysql": the heartbeat writer of the freshness canary supports engine "postgres" only',
    );
  });

  test.each([0, 61, 1.5])('intervalMinutes %p fails synth', (minutes) => {
    expect(() => build({ freshness: { intervalMinutes: minutes } })).toThrow(`freshness.intervalMinutes: received ${minutes}; expected a whole number from 1 to 60`);
  });

  test('an empty selection still fails as before (the heartbeat table does not make it valid)', () => {
    expect(withHeartbeatTable({ tables: [] })).toEqual({ tables: [] });
    expect(() => build({ tables: { tables: [] } })).toThrow(/tables: received \[\]; expected at least one table selection/);
  });

  test('another change-log folder: the notification and the read grant follow it', () => {
    const { resources, cdc } = build({ target: { bucketFolder: 'raw/cdc' } });
    expect(cdc.freshness!.changeFolder).toBe('raw/cdc/stream_foundry/heartbeat/');
    const notifications = Object.values(resources).find((r) => r.Type === 'Custom::S3BucketNotifications')!;
    expect(JSON.stringify(notifications.Properties.NotificationConfiguration)).toContain('"Value":"raw/cdc/stream_foundry/heartbeat/"');
    expect(JSON.stringify(resources)).toContain('/raw/cdc/stream_foundry/heartbeat/*');
  });

  test('an existing database, VPC and raw bucket: the writer reaches the database through its security group; cdk-nag clean', () => {
    const stack = testStack({ 'aws:cdk:bundling-stacks': [] });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture: the user-owned VPC' });
    const securityGroup = new ec2.SecurityGroup(stack, 'DbSg', { vpc });
    const secret = new secretsmanager.Secret(stack, 'DbSecret');
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test fixture: the user-owned secret' });
    const key = new kms.Key(stack, 'RawKey', { enableKeyRotation: true });
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Raw', { bucketName: 'existing-raw', encryptionKey: key });
    const { resources, cdc, id } = build(
      {
        existingVpc: vpc,
        existingSource: { engine: 'postgres', secret, securityGroup, port: 5432, databaseName: 'sales' },
        existingRawBucket: bucket,
      },
      stack,
    );
    const canary = cdc.freshness!;
    expect(resources[id(canary.heartbeatWriter)].Properties.Environment.Variables[WRITER_ENV.databaseName]).toBe('sales');
    const sgId = stack.resolve(canary.securityGroup.securityGroupId)['Fn::GetAtt'][0];
    const ingress = Object.values(resources).filter(
      (r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.SourceSecurityGroupId?.['Fn::GetAtt']?.[0] === sgId,
    );
    expect(ingress.map((r) => [r.Properties.GroupId, r.Properties.FromPort])).toEqual([[{ 'Fn::GetAtt': [id(securityGroup), 'GroupId'] }, 5432]]);
    const notifications = Object.values(resources).find((r) => r.Type === 'Custom::S3BucketNotifications')!;
    // An imported bucket's other notifications are kept (CDK merges rather than replaces).
    expect(notifications.Properties).toMatchObject({ BucketName: 'existing-raw', Managed: false });
    expect(complianceFindings(stack).filter((f) => !f.startsWith('Annotation::stream-foundry:noAlarmRecipients'))).toEqual([]);
  });
});

describe('the deployed bundles', () => {
  // What NodejsFunction runs for BundledFunction (esbuild: bundle, Node 22, CommonJS, minified, SDK inside), checked here
  // because the construct tests skip bundling: hyparquet (an ES module) and pg (its optional native binding external).
  test.each([
    ['heartbeat-writer', ['pg-native']],
    ['heartbeat-receipts', []],
  ])('%s bundles', (handler, external) => {
    const result = buildSync({
      entryPoints: [fromRoot('pipelines', 'rds-cdc-to-s3', 'handlers', handler, 'index.ts')],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      external,
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code.length).toBeGreaterThan(10_000);
    if (handler === 'heartbeat-receipts') expect(code).toContain('parquet');
  });
});
