/**
 * The Grafana dashboards handler as Lambda runs it: index.ts bundled by esbuild as BundledFunction bundles it (minified,
 * the AWS SDK inside, Node 22), the construct's afterBundling commands run on the output (the dashboards copied beside
 * the bundle), loaded by plain `node` in a directory with no node_modules above it and sent a Create event. The Managed
 * Grafana control plane is a local endpoint answering its REST-JSON routes (the SDK's own paths); the workspace is
 * FakeGrafana. This proves the dashboards reach the deployed handler, not only the source tree.
 */
import { execFileSync, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { dashboardBundle, dashboardsBundling, GRAFANA_DASHBOARDS_DIR } from '../../../platform/observability/grafana';
import { DASHBOARDS_FOLDER, SERVICE_ACCOUNT_NAME } from '../../../platform/observability/handlers/grafana-dashboards/contract';
import { PROJECT_ROOT } from '../../../platform/paths';
import { FakeGrafana } from './fake-grafana';

/* eslint-disable @typescript-eslint/no-explicit-any */

const WORKSPACE = 'g-0123456789';
let directory: string;
let controlPlane: http.Server;
let fake: FakeGrafana;
const controlRequests: string[] = [];
const createdAccounts: unknown[] = [];

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-grafana-bundle-'));
  await build({
    entryPoints: [path.join(PROJECT_ROOT, 'platform/observability/handlers/grafana-dashboards/index.ts')],
    outfile: path.join(directory, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    logLevel: 'silent',
  });
  const { files } = dashboardBundle();
  for (const command of dashboardsBundling(GRAFANA_DASHBOARDS_DIR, files).commandHooks.afterBundling(PROJECT_ROOT, directory)) execFileSync('sh', ['-c', command]);

  fake = new FakeGrafana();
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  let account: { id: string; name: string; grafanaRole: string } | undefined;
  controlPlane = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : {};
      const url = new URL(req.url!, 'http://local');
      controlRequests.push(`${req.method} ${url.pathname}`);
      const json = (status: number, answer: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(answer));
      };
      const base = `/workspaces/${WORKSPACE}/serviceaccounts`;
      const token = url.pathname.match(new RegExp(`^${base}/([^/]+)/tokens(?:/([^/]+))?$`));
      if (req.method === 'GET' && url.pathname === base) return json(200, { serviceAccounts: account ? [account] : [], workspaceId: WORKSPACE });
      if (req.method === 'POST' && url.pathname === base) {
        createdAccounts.push(body);
        account = { id: '3', name: body.name, grafanaRole: body.grafanaRole };
        return json(200, { ...account, workspaceId: WORKSPACE });
      }
      if (req.method === 'POST' && token) {
        fake.validTokens.add('glsa_bundle');
        return json(200, { serviceAccountId: token[1], serviceAccountToken: { id: 'tok-1', name: body.name, key: 'glsa_bundle' }, workspaceId: WORKSPACE });
      }
      if (req.method === 'DELETE' && token?.[2]) {
        fake.validTokens.delete('glsa_bundle');
        return json(200, { serviceAccountId: token[1], tokenId: token[2], workspaceId: WORKSPACE });
      }
      res.writeHead(404, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'ResourceNotFoundException' });
      res.end(JSON.stringify({ message: 'not found', resourceId: WORKSPACE, resourceType: 'WORKSPACE' }));
    });
  });
  await new Promise<void>((resolve) => controlPlane.listen(0, '127.0.0.1', resolve));
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => controlPlane?.close(resolve));
  await new Promise((resolve) => fake?.server.close(resolve));
  if (directory) fs.rmSync(directory, { recursive: true, force: true });
});

test('the bundle carries every dashboard and, run by plain node, imports them all through a token it deletes', async () => {
  expect(fs.readdirSync(path.join(directory, DASHBOARDS_FOLDER)).sort()).toEqual(dashboardBundle().files);
  const event = {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://example.com',
    StackId: 's',
    RequestId: 'r',
    LogicalResourceId: 'GrafanaDashboards',
    ResourceType: 'Custom::GrafanaDashboards',
    ResourceProperties: {
      ServiceToken: 'x',
      WorkspaceId: WORKSPACE,
      Endpoint: `${WORKSPACE}.grafana-workspace.eu-west-1.amazonaws.com`,
      Region: 'eu-west-1',
      DashboardsSha256: dashboardBundle().sha256,
    },
  };
  const script = `require('./index.js').onEvent(${JSON.stringify(event)}).then((r) => process.stdout.write('RESULT' + JSON.stringify(r)), (e) => { console.error(e); process.exit(1); })`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    cwd: directory,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      GRAFANA_CONTROL_PLANE_ENDPOINT: `http://127.0.0.1:${(controlPlane.address() as AddressInfo).port}`,
      GRAFANA_WORKSPACE_URL: `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`,
    },
  });
  const result = JSON.parse(stdout.slice(stdout.indexOf('RESULT') + 'RESULT'.length));
  expect(result.PhysicalResourceId).toBe(`${WORKSPACE}/grafana-dashboards`);
  expect(controlRequests).toEqual([
    `GET /workspaces/${WORKSPACE}/serviceaccounts`,
    `POST /workspaces/${WORKSPACE}/serviceaccounts`,
    `POST /workspaces/${WORKSPACE}/serviceaccounts/3/tokens`,
    `DELETE /workspaces/${WORKSPACE}/serviceaccounts/3/tokens/tok-1`,
  ]);
  expect(fake.dashboards.size).toBe(dashboardBundle().files.length);
  expect([...fake.dataSources.keys()]).toEqual(['stream-foundry-cloudwatch']);
  expect(fake.validTokens.size).toBe(0);
  expect(createdAccounts).toEqual([{ name: SERVICE_ACCOUNT_NAME, grafanaRole: 'ADMIN' }]);
}, 60_000);
