import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildAwsApp } from '../../../platform/aws-app';
import { RdsCdcToS3Stack } from '../../../pipelines/rds-cdc-to-s3/stack';
import { parseConfig } from '../../../platform/config';
import { complianceFindings, testApp } from '../../support/aws';

/**
 * The stack as `cdk synth` builds it from cdk.json, with `overrides` as `-c key=value` would give (bundling skipped;
 * only this stack of the app: the stacks reference nothing of each other, and the others have tests of their own).
 */
function synthesized(overrides: Record<string, unknown> = {}) {
  const app = testApp({ 'aws:cdk:bundling-stacks': [], ...overrides });
  buildAwsApp(app, parseConfig(app.node.getAllContext()), ['rdsCdcToS3']);
  const stack = app.node.tryFindChild('RdsCdcToS3') as RdsCdcToS3Stack | undefined;
  return { app, stack, template: stack && Template.fromStack(stack) };
}

describe('RdsCdcToS3Stack', () => {
  const { app, stack, template } = synthesized();

  test('is built from the rdsCdcToS3 section of cdk.json, named after project and environment', () => {
    expect(stack?.stackName).toBe('stream-foundry-dev-rds-cdc-to-s3');
    template!.resourceCountIs('AWS::DMS::ReplicationTask', 1);
  });

  test('outputs what the walk-through needs: VPC, DMS security group, secret, task, bucket, Glue database, workgroup', () => {
    expect(Object.keys(template!.toJSON().Outputs).sort()).toEqual(
      ['AthenaWorkGroup', 'DatabaseSecretArn', 'DmsSecurityGroupId', 'FreshnessheartbeatReceipts', 'GlueDatabaseName', 'RawBucketName', 'ReplicationTaskArn', 'VpcId'],
    );
    // Where npm run verify waits for the heartbeat canary's receipts: the raw bucket, under _freshness/heartbeat/.
    expect(template!.toJSON().Outputs.FreshnessheartbeatReceipts.Value).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^CdcRawBucket/) }, '/_freshness/heartbeat/']] });
    expect(template!.toJSON().Outputs.GlueDatabaseName.Value).toBe('stream_foundry_dev_rds_cdc_to_s3_cdc');
    expect(template!.toJSON().Outputs.AthenaWorkGroup.Value).toBe('stream-foundry-dev-rds-cdc-to-s3-Cdc');
  });

  test('snapshot', () => {
    expect(template!.toJSON()).toMatchSnapshot();
  });

  test('cdk.json example: shop.orders replicated from PostgreSQL on small instances, its Glue table declared', () => {
    template!.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', DeletionProtection: false });
    template!.hasResourceProperties('AWS::DMS::ReplicationInstance', { ReplicationInstanceClass: 'dms.t3.small', MultiAZ: false });
    const task = Object.values(template!.findResources('AWS::DMS::ReplicationTask'))[0];
    expect(JSON.parse(task.Properties.TableMappings).rules[0]['object-locator']).toEqual({ 'schema-name': 'shop', 'table-name': 'orders' });
    template!.hasResourceProperties('AWS::Glue::Table', { TableInput: Match.objectLike({ Name: 'shop_orders' }) });
  });

  test("the CDC alarms watch the deployed task: ReplicationTaskIdentifier is the task's ResourceIdentifier (the end of its ARN), not its name", () => {
    const task = Object.values(template!.findResources('AWS::DMS::ReplicationTask'))[0].Properties;
    // The stack's name is long: the resource identifier (at most 31 characters) differs from the task's name.
    expect(task.ResourceIdentifier.length).toBeLessThanOrEqual(31);
    expect(task.ResourceIdentifier).not.toBe(task.ReplicationTaskIdentifier);
    for (const metric of ['CDCLatencySource', 'CDCLatencyTarget', 'CDCThroughputRowsTarget']) {
      template!.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Dimensions: Match.arrayWith([{ Name: 'ReplicationTaskIdentifier', Value: task.ResourceIdentifier }]),
      });
    }
  });

  test('data is retained by default; the database is snapshotted on delete', () => {
    for (const resource of Object.values(template!.findResources('AWS::S3::Bucket'))) expect(resource.DeletionPolicy).toBe('Retain');
    for (const resource of Object.values(template!.findResources('AWS::KMS::Key'))) expect(resource.DeletionPolicy).toBe('Retain');
    for (const resource of Object.values(template!.findResources('AWS::RDS::DBInstance'))) expect(resource.DeletionPolicy).toBe('Snapshot');
  });

  test('every taggable resource carries the cost tags from configuration', () => {
    const types = ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::RDS::DBInstance', 'AWS::DMS::ReplicationInstance', 'AWS::DMS::Endpoint', 'AWS::DMS::ReplicationTask', 'AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::EC2::VPC'];
    const untagged = Object.entries(template!.toJSON().Resources as Record<string, { Type: string; Properties?: { Tags?: unknown } }>)
      // CDK's singleton that empties the VPC's default security group is a raw resource CDK cannot tag.
      .filter(([id, r]) => types.includes(r.Type) && !id.startsWith('CustomVpcRestrictDefaultSG'))
      .filter(([, r]) => !['"Project","Value":"stream-foundry"', '"Environment","Value":"dev"', '"CostCenter","Value":"cc-0000"'].every((t) => JSON.stringify(r.Properties?.Tags ?? []).includes(t)))
      .map(([id]) => id);
    expect(untagged).toEqual([]);
  });

  test('has zero unacknowledged cdk-nag findings', () => {
    expect(complianceFindings(app).filter((f) => !f.startsWith('Annotation::'))).toEqual([]);
  });

  test('configuration reaches the stack', () => {
    const { template: custom } = synthesized({
      'rdsCdcToS3.engine': 'mysql',
      'rdsCdcToS3.instanceClass': 'm7g.large',
      'rdsCdcToS3.deletionProtection': 'true',
      'rdsCdcToS3.replicationInstanceClass': 'dms.c5.large',
      'rdsCdcToS3.replicationMultiAz': 'true',
      'rdsCdcToS3.cdcLatencySeconds': '120',
      'rdsCdcToS3.noDataMinutes': '30',
      'rdsCdcToS3.tables': [{ schema: 'sales', name: 'invoices', excludeColumns: ['notes'] }],
    });
    custom!.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'mysql', DBInstanceClass: 'db.m7g.large', DeletionProtection: true });
    custom!.hasResourceProperties('AWS::DMS::ReplicationInstance', { ReplicationInstanceClass: 'dms.c5.large', MultiAZ: true });
    custom!.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CDCLatencyTarget', Threshold: 120 });
    custom!.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('cdc-no-data-silent'), Period: 1800 });
    const rules = JSON.parse(Object.values(custom!.findResources('AWS::DMS::ReplicationTask'))[0].Properties.TableMappings).rules;
    expect(rules.map((r: { 'object-locator': object }) => r['object-locator'])).toContainEqual({ 'schema-name': 'sales', 'table-name': 'invoices', 'column-name': 'notes' });
    custom!.resourceCountIs('AWS::Glue::Table', 0); // no columns declared: replicated, no Glue table
    // MySQL: no heartbeat canary (its writer speaks PostgreSQL): no heartbeat table in the mappings, no writer.
    expect(rules.map((r: { 'object-locator': { 'schema-name': string } }) => r['object-locator']['schema-name'])).not.toContain('stream_foundry');
    expect(Object.keys(custom!.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('CdcHeartbeat'))).toEqual([]);
  });

  test('without the rdsCdcToS3 section the app builds no CDC stack; invalid settings fail with the setting named', () => {
    expect(synthesized({ rdsCdcToS3: undefined }).stack).toBeUndefined();
    expect(() => synthesized({ 'rdsCdcToS3.replicationInstanceClass': 't3.small' })).toThrow(
      /rdsCdcToS3.replicationInstanceClass: received "t3.small"; expected a DMS instance class/,
    );
  });
});
