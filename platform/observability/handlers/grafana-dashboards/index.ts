import * as path from 'node:path';
import { GrafanaClient } from '@aws-sdk/client-grafana';
import { DASHBOARDS_FOLDER } from './contract';
import { createGrafanaDashboards } from './provision';

const grafana = new GrafanaClient({ endpoint: process.env.GRAFANA_CONTROL_PLANE_ENDPOINT || undefined });

export const { onEvent } = createGrafanaDashboards({ grafana, dashboardsDir: path.join(__dirname, DASHBOARDS_FOLDER) });
