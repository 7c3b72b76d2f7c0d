import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RdsCdcToS3, RdsCdcToS3Props } from '../../../pipelines/rds-cdc-to-s3/construct';
import { HandlerProvider } from '../../../platform/functions';
import { renderTableMappings } from '../../../pipelines/rds-cdc-to-s3/construct/table-mappings';
import { withHeartbeatTable } from '../../../pipelines/rds-cdc-to-s3/construct/freshness';
import { MIGRATION_TYPE, renderTaskSettings } from '../../../pipelines/rds-cdc-to-s3/construct/task-settings';
import { CLOUDFORMATION_TIMEOUT_MINUTES, HANDLER_DEADLINE_MINUTES, PROVIDER_TOTAL_TIMEOUT_MINUTES } from '../../../pipelines/rds-cdc-to-s3/handlers/dms-task-control/contract';

import { complianceFindings, testStack } from '../../support/aws';
import { PROJECT_ROOT } from '../../../platform/paths';

const ORDERS = { schema: 'shop', name: 'orders' };
const PROPS: RdsCdcToS3Props = {
  tables: { tables: [ORDERS] },
  lakeTables: [
    {
      selection: ORDERS,
      columns: [
        { name: 'order_id', type: 'bigint' },
        { name: 'status', type: 'text' },
        { name: 'total', type: 'numeric(12,2)' },
      ],
      primaryKey: ['order_id'],
    },
  ],
};

function build(props: Partial<RdsCdcToS3Props> = {}, stack: Stack = testStack({ 'aws:cdk:bundling-stacks': [] })) {
  const cdc = new RdsCdcToS3(stack, 'Cdc', { ...PROPS, ...props });
  return { stack, cdc, template: Template.fromStack(stack) };
}
type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: string[] }>; // eslint-disable-line @typescript-eslint/no-explicit-any
const resourcesOf = (t: Template) => t.toJSON().Resources as Resources;
const idOf = (t: Template, type: string, match: (r: Resources[string]) => boolean = () => true) => {
  const found = Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type && match(r));
  expect(found).toHaveLength(1);
  return found[0][0];
};

describe('RdsCdcToS3 (defaults: new VPC, PostgreSQL)', () => {
  const { stack, cdc, template } = build();
  const resources = resourcesOf(template);
  const taskId = idOf(template, 'AWS::DMS::ReplicationTask');
  const sourceId = idOf(template, 'AWS::DMS::Endpoint', (r) => r.Properties.EndpointType === 'source');
  const targetId = idOf(template, 'AWS::DMS::Endpoint', (r) => r.Properties.EndpointType === 'target');
  const stopperId = idOf(template, 'Custom::DmsTaskStopper');
  const starterId = idOf(template, 'Custom::DmsTaskStarter');
  const rolesId = idOf(template, 'Custom::DmsAccountRoles');

  test('the task is full load + CDC with the generated table mappings and settings', () => {
    expect(resources[taskId].Properties).toMatchObject({
      MigrationType: MIGRATION_TYPE,
      // The user's selections, then the freshness canary's heartbeat table (freshness.test.ts).
      TableMappings: renderTableMappings(withHeartbeatTable(PROPS.tables)),
      ReplicationTaskSettings: renderTaskSettings(),
      ReplicationInstanceArn: { Ref: idOf(template, 'AWS::DMS::ReplicationInstance') },
      SourceEndpointArn: { Ref: sourceId },
      TargetEndpointArn: { Ref: targetId },
    });
  });

  test('the source endpoint reads the secret through a role DMS assumes: test_decoding, heartbeats, TLS', () => {
    const secretId = idOf(template, 'AWS::SecretsManager::SecretTargetAttachment');
    const settings = resources[sourceId].Properties.PostgreSqlSettings;
    expect(settings).toMatchObject({ PluginName: 'test-decoding', HeartbeatEnable: true, HeartbeatFrequency: 5, SecretsManagerSecretId: { Ref: secretId } });
    expect(resources[sourceId].Properties).toMatchObject({ EngineName: 'postgres', DatabaseName: 'appdb', SslMode: 'require' });
    const roleId = settings.SecretsManagerAccessRoleArn['Fn::GetAtt'][0];
    expect(resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: { 'Fn::Join': ['', ['dms.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } }, Action: 'sts:AssumeRole' }),
    ]);
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))!;
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: secretId } }));
    // ... and decrypt it with the database key, only through Secrets Manager (the key policy names the role).
    const keyPolicy = Object.values(resources).find((r) => r.Type === 'AWS::KMS::Key' && /source database/.test(r.Properties.Description))!.Properties.KeyPolicy;
    expect(keyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        // With the freshness canary's heartbeat writer, which reads the same secret (freshness.test.ts).
        Principal: { AWS: expect.arrayContaining([{ 'Fn::GetAtt': [roleId, 'Arn'] }]) },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      }),
    );
  });

  test('no password, user name or host in the template: the database password is a dynamic reference to the generated secret', () => {
    for (const endpoint of [sourceId, targetId]) {
      for (const key of ['Password', 'Username', 'ServerName', 'Port']) expect(resources[endpoint].Properties[key]).toBeUndefined();
    }
    const db = Object.values(resources).find((r) => r.Type === 'AWS::RDS::DBInstance')!;
    expect(JSON.stringify(db.Properties.MasterUserPassword)).toMatch(/\{\{resolve:secretsmanager:.*:SecretString:password::\}\}/);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"(Master)?(User)?Password"\s*:\s*"[^{]/);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"cdc_admin"}' }),
      KmsKeyId: Match.anyValue(),
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
  });

  test('the S3 target writes Parquet with operation and commit-timestamp columns, date folders, SSE-KMS, through its own role', () => {
    const s3 = resources[targetId].Properties.S3Settings;
    expect(s3).toMatchObject({
      DataFormat: 'parquet',
      IncludeOpForFullLoad: true,
      TimestampColumnName: 'dms_timestamp',
      DatePartitionEnabled: true,
      EncryptionMode: 'sse-kms',
      BucketFolder: 'cdc',
    });
    expect(s3.BucketName).toEqual({ Ref: stack.resolve(cdc.rawBucket.bucketName).Ref });
    const roleId = s3.ServiceAccessRoleArn['Fn::GetAtt'][0];
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))!;
    const actions = policy.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 's3:DeleteObject', 's3:ListBucket', 's3:PutObject', 's3:PutObjectTagging']);
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('/cdc/*');
    expect(JSON.stringify(policy.Properties.PolicyDocument)).not.toMatch(/"Action":"s3:\*"|"Resource":"\*"/);
  });

  test('network isolation: no internet route, the database is private and admits only DMS (and its secret rotation and heartbeat writer)', () => {
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::RDS::DBInstance', { PubliclyAccessible: false, StorageEncrypted: true });
    template.hasResourceProperties('AWS::DMS::ReplicationInstance', { PubliclyAccessible: false });
    const dbSg = stack.resolve(cdc.source.securityGroup.securityGroupId).Ref ?? stack.resolve(cdc.source.securityGroup.securityGroupId)['Fn::GetAtt'][0];
    const dmsSg = stack.resolve(cdc.network.dmsSecurityGroup.securityGroupId)['Fn::GetAtt'][0];
    const rotationSg = idOf(template, 'AWS::EC2::SecurityGroup', (r) => /Secret rotation function/.test(r.Properties.GroupDescription));
    const ingress = Object.values(resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.GroupId).includes(dbSg));
    const heartbeatSg = stack.resolve(cdc.freshness!.securityGroup.securityGroupId)['Fn::GetAtt'][0];
    expect(ingress.map((r) => r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual([dmsSg, rotationSg, heartbeatSg].sort());
    const dbPort = [5432, { 'Fn::GetAtt': [idOf(template, 'AWS::RDS::DBInstance'), 'Endpoint.Port'] }];
    for (const rule of ingress) {
      expect(dbPort).toContainEqual(rule.Properties.FromPort);
      expect(rule.Properties.ToPort).toEqual(rule.Properties.FromPort);
    }
    const dbGroup = Object.entries(resources).find(([id]) => id === dbSg)![1];
    expect(dbGroup.Properties.SecurityGroupIngress).toBeUndefined();
    // No security group anywhere admits a CIDR.
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::EC2::SecurityGroup')) {
      for (const rule of r.Properties.SecurityGroupIngress ?? []) expect(rule.CidrIp).toBeUndefined();
    }
    // What DMS must reach in private subnets: S3 (gateway) and Secrets Manager (interface, private DNS).
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
  });

  test('the secret rotation function reaches the Secrets Manager endpoint (443) and the database port (aws/aws-cdk#23086)', () => {
    const groupOf = (sg: ec2.ISecurityGroup) => stack.resolve(sg.securityGroupId)['Fn::GetAtt'][0];
    const rotationSg = groupOf(cdc.database!.rotationSecurityGroup);
    // The function the rotation application deploys runs in this security group.
    const rotationApp = Object.values(resources).find((r) => r.Type === 'AWS::Serverless::Application')!;
    expect(rotationApp.Properties.Parameters.vpcSecurityGroupIds).toEqual({ 'Fn::GetAtt': [rotationSg, 'GroupId'] });
    const endpointSg = groupOf(cdc.network.secretsManagerEndpoint!.connections.securityGroups[0]);
    const rulesFromRotation = Object.values(resources)
      .filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties.SourceSecurityGroupId).includes(rotationSg))
      .map((r) => ({ to: r.Properties.GroupId['Fn::GetAtt'][0], from: r.Properties.FromPort, port: r.Properties.ToPort }));
    expect(rulesFromRotation).toContainEqual({ to: endpointSg, from: 443, port: 443 });
    expect(rulesFromRotation).toContainEqual({
      to: groupOf(cdc.source.securityGroup),
      from: { 'Fn::GetAtt': [idOf(template, 'AWS::RDS::DBInstance'), 'Endpoint.Port'] },
      port: { 'Fn::GetAtt': [idOf(template, 'AWS::RDS::DBInstance'), 'Endpoint.Port'] },
    });
    // Its egress is open (the endpoint and the database are in the VPC; the subnets have no route out).
    expect(resources[rotationSg].Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })]);
  });

  test('the parameter group turns logical replication on', () => {
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres16',
      Parameters: { 'rds.logical_replication': '1', wal_sender_timeout: '60000', idle_in_transaction_session_timeout: '0' },
    });
  });

  test('account roles: ensured by a custom resource (never stack-owned); subnet group and instance wait for it', () => {
    expect(resources[rolesId].Properties.Roles).toEqual([
      { RoleName: 'dms-vpc-role', PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonDMSVPCManagementRole']] } },
      { RoleName: 'dms-cloudwatch-logs-role', PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole']] } },
    ]);
    for (const type of ['AWS::DMS::ReplicationSubnetGroup', 'AWS::DMS::ReplicationInstance']) {
      expect(resources[idOf(template, type)].DependsOn).toContain(rolesId);
    }
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::IAM::Role')) {
      expect(r.Properties.RoleName).toBeUndefined();
    }
    // The handler may only look up, create and attach the two managed policies to those two roles: no iam:Delete*.
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/iam:Delete|iam:Detach/);
    const handlerPolicy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes('iam:CreateRole'))!;
    const statements = handlerPolicy.Properties.PolicyDocument.Statement.filter((s: { Action: string | string[] }) => JSON.stringify(s.Action).includes('iam:'));
    expect(statements[0].Resource.map((arn: unknown) => JSON.stringify(arn).match(/role\/([\w-]+)/)![1]).sort()).toEqual(['dms-cloudwatch-logs-role', 'dms-vpc-role']);
    expect(statements[1]).toMatchObject({ Action: 'iam:AttachRolePolicy', Condition: { ArnEquals: { 'iam:PolicyARN': expect.any(Array) } } });
  });

  test('start and update ordering: stopper before the task and endpoints, starter after the task, both keyed on the config hash', () => {
    for (const id of [taskId, sourceId, targetId]) expect(resources[id].DependsOn).toContain(stopperId);
    expect(resources[stopperId].Properties).toMatchObject({ Role: 'stopper', ReplicationInstanceArn: { Ref: idOf(template, 'AWS::DMS::ReplicationInstance') } });
    expect(resources[starterId].Properties).toMatchObject({ Role: 'starter', ReplicationTaskArn: { Ref: taskId } });
    expect(resources[starterId].Properties.ConfigHash).toBe(resources[stopperId].Properties.ConfigHash);
    expect(resources[starterId].Properties.ConfigHash).toMatch(/^[0-9a-f]{64}$/);
    // Both are served by the one task-control provider.
    expect(resources[starterId].Properties.ServiceToken).toEqual(resources[stopperId].Properties.ServiceToken);
  });

  test('the starter waits for everything the running task needs: database ingress, endpoints and their roles, VPC endpoints and their rules, the database and its secret', () => {
    const dependsOn = new Set(resources[starterId].DependsOn);
    const needed = Object.entries(resources).filter(([, r]) =>
      [
        'AWS::EC2::SecurityGroupIngress',
        'AWS::EC2::VPCEndpoint',
        'AWS::EC2::Route',
        'AWS::EC2::SubnetRouteTableAssociation',
        'AWS::RDS::DBInstance',
        'AWS::SecretsManager::SecretTargetAttachment',
        'AWS::SecretsManager::RotationSchedule',
        'AWS::DMS::Endpoint',
      ].includes(r.Type),
    );
    expect(resources[starterId].Properties.ReplicationTaskArn).toEqual({ Ref: taskId }); // the task: by reference
    expect(needed.length).toBeGreaterThan(10);
    expect(needed.filter(([id]) => !dependsOn.has(id)).map(([id, r]) => `${r.Type} ${id}`)).toEqual([]);
    // The role policies DMS uses to read the secret and write to S3.
    for (const role of [cdc.replication.secretAccessRole, cdc.replication.targetRole]) {
      expect(dependsOn).toContain(stack.resolve((role.node.findChild('DefaultPolicy').node.defaultChild as CfnResource).logicalId));
    }
    // Specifically the rule that lets DMS into the database.
    const dmsSg = stack.resolve(cdc.network.dmsSecurityGroup.securityGroupId)['Fn::GetAtt'][0];
    const dbSg = stack.resolve(cdc.source.securityGroup.securityGroupId)['Fn::GetAtt'][0];
    const dmsToDb = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.GroupId['Fn::GetAtt'][0] === dbSg && r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0] === dmsSg,
    )!;
    expect(dependsOn).toContain(dmsToDb[0]);
  });

  test('a stuck or failed DMS step is reported before CloudFormation gives up on the custom resource (one hour)', () => {
    const cfnTimeout = CLOUDFORMATION_TIMEOUT_MINUTES * 60;
    for (const id of [starterId, stopperId]) expect(Number(resources[id].Properties.ServiceTimeout)).toBe(cfnTimeout);
    // The provider's waiter: isComplete every IntervalSeconds, MaxAttempts times (BackoffRate 1): its budget is the
    // provider's total timeout, which must end before CloudFormation's.
    const taskControl = cdc.replication.node.findChild('TaskControl') as HandlerProvider;
    expect(resources[starterId].Properties.ServiceToken).toEqual(stack.resolve(taskControl.serviceToken));
    const waiterId = stack.resolve((taskControl.provider.node.findChild('waiter-state-machine').node.defaultChild as CfnResource).logicalId);
    const waiter = resources[waiterId];
    const definition = JSON.stringify(waiter.Properties.DefinitionString);
    const interval = Number(/\\"IntervalSeconds\\":(\d+)/.exec(definition)![1]);
    const attempts = Number(/\\"MaxAttempts\\":(\d+)/.exec(definition)![1]);
    expect(/\\"BackoffRate\\":1[,}]/.test(definition)).toBe(true);
    expect(interval * attempts).toBe(PROVIDER_TOTAL_TIMEOUT_MINUTES * 60);
    expect(interval * attempts).toBeLessThan(cfnTimeout);
    // ... and the handler's own deadline (which reports DMS's reason) comes before the provider's bare "timed out".
    expect(HANDLER_DEADLINE_MINUTES * 60 + interval).toBeLessThan(interval * attempts);
  });

  test('the config hash changes with the table mappings, task settings and endpoint settings, and only with them', () => {
    const hash = (props: Partial<RdsCdcToS3Props>) => build(props).cdc.replication.configHash;
    const base = cdc.replication.configHash;
    expect(hash({})).toBe(base);
    expect(hash({ tables: { tables: [ORDERS, { schema: 'shop', name: 'customers' }] } })).not.toBe(base);
    expect(hash({ taskSettings: { maxFullLoadSubTasks: 4 } })).not.toBe(base);
    expect(hash({ source: { heartbeatFrequencyMinutes: 10 } })).not.toBe(base);
    expect(hash({ target: { cdcMaxBatchIntervalSeconds: 30 } })).not.toBe(base);
    expect(hash({ alarms: { cdcLatencySeconds: 60 } })).toBe(base);
  });

  test('the task-control handler may start and stop tasks, nothing else but describing them', () => {
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes('dms:StopReplicationTask'))!;
    const actions = policy.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    // Besides writing its own log group.
    expect(actions.sort()).toEqual(['dms:DescribeReplicationTasks', 'dms:StartReplicationTask', 'dms:StopReplicationTask', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  test('handlers are Node.js 22 arm64 Lambdas with the SDK bundled, driven by the Provider framework with polling', () => {
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.onEvent' }, 2);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.isComplete' }, 2);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
  });

  test('lake: a Glue table per declared table over its change-log folder, an Athena workgroup and the current-state query', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'shop_orders',
        StorageDescriptor: Match.objectLike({
          Location: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('RawBucket') }, '/cdc/shop/orders/']] },
          Columns: [
            Match.objectLike({ Name: 'op', Type: 'string' }),
            Match.objectLike({ Name: 'dms_timestamp', Type: 'string' }),
            Match.objectLike({ Name: 'order_id', Type: 'bigint' }),
            Match.objectLike({ Name: 'status', Type: 'string' }),
            Match.objectLike({ Name: 'total', Type: 'decimal(12,2)' }),
            Match.objectLike({ Name: 'dms_change_seq', Type: 'string' }),
          ],
        }),
      }),
    });
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: Match.objectLike({ EncryptionOption: 'SSE_KMS' }) }),
      }),
    });
    const query = Object.values(resources).find((r) => r.Type === 'AWS::Athena::NamedQuery')!;
    expect(query.Properties.QueryString).toContain(`FROM "${cdc.lake.databaseName}"."shop_orders"`);
    expect(query.Properties.QueryString).toContain('PARTITION BY "order_id"');
    expect(query.Properties.QueryString).toContain(`"op" <> 'D'`);
  });

  test('the raw bucket is KMS-encrypted, private, retained, with noncurrent versions expiring (the DMS guide on versioned targets)', () => {
    const bucket = Object.values(resources).find((r) => r.Type === 'AWS::S3::Bucket' && JSON.stringify(r.Properties).includes('RawBucket'))!;
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
    expect(bucket.Properties.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 7 });
    expect((template.toJSON().Resources as Record<string, { DeletionPolicy?: string }>)[stack.resolve(cdc.rawBucket.bucketName).Ref].DeletionPolicy).toBe('Retain');
  });

  test('alarms: latency, task failed/stopped, no changes, full-load errors, instance CPU/memory/storage, each with its runbook section', () => {
    const runbook = fs.readFileSync(path.join(PROJECT_ROOT, 'docs/runbooks/rds-cdc-to-s3.md'), 'utf8');
    const sections = (runbook.match(/^#+ .+$/gm) ?? []).map((h) => h.replace(/^#+ /, '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-'));
    const links = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm')
      .map((r) => /Runbook: https:\/\/\S+\/runbooks\/rds-cdc-to-s3\.md#([a-z0-9-]+)/.exec(r.Properties.AlarmDescription)![1]);
    const expected = ['lag-source', 'lag-target', 'task-failed', 'task-stopped', 'no-data', 'full-load-errors', 'instance-cpu', 'instance-memory', 'instance-storage'];
    expect([...new Set(links)].sort()).toEqual(expected.sort());
    for (const section of expected) expect(sections).toContain(section);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CDCLatencySource',
      Namespace: 'AWS/DMS',
      Threshold: 300,
      Dimensions: Match.arrayWith([{ Name: 'ReplicationTaskIdentifier', Value: resources[taskId].Properties.ResourceIdentifier }]),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.dms'], resources: [{ Ref: taskId }], detail: { eventType: ['REPLICATION_TASK_FAILED'] } },
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '"[TARGET_LOAD" "]E:"' });
    // Fixed name: deleted with the stack even when data is retained, so the stack can be deployed again.
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ LogGroupName: `dms-tasks-${cdc.replication.instanceIdentifier}` }) });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: Match.stringLikeRegexp('cdc-no-data$') });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test("DMS metric dimensions are what CloudWatch uses: the task's ResourceIdentifier (end of its ARN) and the instance's identifier", () => {
    const resourceIdentifier = resources[taskId].Properties.ResourceIdentifier;
    expect(resourceIdentifier).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,29}[a-z0-9]$/); // DMS: at most 31, letters, digits, single hyphens
    const instanceIdentifier = resources[idOf(template, 'AWS::DMS::ReplicationInstance')].Properties.ReplicationInstanceIdentifier;
    const dmsAlarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/DMS');
    const taskAlarms = dmsAlarms.filter((r) => r.Properties.Dimensions.some((d: { Name: string }) => d.Name === 'ReplicationTaskIdentifier'));
    expect([...new Set(taskAlarms.map((r) => r.Properties.MetricName))].sort()).toEqual(['CDCLatencySource', 'CDCLatencyTarget', 'CDCThroughputRowsTarget']);
    for (const alarm of dmsAlarms) {
      for (const d of alarm.Properties.Dimensions) {
        expect(d).toEqual({ Name: d.Name, Value: d.Name === 'ReplicationTaskIdentifier' ? resourceIdentifier : instanceIdentifier });
      }
    }
  });

  test('zero unacknowledged cdk-nag findings', () => {
    expect(complianceFindings(stack).filter((f) => !f.startsWith('Annotation::stream-foundry:noAlarmRecipients'))).toEqual([]);
  });
});

describe('RdsCdcToS3 options', () => {
  test('MySQL: row-based binary logs, backups on, the MySQL endpoint settings', () => {
    const { template } = build({ engine: 'mysql', databaseProps: { backupRetentionDays: 1 } });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: { binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_checksum: 'NONE' } });
    template.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'mysql', BackupRetentionPeriod: 1 });
    template.hasResourceProperties('AWS::DMS::Endpoint', { EngineName: 'mysql', MySqlSettings: Match.objectLike({ SecretsManagerSecretId: Match.anyValue() }) });
  });

  test('an existing database and VPC: no database created, its security group admits the DMS security group, no endpoints added', () => {
    const stack = testStack({ 'aws:cdk:bundling-stacks': [] });
    const vpc = new ec2.Vpc(stack, 'Existing', { natGateways: 1, maxAzs: 2 });
    const securityGroup = new ec2.SecurityGroup(stack, 'DbSg', { vpc, allowAllOutbound: false });
    const secret = new secretsmanager.Secret(stack, 'DbSecret');
    // Test fixtures standing for what the user already has (their findings are theirs, not the construct's).
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture: the user-owned VPC' });
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test fixture: the user-owned secret' });
    const { template, cdc } = build({ existingVpc: vpc, existingSource: { engine: 'postgres', secret, securityGroup, port: 5432, databaseName: 'sales' } }, stack);
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(cdc.database).toBeUndefined();
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [stack.getLogicalId(securityGroup.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DmsSecurityGroup'), 'GroupId'] },
      FromPort: 5432,
    });
    template.hasResourceProperties('AWS::DMS::Endpoint', { DatabaseName: 'sales', PostgreSqlSettings: Match.objectLike({ SecretsManagerSecretId: { Ref: Match.stringLikeRegexp('DbSecret') } }) });
  });

  test('invalid combinations and options fail at synth with a clear message', () => {
    const secret = (s: Stack) => new secretsmanager.Secret(s, 'S');
    expect(() => {
      const s = testStack();
      build({ existingSource: { engine: 'postgres', secret: secret(s), securityGroup: ec2.SecurityGroup.fromSecurityGroupId(s, 'G', 'sg-1'), port: 5432, databaseName: 'x' } }, s);
    }).toThrow('"existingSource" needs "existingVpc"');
    expect(() => build({ databaseProps: { parameters: { 'rds.logical_replication': '0' } } })).toThrow(
      'sourceParameters["rds.logical_replication"]: received "0"; expected "1"',
    );
    expect(() => build({ tables: { tables: [] } })).toThrow(/tables/);
    expect(() => build({ lakeTables: [{ selection: ORDERS, columns: [{ name: 'id', type: 'bigint' }], primaryKey: ['order_id'] }] })).toThrow(/primaryKey/);
  });

  test('allowDestroy deletes data resources on destroy; deletion protection follows configuration', () => {
    const { template } = build({ allowDestroy: true, databaseProps: { deletionProtection: true } });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtection: true }) });
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) expect(bucket.DeletionPolicy).toBe('Delete');
  });
});
