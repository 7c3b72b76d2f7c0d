/**
 * Custom::GrafanaDashboards' handler against the Managed Grafana control plane (aws-sdk-client-mock) and a local
 * HTTP server standing in for the workspace's Grafana HTTP API, answering as Grafana documents: bearer tokens,
 * GET /api/datasources/uid/:uid (404 "Data source not found"), POST /api/datasources (409 on a taken name),
 * PUT /api/datasources/uid/:uid, POST /api/dashboards/db (overwrite, version, 412 without overwrite).
 */
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CreateWorkspaceServiceAccountCommand,
  CreateWorkspaceServiceAccountTokenCommand,
  DeleteWorkspaceServiceAccountCommand,
  DeleteWorkspaceServiceAccountTokenCommand,
  GrafanaClient,
  ListWorkspaceServiceAccountsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-grafana';
import { mockClient } from 'aws-sdk-client-mock';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { DATA_SOURCES, SERVICE_ACCOUNT_NAME, TOKEN_SECONDS_TO_LIVE } from '../../../platform/observability/handlers/grafana-dashboards/contract';
import { createGrafanaDashboards, dataSources } from '../../../platform/observability/handlers/grafana-dashboards/provision';
import { dashboardBundle, GRAFANA_DASHBOARDS_DIR } from '../../../platform/observability/grafana';
import { FakeGrafana } from './fake-grafana';

/* eslint-disable @typescript-eslint/no-explicit-any */

const WORKSPACE = 'g-0123456789';
const AMP = 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-11111111-2222-3333-4444-555555555555/api/v1/';
const TOKEN = 'glsa_deploy_token';
const { files: DASHBOARD_FILES, sha256 } = dashboardBundle();

const grafanaMock = mockClient(GrafanaClient);
let fake: FakeGrafana;
let baseUrl: string;
const logs: string[] = [];
const handler = () =>
  createGrafanaDashboards({
    grafana: new GrafanaClient({ region: 'eu-west-1' }),
    dashboardsDir: GRAFANA_DASHBOARDS_DIR,
    baseUrl: (endpoint) => {
      expect(endpoint).toBe(`${WORKSPACE}.grafana-workspace.eu-west-1.amazonaws.com`);
      return baseUrl;
    },
    now: () => 1_764_806_400_000,
    log: (message) => logs.push(message),
  });

const properties = (extra: Record<string, unknown> = {}) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  WorkspaceId: WORKSPACE,
  Endpoint: `${WORKSPACE}.grafana-workspace.eu-west-1.amazonaws.com`,
  Region: 'eu-west-1',
  PrometheusQueryEndpoint: AMP,
  DashboardsSha256: sha256,
  ...extra,
});
const event = (RequestType: 'Create' | 'Update' | 'Delete', props = properties()): CloudFormationCustomResourceEvent =>
  ({
    RequestType,
    ServiceToken: props.ServiceToken,
    ResponseURL: 'https://example.com',
    StackId: 's',
    RequestId: 'r',
    LogicalResourceId: 'GrafanaDashboards',
    ResourceType: 'Custom::GrafanaDashboards',
    ResourceProperties: props,
    ...(RequestType !== 'Create' && { PhysicalResourceId: `${WORKSPACE}/grafana-dashboards`, OldResourceProperties: props }),
  }) as CloudFormationCustomResourceEvent;

/** The control plane: one service account once created; each token accepted by the fake Grafana until deleted. */
function controlPlane(existingAccount = false) {
  let account = existingAccount ? { id: '7', name: SERVICE_ACCOUNT_NAME, grafanaRole: 'ADMIN' } : undefined;
  let tokens = 0;
  grafanaMock.on(ListWorkspaceServiceAccountsCommand).callsFake(() => ({ serviceAccounts: account ? [{ id: 'x', name: 'someone-else', grafanaRole: 'VIEWER' }, account] : [] }));
  grafanaMock.on(CreateWorkspaceServiceAccountCommand).callsFake((input) => {
    account = { id: '7', name: input.name, grafanaRole: input.grafanaRole };
    return { ...account, workspaceId: input.workspaceId };
  });
  grafanaMock.on(CreateWorkspaceServiceAccountTokenCommand).callsFake((input) => {
    tokens += 1;
    fake.validTokens.add(`${TOKEN}_${tokens}`);
    return { serviceAccountId: input.serviceAccountId, workspaceId: input.workspaceId, serviceAccountToken: { id: `token-${tokens}`, name: input.name, key: `${TOKEN}_${tokens}` } };
  });
  grafanaMock.on(DeleteWorkspaceServiceAccountTokenCommand).callsFake((input) => {
    fake.validTokens.delete(`${TOKEN}_${String(input.tokenId).replace('token-', '')}`);
    return { serviceAccountId: input.serviceAccountId, tokenId: input.tokenId, workspaceId: input.workspaceId };
  });
}

beforeEach(async () => {
  grafanaMock.reset();
  logs.length = 0;
  fake = new FakeGrafana();
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => fake.server.close(resolve));
});

test('the data sources authenticate as the workspace role: CloudWatch in the region, AMP signed with SigV4 on the workspace URL', () => {
  expect(dataSources({ Region: 'eu-west-1', PrometheusQueryEndpoint: AMP })).toEqual([
    { uid: DATA_SOURCES.cloudwatch.uid, name: DATA_SOURCES.cloudwatch.name, type: 'cloudwatch', access: 'proxy', isDefault: true, jsonData: { authType: 'ec2_iam_role', defaultRegion: 'eu-west-1' } },
    {
      uid: DATA_SOURCES.prometheus.uid,
      name: DATA_SOURCES.prometheus.name,
      type: 'prometheus',
      access: 'proxy',
      url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-11111111-2222-3333-4444-555555555555/',
      isDefault: false,
      jsonData: { httpMethod: 'POST', sigV4Auth: true, sigV4AuthType: 'ec2_iam_role', sigV4Region: 'eu-west-1' },
    },
  ]);
  expect(dataSources({ Region: 'eu-west-1' }).map((d) => d.type)).toEqual(['cloudwatch']);
});

test('create: an Admin service account, a short-lived token, both data sources, every dashboard with its variables on them; the token is deleted', async () => {
  controlPlane();
  const result = await handler().onEvent(event('Create'));

  expect(result.PhysicalResourceId).toBe(`${WORKSPACE}/grafana-dashboards`);
  expect(grafanaMock.commandCalls(CreateWorkspaceServiceAccountCommand).map((c) => c.args[0].input)).toEqual([{ workspaceId: WORKSPACE, name: SERVICE_ACCOUNT_NAME, grafanaRole: 'ADMIN' }]);
  expect(grafanaMock.commandCalls(CreateWorkspaceServiceAccountTokenCommand).map((c) => c.args[0].input)).toEqual([
    { workspaceId: WORKSPACE, serviceAccountId: '7', name: 'deploy-1764806400000', secondsToLive: TOKEN_SECONDS_TO_LIVE },
  ]);
  expect(grafanaMock.commandCalls(DeleteWorkspaceServiceAccountTokenCommand).map((c) => c.args[0].input)).toEqual([{ workspaceId: WORKSPACE, serviceAccountId: '7', tokenId: 'token-1' }]);
  expect(fake.validTokens.size).toBe(0);

  expect([...fake.dataSources.keys()]).toEqual([DATA_SOURCES.cloudwatch.uid, DATA_SOURCES.prometheus.uid]);
  // Every generated dashboard, once, under its own uid, with no numeric id and overwrite on.
  const expectedUids = DASHBOARD_FILES.map((f) => JSON.parse(fs.readFileSync(path.join(GRAFANA_DASHBOARDS_DIR, f), 'utf8')).uid);
  expect(DASHBOARD_FILES.length).toBe(5);
  expect([...fake.dashboards.keys()].sort()).toEqual([...expectedUids].sort());
  const imports = fake.requests.filter((r) => r.path === '/api/dashboards/db');
  expect(imports.every((r) => r.body.overwrite === true && r.body.dashboard.id === null)).toBe(true);
  const queueToS3 = fake.dashboards.get('sf-queue-to-s3');
  const variable = (name: string) => queueToS3.templating.list.find((v: any) => v.name === name);
  expect(variable('DS_CLOUDWATCH').current).toEqual({ selected: true, text: DATA_SOURCES.cloudwatch.name, value: DATA_SOURCES.cloudwatch.uid });
  expect(variable('DS_PROMETHEUS').current).toEqual({ selected: true, text: DATA_SOURCES.prometheus.name, value: DATA_SOURCES.prometheus.uid });
  // Panels still refer to the variables, so another data source can be picked in the drop-down.
  expect(JSON.stringify(queueToS3.panels)).toContain('${DS_PROMETHEUS}');
  // Pipeline 4's Google Cloud Monitoring variable is left to whoever adds that data source.
  const pubsub = [...fake.dashboards.values()].find((d) => d.templating.list.some((v: any) => v.name === 'DS_GOOGLE_CLOUD'));
  expect(pubsub.templating.list.find((v: any) => v.name === 'DS_GOOGLE_CLOUD').current).toEqual({});
  expect(result.Data).toEqual({ ServiceAccountId: '7', Dashboards: expect.stringContaining('sf-queue-to-s3') });
});

test('update: the existing service account is reused, data sources are updated in place (PUT by uid), dashboards overwritten to a new version', async () => {
  controlPlane();
  await handler().onEvent(event('Create'));
  fake.requests.length = 0;
  await handler().onEvent(event('Update', properties({ Region: 'eu-west-1' })));

  expect(grafanaMock.commandCalls(CreateWorkspaceServiceAccountCommand)).toHaveLength(1);
  expect(grafanaMock.commandCalls(CreateWorkspaceServiceAccountTokenCommand)).toHaveLength(2);
  expect(grafanaMock.commandCalls(DeleteWorkspaceServiceAccountTokenCommand)).toHaveLength(2);
  expect(fake.requests.filter((r) => r.path.startsWith('/api/datasources')).map((r) => `${r.method} ${r.path}`)).toEqual([
    `GET /api/datasources/uid/${DATA_SOURCES.cloudwatch.uid}`,
    `PUT /api/datasources/uid/${DATA_SOURCES.cloudwatch.uid}`,
    `GET /api/datasources/uid/${DATA_SOURCES.prometheus.uid}`,
    `PUT /api/datasources/uid/${DATA_SOURCES.prometheus.uid}`,
  ]);
  expect(fake.dataSources.size).toBe(2);
  expect([...fake.dashboards.values()].every((d) => d.version === 2)).toBe(true);
});

test('without Prometheus: only the CloudWatch data source; the Prometheus variables are left for the user', async () => {
  controlPlane(true);
  const { PrometheusQueryEndpoint: _none, ...withoutAmp } = properties();
  await handler().onEvent(event('Create', withoutAmp as any));
  expect([...fake.dataSources.keys()]).toEqual([DATA_SOURCES.cloudwatch.uid]);
  expect(grafanaMock.commandCalls(CreateWorkspaceServiceAccountCommand)).toHaveLength(0);
  expect(fake.dashboards.get('sf-queue-to-s3').templating.list.find((v: any) => v.name === 'DS_PROMETHEUS').current).toEqual({});
});

test("a Grafana API error fails the deploy with Grafana's message, and the token is still deleted", async () => {
  controlPlane(true);
  // Someone created a data source by hand under the name the deploy uses, with another uid.
  fake.dataSources.set('hand-made', { uid: 'hand-made', name: DATA_SOURCES.cloudwatch.name, type: 'cloudwatch', version: 1 });
  await expect(handler().onEvent(event('Create'))).rejects.toThrow('Grafana API POST /api/datasources answered 409: data source with the same name already exists');
  expect(grafanaMock.commandCalls(DeleteWorkspaceServiceAccountTokenCommand)).toHaveLength(1);
  expect(fake.validTokens.size).toBe(0);
  expect(fake.dashboards.size).toBe(0);
});

test('a token Grafana does not accept fails with its 401 answer', async () => {
  controlPlane(true);
  grafanaMock.on(CreateWorkspaceServiceAccountTokenCommand).resolves({ serviceAccountId: '7', workspaceId: WORKSPACE, serviceAccountToken: { id: 'token-x', name: 'deploy', key: 'expired' } });
  await expect(handler().onEvent(event('Create'))).rejects.toThrow(`Grafana API GET /api/datasources/uid/${DATA_SOURCES.cloudwatch.uid} answered 401: Invalid API key`);
  expect(grafanaMock.commandCalls(DeleteWorkspaceServiceAccountTokenCommand).map((c) => c.args[0].input.tokenId)).toEqual(['token-x']);
});

test('delete: the service account goes, dashboards and data sources stay; a workspace already gone is fine', async () => {
  controlPlane();
  await handler().onEvent(event('Create'));
  grafanaMock.on(DeleteWorkspaceServiceAccountCommand).resolves({ serviceAccountId: '7', workspaceId: WORKSPACE });
  const result = await handler().onEvent(event('Delete'));
  expect(result.PhysicalResourceId).toBe(`${WORKSPACE}/grafana-dashboards`);
  expect(grafanaMock.commandCalls(DeleteWorkspaceServiceAccountCommand).map((c) => c.args[0].input)).toEqual([{ workspaceId: WORKSPACE, serviceAccountId: '7' }]);
  expect(fake.dashboards.size).toBe(5);

  grafanaMock.reset();
  grafanaMock.on(ListWorkspaceServiceAccountsCommand).rejects(new ResourceNotFoundException({ message: 'Workspace not found', $metadata: {}, resourceId: WORKSPACE, resourceType: 'WORKSPACE' }));
  await expect(handler().onEvent(event('Delete'))).resolves.toEqual({ PhysicalResourceId: `${WORKSPACE}/grafana-dashboards` });
});

test('bad properties fail naming the property', async () => {
  await expect(handler().onEvent(event('Create', properties({ WorkspaceId: 'grafana-1' })))).rejects.toThrow(
    'invalid properties of Custom::GrafanaDashboards: WorkspaceId: expected a workspace id (g- and 10 hex digits)',
  );
});
