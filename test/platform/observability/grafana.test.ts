import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { parseConfig, readCdkJsonContext } from '../../../platform/config';
import { PROJECT_ROOT } from '../../../platform/paths';
import { dashboardBundle, grafanaSchema, prometheusSchema } from '../../../platform/observability';
import { QueueToS3Stack } from '../../../pipelines/queue-to-s3/stack';
import { complianceFindings, testApp } from '../../support/aws';
import { configProblems } from '../../support/config';
import { ACCOUNT, deniedRequests, explain, REGION, StackPolicies } from '../../support/iam-proof';

/* eslint-disable @typescript-eslint/no-explicit-any */

const STACK_NAME = 'stream-foundry-dev-queue-to-s3';
/** QueueToS3Stack as cdk.json configures it, with `grafana` (and `prometheus`) settings on top, parsed as the configuration parses them. */
function queueToS3(grafana?: Record<string, unknown>, prometheus?: Record<string, unknown>, app = new App({ context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] } })) {
  const parsed = parseConfig(app.node.getAllContext());
  const config = {
    ...parsed,
    ...(grafana && { grafana: grafanaSchema.parse(grafana) }),
    ...(prometheus && { prometheus: prometheusSchema.parse({ ...parsed.prometheus, ...prometheus }) }),
  };
  return new QueueToS3Stack(app, 'QueueToS3', { config, stackName: STACK_NAME });
}

test('off by default: no workspace, no role, no custom resource, no output', () => {
  expect(grafanaSchema.parse({})).toEqual({ enabled: false, authentication: 'AWS_SSO', grafanaVersion: '10.4' });
  const template = Template.fromStack(queueToS3());
  template.resourceCountIs('AWS::Grafana::Workspace', 0);
  expect(template.findResources('Custom::GrafanaDashboards')).toEqual({});
  expect(Object.keys(template.findOutputs('*')).filter((o) => o.startsWith('Grafana'))).toEqual([]);
});

describe('on (IAM Identity Center)', () => {
  const stack = queueToS3({ enabled: true });
  const template = Template.fromStack(stack);
  const workspaceId = stack.resolve(stack.grafana!.workspace.logicalId);
  const ampId = stack.resolve(stack.prometheus!.workspace.logicalId);
  const workspaceArn = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':grafana:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':/workspaces/', { 'Fn::GetAtt': [workspaceId, 'Id'] }]],
  };

  test('a customer-managed workspace of this account, Identity Center sign-in, CloudWatch and AMP, no plugin admin, deleted with the stack', () => {
    template.resourceCountIs('AWS::Grafana::Workspace', 1);
    template.hasResource('AWS::Grafana::Workspace', {
      DeletionPolicy: 'Delete',
      Properties: {
        Name: `${STACK_NAME}-Grafana`,
        AccountAccessType: 'CURRENT_ACCOUNT',
        AuthenticationProviders: ['AWS_SSO'],
        PermissionType: 'CUSTOMER_MANAGED',
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GrafanaWorkspaceRole'), 'Arn'] },
        DataSources: ['CLOUDWATCH', 'PROMETHEUS'],
        GrafanaVersion: '10.4',
        PluginAdminEnabled: false,
        SamlConfiguration: Match.absent(),
      },
    });
  });

  test("the workspace role: assumed by Managed Grafana for this account's workspaces; CloudWatch metric reads and AMP queries on the one workspace, nothing else", () => {
    const roles = template.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('^Amazon Managed Grafana workspace') } });
    const [[roleId, role]] = Object.entries<any>(roles);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'grafana.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':grafana:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':/workspaces/*']] } },
        },
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy')).filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      { Action: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'], Effect: 'Allow', Resource: '*' },
      { Action: ['aps:GetLabels', 'aps:GetMetricMetadata', 'aps:GetSeries', 'aps:QueryMetrics'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [ampId, 'Arn'] } },
    ]);
  });

  test("the provisioner may manage service accounts and tokens of this workspace only; the custom resource gets the workspace, AMP's endpoint and the dashboards' hash", () => {
    const provisioner = Object.values<any>(template.findResources('AWS::IAM::Policy')).find((p) =>
      p.Properties.PolicyDocument.Statement.some((s: any) => JSON.stringify(s.Action).includes('grafana:')),
    );
    const grafanaStatements = provisioner.Properties.PolicyDocument.Statement.filter((s: any) => JSON.stringify(s.Action).includes('grafana:'));
    expect(grafanaStatements).toEqual([
      {
        Action: [
          'grafana:CreateWorkspaceServiceAccount',
          'grafana:CreateWorkspaceServiceAccountToken',
          'grafana:DeleteWorkspaceServiceAccount',
          'grafana:DeleteWorkspaceServiceAccountToken',
          'grafana:ListWorkspaceServiceAccounts',
        ],
        Effect: 'Allow',
        Resource: workspaceArn,
      },
    ]);
    template.hasResourceProperties('Custom::GrafanaDashboards', {
      WorkspaceId: { 'Fn::GetAtt': [workspaceId, 'Id'] },
      Endpoint: { 'Fn::GetAtt': [workspaceId, 'Endpoint'] },
      Region: { Ref: 'AWS::Region' },
      PrometheusQueryEndpoint: { 'Fn::GetAtt': [ampId, 'PrometheusEndpoint'] },
      DashboardsSha256: dashboardBundle().sha256,
    });
    expect(dashboardBundle().files).toEqual(['kinesis-to-delta-lake.json', 'msk-to-iceberg.json', 'pubsub-to-bigquery.json', 'queue-to-s3.json', 'rds-cdc-to-s3.json']);
    template.hasOutput('GrafanaWorkspaceUrl', { Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [workspaceId, 'Endpoint'] }]] } });
    template.hasOutput('GrafanaWorkspaceId', { Value: { 'Fn::GetAtt': [workspaceId, 'Id'] } });
    // The dashboards were generated for this stack's name: no warning.
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('docs/grafana was generated for'))).toEqual([]);
  });

  test('the template with Grafana on passes cfn-lint (the whole-app compliance test only sees it off)', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sf-grafana-')), 'grafana.template.json');
    fs.writeFileSync(file, JSON.stringify(template.toJSON()));
    const run = spawnSync(path.join(PROJECT_ROOT, '.venv', 'bin', 'cfn-lint'), ['--format', 'parseable', file], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
  }, 120_000);

  test("permission proof: the provisioner's control-plane calls are allowed on its workspace and denied on any other", async () => {
    const policies = new StackPolicies(template.toJSON(), STACK_NAME);
    const [resourceId] = Object.keys(template.findResources('Custom::GrafanaDashboards'));
    const { WorkspaceId } = policies.resolve(template.toJSON().Resources[resourceId].Properties);
    const role = policies.roleOf(policies.one('AWS::Lambda::Function', 'GrafanaProvisionerOnEvent'));
    // The handler's five commands (handlers/grafana-dashboards/provision.ts), each authorized on the workspace.
    const actions = ['ListWorkspaceServiceAccounts', 'CreateWorkspaceServiceAccount', 'CreateWorkspaceServiceAccountToken', 'DeleteWorkspaceServiceAccountToken', 'DeleteWorkspaceServiceAccount'];
    const on = (id: string) => actions.map((a) => ({ action: `grafana:${a}`, resource: `arn:aws:grafana:${REGION}:${ACCOUNT}:/workspaces/${id}` }));
    expect(explain(await deniedRequests(policies, role, on(WorkspaceId)))).toEqual([]);
    expect(await deniedRequests(policies, role, on('g-0000000000'))).toHaveLength(actions.length);
  });

  test('cdk-nag finds nothing in the Grafana constructs', () => {
    const gated = testApp({ 'aws:cdk:bundling-stacks': [] });
    queueToS3({ enabled: true }, undefined, gated);
    expect(complianceFindings(gated).filter((f) => f.includes('QueueToS3/Grafana'))).toEqual([]);
  });
});

test('without Prometheus: CloudWatch only, no aps permission, no Prometheus endpoint', () => {
  const template = Template.fromStack(queueToS3({ enabled: true }, { enabled: false }));
  template.hasResourceProperties('AWS::Grafana::Workspace', { DataSources: ['CLOUDWATCH'] });
  expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('aps:');
  template.hasResourceProperties('Custom::GrafanaDashboards', { PrometheusQueryEndpoint: Match.absent() });
});

test('SAML: with the IdP metadata URL it is configured; without it the workspace starts unconfigured and synth says so', () => {
  const configured = Template.fromStack(queueToS3({ enabled: true, authentication: 'SAML', samlMetadataUrl: 'https://idp.example.com/metadata.xml' }));
  configured.hasResourceProperties('AWS::Grafana::Workspace', { AuthenticationProviders: ['SAML'], SamlConfiguration: { IdpMetadata: { Url: 'https://idp.example.com/metadata.xml' } } });
  const bare = queueToS3({ enabled: true, authentication: 'SAML' });
  Annotations.fromStack(bare).hasWarning('*', Match.stringLikeRegexp('grafana.samlMetadataUrl'));
});

test('bad settings fail naming the setting and what it expects', () => {
  const problems = (value: unknown) => grafanaSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  expect(problems({ authentication: 'OIDC' })).toEqual(['authentication: expected one of: AWS_SSO, SAML']);
  expect(problems({ enabled: 'yes' })).toEqual(['enabled: expected true or false']);
  expect(problems({ grafanaVersion: '8.4' })).toEqual([expect.stringMatching(/^grafanaVersion: expected a Grafana version major.minor, 9.4 or later/)]);
  expect(problems({ authentication: 'SAML', samlMetadataUrl: 'http://idp/metadata' })).toEqual(['samlMetadataUrl: expected an https:// URL of the SAML identity provider metadata']);
  expect(problems({ enabled: true, samlMetadataUrl: 'https://idp/metadata' })).toEqual(['samlMetadataUrl: expected only with authentication SAML']);
  expect(problems({ enabled: true, colour: 'blue' })?.[0]).toMatch(/colour/);
  // Through the configuration, as `cdk synth` parses cdk.json and -c: the message names the setting.
  expect(configProblems({ 'grafana.enabled': 'true', 'grafana.authentication': 'OIDC' })).toEqual([expect.stringMatching(/^grafana\.authentication: .*AWS_SSO, SAML/)]);
  // Command-line strings work: -c grafana.enabled=true arrives as "true".
  expect(grafanaSchema.parse({ enabled: 'true' }).enabled).toBe(true);
});
