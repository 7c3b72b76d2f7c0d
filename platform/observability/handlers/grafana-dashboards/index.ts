import * as path from 'node:path';
import { GrafanaClient } from '@aws-sdk/client-grafana';
import { DASHBOARDS_FOLDER } from './contract';
import { createGrafanaDashboards } from './provision';

// Endpoints overridable for local runs (a local control plane and Grafana); unset in Lambda: the region's, the workspace's.
const grafana = new GrafanaClient({ endpoint: process.env.GRAFANA_CONTROL_PLANE_ENDPOINT || undefined });
const workspaceUrl = process.env.GRAFANA_WORKSPACE_URL;

export const { onEvent } = createGrafanaDashboards({
  grafana,
  dashboardsDir: path.join(__dirname, DASHBOARDS_FOLDER),
  baseUrl: workspaceUrl ? () => workspaceUrl : undefined,
});
