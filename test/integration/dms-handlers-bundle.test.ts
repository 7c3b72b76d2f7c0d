/**
 * The artifacts users deploy: the two DMS custom-resource handlers as `cdk synth` bundles them into the cloud assembly,
 * copied where no node_modules is above them (as in /var/task) and run by plain `node`. A module left to the Lambda
 * runtime (the AWS SDK) would fail here as Runtime.ImportModuleError would fail the deployment.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildAwsApp } from '../../platform/aws-app';
import { parseConfig } from '../../platform/config';
import { testApp } from '../support/aws';

interface Fn {
  Type: string;
  Properties: { Handler: string; Description?: string; Code: { S3Key: string }; Role: { 'Fn::GetAtt': [string, string] } };
}

const app = testApp({ 'aws:cdk:bundling-stacks': ['RdsCdcToS3'] });
buildAwsApp(app, parseConfig(app.node.getAllContext()), ['rdsCdcToS3']); // the one stack whose bundles are read
const assembly = app.synth();
const template = JSON.parse(
  fs.readFileSync(path.join(assembly.directory, assembly.getStackByName('stream-foundry-dev-rds-cdc-to-s3').templateFile), 'utf8'),
);
const functions = Object.values<Fn>(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');

/** Copies the bundle of the function described by `description` out of the assembly; returns its directory. */
function deployed(description: RegExp, handler: string): string {
  const fn = functions.find((f) => description.test(f.Properties.Description ?? '') && f.Properties.Handler === handler);
  expect(fn).toBeDefined();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-var-task-'));
  fs.cpSync(path.join(assembly.directory, `asset.${fn!.Properties.Code.S3Key.replace(/\.zip$/, '')}`), directory, { recursive: true });
  return directory;
}

/** Runs `exports[name](event)` of the bundle with plain node and no network, returning its JSON result. */
function invoke(directory: string, name: string, event: object): unknown {
  const script = `require('./index.js').${name}(${JSON.stringify(event)}).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
  const run = spawnSync(process.execPath, ['-e', script], {
    cwd: directory,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', POWERTOOLS_LOG_LEVEL: 'SILENT', NODE_PATH: '' },
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`bundle failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

const base = { ServiceToken: 't', ResponseURL: 'https://example.com', StackId: 's', RequestId: 'r', LogicalResourceId: 'L', ResourceType: 'Custom::X' };

test('the four handler functions are bundled (no node_modules in the asset)', () => {
  // The replication's custom-resource handlers (the stack's other functions, e.g. its freshness reporter, are tested elsewhere).
  const handlers = functions.filter((f) => /^index\.(onEvent|isComplete)$/.test(f.Properties.Handler) && f.Properties.Role['Fn::GetAtt'][0].startsWith('CdcReplication'));
  expect(handlers).toHaveLength(4);
  for (const f of handlers) {
    const dir = path.join(assembly.directory, `asset.${f.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
  }
});

test('account roles bundle: loads with plain node (SDK bundled) and its Delete never touches IAM', () => {
  const dir = deployed(/account-level DMS roles/, 'index.onEvent');
  expect(invoke(dir, 'onEvent', { ...base, RequestType: 'Delete', PhysicalResourceId: 'dms-account-roles', ResourceProperties: { ServiceToken: 't', Roles: [{ RoleName: 'dms-vpc-role', PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole' }] } })).toEqual({
    PhysicalResourceId: 'dms-account-roles',
  });
});

test('task control bundle: loads with plain node and answers onEvent without a DMS call', () => {
  const dir = deployed(/Stops the DMS task/, 'index.onEvent');
  const result = invoke(dir, 'onEvent', {
    ...base,
    RequestType: 'Create',
    ResourceProperties: { ServiceToken: 't', Role: 'starter', ReplicationTaskArn: 'arn:aws:dms:eu-west-1:123456789012:task:T', ConfigHash: 'h' },
  }) as { PhysicalResourceId: string; Data: { RequestedAt: string } };
  expect(result.PhysicalResourceId).toBe('arn:aws:dms:eu-west-1:123456789012:task:T');
  expect(Date.parse(result.Data.RequestedAt)).toBeGreaterThan(Date.now() - 60_000);
});
