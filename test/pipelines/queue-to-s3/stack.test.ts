import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { QueueToS3Stack } from '../../../pipelines/queue-to-s3/stack';
import { parseConfig } from '../../../platform/config';
import { complianceFindings, testApp } from '../../support/aws';

/** The stack as the app builds it from cdk.json, with the orders source feeding it and `overrides` as `-c` gives them. */
function synthesizedStack(overrides: Record<string, unknown> = {}) {
  const app = testApp({ 'sources.orders.pipelines': 'landingZone,queueToS3', alarmEmails: ['oncall@example.com'], ...overrides });
  const config = parseConfig(app.node.getAllContext());
  const stack = new QueueToS3Stack(app, 'QueueToS3', { stackName: `${config.project}-${config.environment}-queue-to-s3`, config });
  return { app, stack, template: Template.fromStack(stack) };
}

describe('QueueToS3Stack', () => {
  // One bundled synthesis (esbuild builds the consumer from pipelines/queue-to-s3/consumer) shared by the assertions below.
  const { app, stack, template } = synthesizedStack();

  test('snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('has no unacknowledged cdk-nag finding', () => {
    expect(complianceFindings(app)).toEqual([]);
  });

  test('the deployed bundle is one file that runs on plain Node.js with no node_modules (and names a missing setting)', () => {
    const asset = stack.pipeline.bundle;
    const file = path.join(app.outdir, asset.assetPath);
    expect(fs.statSync(file).isFile()).toBe(true);
    expect(asset.s3ObjectKey).toMatch(/\.js$/);
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', cwd: '/', env: { PATH: process.env.PATH } });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/QUEUE_URL/);
  });

  test('the deployed zone picker answers from the Lambda runtime\'s EC2 client (its bundle leaves that client external)', () => {
    const picker = stack.pipeline.createdCluster!.zonePicker!;
    const fn = picker.node.findChild('Handler').node.findChild('OnEvent');
    const asset = fn.node.findAll().find((c): c is s3assets.Asset => c instanceof s3assets.Asset)!;
    const bundle = path.join(app.outdir, asset.assetPath, 'index.js');
    // The runtime's SDK, as a fake answering DescribeAvailabilityZones with an unsupported zone id first.
    const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-runtime-'));
    const client = path.join(runtime, '@aws-sdk', 'client-ec2');
    fs.mkdirSync(client, { recursive: true });
    const zones = [
      { ZoneName: 'us-east-1a', ZoneId: 'use1-az3', State: 'available', ZoneType: 'availability-zone' },
      { ZoneName: 'us-east-1b', ZoneId: 'use1-az4', State: 'available', ZoneType: 'availability-zone' },
      { ZoneName: 'us-east-1c', ZoneId: 'use1-az6', State: 'available', ZoneType: 'availability-zone' },
    ];
    fs.writeFileSync(path.join(client, 'index.js'), `exports.EC2 = class { async describeAvailabilityZones() { return { AvailabilityZones: ${JSON.stringify(zones)} }; } };`);
    // The event CloudFormation sends: the resource's properties as synthesized.
    const resourceId = stack.getLogicalId(picker.resource.node.defaultChild as CfnElement);
    const event = { RequestType: 'Create', ResourceProperties: template.toJSON().Resources[resourceId].Properties };
    const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(bundle)}).onEvent(${JSON.stringify(event)}).then((r) => process.stdout.write(JSON.stringify(r)))`], {
      encoding: 'utf8',
      cwd: '/',
      env: { PATH: process.env.PATH, NODE_PATH: runtime },
    });
    fs.rmSync(runtime, { recursive: true, force: true });
    expect(run.stderr.split('\n').filter((l) => l && !l.includes('availability zones for the EKS cluster'))).toEqual([]);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual({ PhysicalResourceId: 'us-east-1b,us-east-1c', Data: { Zone0: 'us-east-1b', Zone1: 'us-east-1c' } });
  });

  test('defaults from cdk.json reach the stack: standard queue, 60 s visibility, 1..10 replicas, 1000 messages per replica', () => {
    expect(stack.stackName).toBe('stream-foundry-dev-queue-to-s3');
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 60, RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
    expect(stack.pipeline.scalingManifests[1].spec).toEqual(expect.objectContaining({ minReplicaCount: 1, maxReplicaCount: 10 }));
    expect(stack.pipeline.scalingManifests[1].spec.triggers[0].metadata.queueLength).toBe('1000');
    template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.35' });
    template.resourceCountIs('Custom::EksSupportedZones', 1);
  });

  test('data and the keys of data are retained by default', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::KMS::Key']) {
      for (const [id, resource] of Object.entries(template.findResources(type))) {
        if (!id.startsWith('PipelineClusterSecretsKey')) expect(resource.DeletionPolicy).toBe('Retain');
      }
    }
  });

  test('only data is retained, never compute: a destroy or a failed first deploy leaves nothing billed or stuck', () => {
    // Retain also applies on the rollback of a failed create: a retained cluster keeps billing and its security group
    // (used by the cluster's network interfaces) blocks the VPC's deletion: ROLLBACK_FAILED / DELETE_FAILED.
    const DATA_TYPES = ['AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::KMS::Key', 'AWS::Logs::LogGroup'];
    const resources = template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
    const retained = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain' || r.UpdateReplacePolicy === 'Retain');
    expect(retained.filter(([, r]) => !DATA_TYPES.includes(r.Type)).map(([id, r]) => `${id} (${r.Type})`)).toEqual([]);
    // The cluster's secrets key encrypts only the cluster's etcd; the kubectl functions' logs are not pipeline data.
    const secretsKey = Object.keys(template.findResources('AWS::KMS::Key')).find((id) => id.startsWith('PipelineClusterSecretsKey'))!;
    const kubectlLogs = Object.keys(template.findResources('AWS::Logs::LogGroup')).filter((id) => id.includes('Kubectl'));
    expect(kubectlLogs.length).toBeGreaterThan(0);
    for (const id of [secretsKey, ...kubectlLogs]) expect(resources[id].DeletionPolicy).toBe('Delete');
    for (const type of ['AWS::EKS::Cluster', 'AWS::EC2::SecurityGroup', 'AWS::Lambda::Function', 'Custom::AWSCDK-EKS-HelmChart']) {
      const found = Object.values(template.findResources(type));
      expect(found.length).toBeGreaterThan(0);
      for (const r of found) expect(r.DeletionPolicy ?? 'Delete').toBe('Delete');
    }
  });

  test('every alarm is named after the stack, notifies the alarm topic and links its runbook section', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.AlarmActions);
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmName).toMatch(/^stream-foundry-dev-queue-to-s3-/);
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: https:\/\/\S+\/runbooks\/queue-to-s3\.md#[a-z-]+/);
    }
  });
});

describe('QueueToS3Stack configuration', () => {
  test('settings reach the stack: FIFO, visibility, replicas, thresholds; the existing cluster replaces the new one', () => {
    const { template, stack } = synthesizedStack({
      'aws:cdk:bundling-stacks': [],
      'queueToS3.messaging.fifo': 'true',
      'queueToS3.messaging.visibilityTimeoutSeconds': '120',
      'queueToS3.consumer.minReplicas': '0',
      'queueToS3.consumer.maxReplicas': '4',
      'queueToS3.alarms.maxMessageAgeSeconds': '900',
      'queueToS3.cluster.existingClusterName': 'platform',
      'queueToS3.cluster.kubectlProviderArn': 'arn:aws:lambda:eu-west-1:123456789012:function:platform-kubectl',
      'queueToS3.cluster.kubectlRoleArn': 'arn:aws:iam::123456789012:role/platform-kubectl',
      'queueToS3.cluster.kedaInstalled': 'true',
    });
    template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true, TopicName: Match.stringLikeRegexp('\\.fifo$') });
    template.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, VisibilityTimeout: 120 });
    expect(stack.pipeline.scalingManifests[1].spec).toEqual(expect.objectContaining({ minReplicaCount: 0, maxReplicaCount: 4 }));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('Message-Age'), Threshold: 900 });
    template.resourceCountIs('AWS::EKS::Cluster', 0);
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 0);
    const manifests = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
    for (const m of manifests) expect(m.Properties.ServiceToken).toBe('arn:aws:lambda:eu-west-1:123456789012:function:platform-kubectl');
  });

  test('queueToS3.availabilityZones reach the VPC; unset, the zones come from the deploy-time picker', () => {
    const { template } = synthesizedStack({ 'aws:cdk:bundling-stacks': [], 'queueToS3.availabilityZones': 'us-east-1b,us-east-1c' });
    template.resourceCountIs('Custom::EksSupportedZones', 0);
    const zones = Object.values(template.findResources('AWS::EC2::Subnet')).map((s) => s.Properties.AvailabilityZone);
    expect([...new Set(zones)].sort()).toEqual(['us-east-1b', 'us-east-1c']);
  });

  test('invalid settings fail with the setting named', () => {
    expect(() => parseConfig({ queueToS3: { messaging: { visibilityTimeoutSeconds: 10 }, consumer: { flushMaxAgeSeconds: 10 } } })).toThrow(
      /queueToS3\.messaging\.visibilityTimeoutSeconds: received 10; expected at least 11 s \(consumer\.flushMaxAgeSeconds, 10 s, \+ 1 s: a message must outlive one batch\)/,
    );
    expect(() => parseConfig({ queueToS3: { messaging: { visibilityTimeoutSeconds: 11 }, consumer: { flushMaxAgeSeconds: 10 } } })).not.toThrow();
    expect(() => parseConfig({ queueToS3: { cluster: { existingClusterName: 'platform' } } })).toThrow(/queueToS3\.cluster: .*together/);
  });
});
