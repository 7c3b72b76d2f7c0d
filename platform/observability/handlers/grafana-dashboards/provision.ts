import * as fs from 'node:fs';
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
import { z } from 'zod';
import { customResource } from '../../../handlers/custom-resource';
import { DATASOURCES } from '../../dashboards/grafana';
import { DATA_SOURCES, SERVICE_ACCOUNT_NAME, TOKEN_SECONDS_TO_LIVE } from './contract';

/**
 * Custom::GrafanaDashboards: the data sources and dashboards of an Amazon Managed Grafana workspace, which
 * CloudFormation cannot create (they live in Grafana, behind its HTTP API).
 *
 * Create/Update: find or create the workspace service account (Admin), mint a token that lives TOKEN_SECONDS_TO_LIVE,
 * create or update the CloudWatch and Prometheus data sources (fixed uids, the workspace's IAM role), import every
 * bundled dashboard with `overwrite` and its data-source variables set to those uids, then delete the token whatever
 * happened. A Grafana API error fails the deploy with the method, path and Grafana's own message.
 * Delete: the service account goes (with any token left); the dashboards and data sources stay: their uids are fixed,
 * so a replacement resource on the same workspace already owns them, and a deleted stack deletes the workspace.
 */

export interface GrafanaDashboardsDeps {
  readonly grafana: GrafanaClient;
  /** Directory of the dashboard JSON files (beside the bundle in Lambda). */
  readonly dashboardsDir: string;
  /** The Grafana HTTP API's base URL for a workspace endpoint host. Default `https://<endpoint>`. */
  readonly baseUrl?: (endpoint: string) => string;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}

const schema = z.object({
  WorkspaceId: z.string().regex(/^g-[0-9a-f]{10}$/, { error: 'expected a workspace id (g- and 10 hex digits)' }),
  Endpoint: z.string().min(1),
  Region: z.string().min(1),
  PrometheusQueryEndpoint: z.string().regex(/^https:\/\/\S+\/api\/v1\/?$/, { error: 'expected the AMP query endpoint (https://.../api/v1/)' }).optional(),
  DashboardsSha256: z.string().regex(/^[0-9a-f]{64}$/),
});
type Properties = z.infer<typeof schema>;

/** Grafana's data source model (POST /api/datasources, PUT /api/datasources/uid/:uid). */
export interface DataSourceModel {
  uid: string;
  name: string;
  type: string;
  access: 'proxy';
  url?: string;
  isDefault: boolean;
  jsonData: Record<string, unknown>;
}

/**
 * The data sources for a workspace: both authenticate as the workspace's IAM role ("Workspace IAM Role" in the editor,
 * stored as `ec2_iam_role`); the Prometheus one signs with SigV4 for `aps`, on the workspace URL without `api/v1/`.
 */
export function dataSources(p: Pick<Properties, 'Region' | 'PrometheusQueryEndpoint'>): DataSourceModel[] {
  const cloudwatch: DataSourceModel = {
    ...DATA_SOURCES.cloudwatch,
    type: DATASOURCES.cloudwatch.pluginId,
    access: 'proxy',
    isDefault: true,
    jsonData: { authType: 'ec2_iam_role', defaultRegion: p.Region },
  };
  if (!p.PrometheusQueryEndpoint) return [cloudwatch];
  const prometheus: DataSourceModel = {
    ...DATA_SOURCES.prometheus,
    type: DATASOURCES.prometheus.pluginId,
    access: 'proxy',
    url: p.PrometheusQueryEndpoint.replace(/api\/v1\/?$/, ''),
    isDefault: false,
    jsonData: { httpMethod: 'POST', sigV4Auth: true, sigV4AuthType: 'ec2_iam_role', sigV4Region: p.Region },
  };
  return [cloudwatch, prometheus];
}

/** A dashboard as imported: no numeric id (Grafana matches on uid), each data-source variable we provide set to its uid. */
export function importable(dashboard: Record<string, unknown>, sources: DataSourceModel[]): Record<string, unknown> {
  const byPlugin = new Map(sources.map((s) => [s.type, s]));
  const templating = dashboard.templating as { list?: Array<Record<string, unknown>> } | undefined;
  const list = (templating?.list ?? []).map((variable) => {
    const source = variable.type === 'datasource' ? byPlugin.get(String(variable.query)) : undefined;
    return source ? { ...variable, current: { selected: true, text: source.name, value: source.uid } } : variable;
  });
  return { ...dashboard, id: null, templating: { ...templating, list } };
}

/** Every `*.json` of the dashboards directory, by file name. */
export function readDashboards(dir: string): Array<{ file: string; dashboard: Record<string, unknown> }> {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no dashboards in ${dir}`);
  return files.map((file) => ({ file, dashboard: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) }));
}

/** A Grafana HTTP API error: the request and what Grafana answered. */
export class GrafanaApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly grafanaMessage: string,
  ) {
    super(`Grafana API ${method} ${path} answered ${status}: ${grafanaMessage}`);
    this.name = 'GrafanaApiError';
  }
}

/** The few Grafana HTTP API calls the handler makes, authenticated with a service-account token. */
export function grafanaApi(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch) {
  async function call(method: string, apiPath: string, body?: unknown, okStatuses: number[] = []): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetchImpl(`${baseUrl.replace(/\/$/, '')}${apiPath}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text.slice(0, 500) };
    }
    if (!response.ok && !okStatuses.includes(response.status)) {
      throw new GrafanaApiError(method, apiPath, response.status, String(parsed.message ?? (text.slice(0, 500) || response.statusText)));
    }
    return { status: response.status, body: parsed };
  }

  return {
    /** Creates the data source, or updates the one with its uid. */
    async upsertDataSource(source: DataSourceModel): Promise<'created' | 'updated'> {
      const uidPath = `/api/datasources/uid/${encodeURIComponent(source.uid)}`;
      const existing = await call('GET', uidPath, undefined, [404]);
      if (existing.status === 404) {
        await call('POST', '/api/datasources', source);
        return 'created';
      }
      await call('PUT', uidPath, source);
      return 'updated';
    },
    /** Imports (creates or overwrites) a dashboard. */
    async importDashboard(dashboard: Record<string, unknown>, message: string): Promise<{ uid: string; version: number }> {
      const { body } = await call('POST', '/api/dashboards/db', { dashboard, overwrite: true, message });
      return { uid: String(body.uid), version: Number(body.version) };
    },
  };
}

export function createGrafanaDashboards(deps: GrafanaDashboardsDeps) {
  const baseUrl = deps.baseUrl ?? ((endpoint: string) => `https://${endpoint}`);
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((message: string, details?: Record<string, unknown>) => console.log(JSON.stringify({ message, ...details })));

  async function findServiceAccount(workspaceId: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await deps.grafana.send(new ListWorkspaceServiceAccountsCommand({ workspaceId, nextToken }));
      const found = page.serviceAccounts?.find((a) => a.name === SERVICE_ACCOUNT_NAME);
      if (found?.id) return found.id;
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }

  async function serviceAccount(workspaceId: string): Promise<string> {
    const existing = await findServiceAccount(workspaceId);
    if (existing) return existing;
    const created = await deps.grafana.send(new CreateWorkspaceServiceAccountCommand({ workspaceId, name: SERVICE_ACCOUNT_NAME, grafanaRole: 'ADMIN' }));
    log('created the workspace service account', { workspaceId, serviceAccountId: created.id });
    return created.id!;
  }

  async function provision(p: Properties): Promise<{ PhysicalResourceId: string; Data: Record<string, string> }> {
    const dashboards = readDashboards(deps.dashboardsDir);
    const sources = dataSources(p);
    const serviceAccountId = await serviceAccount(p.WorkspaceId);
    const minted = await deps.grafana.send(
      new CreateWorkspaceServiceAccountTokenCommand({ workspaceId: p.WorkspaceId, serviceAccountId, name: `deploy-${now()}`, secondsToLive: TOKEN_SECONDS_TO_LIVE }),
    );
    const token = minted.serviceAccountToken!;
    try {
      const api = grafanaApi(baseUrl(p.Endpoint), token.key!, deps.fetch);
      for (const source of sources) log(`data source ${await api.upsertDataSource(source)}`, { uid: source.uid });
      for (const { file, dashboard } of dashboards) {
        const imported = await api.importDashboard(importable(dashboard, sources), `Stream Foundry deploy (dashboards ${p.DashboardsSha256.slice(0, 12)})`);
        log('dashboard imported', { file, ...imported });
      }
    } finally {
      await deps.grafana.send(new DeleteWorkspaceServiceAccountTokenCommand({ workspaceId: p.WorkspaceId, serviceAccountId, tokenId: token.id! }));
    }
    return {
      PhysicalResourceId: `${p.WorkspaceId}/grafana-dashboards`,
      Data: { ServiceAccountId: serviceAccountId, Dashboards: dashboards.map((d) => String(d.dashboard.uid)).join(',') },
    };
  }

  return customResource({
    schema,
    onCreate: (p) => provision(p),
    async onDelete(p, event) {
      try {
        const serviceAccountId = await findServiceAccount(p.WorkspaceId);
        if (serviceAccountId) await deps.grafana.send(new DeleteWorkspaceServiceAccountCommand({ workspaceId: p.WorkspaceId, serviceAccountId }));
      } catch (error) {
        // The workspace is already gone (a failed create's rollback, or deleted by hand): nothing left to remove.
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      return { PhysicalResourceId: event.PhysicalResourceId };
    },
  });
}
