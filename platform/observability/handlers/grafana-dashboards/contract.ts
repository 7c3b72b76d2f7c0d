/**
 * What the Managed Grafana construct (platform/observability/grafana.ts) and its custom-resource handler share: the
 * data sources' fixed uids (the imported dashboards' DS_* variables are set to them), where the dashboards travel
 * with the handler, and the service account the handler acts as.
 */

/** The folder beside the handler's bundle that holds docs/grafana/*.json (copied there at bundling). */
export const DASHBOARDS_FOLDER = 'dashboards';

/** Fixed uids and names of the data sources the handler creates, one per dashboard data-source variable it fills. */
export const DATA_SOURCES = {
  cloudwatch: { uid: 'stream-foundry-cloudwatch', name: 'Stream Foundry CloudWatch' },
  prometheus: { uid: 'stream-foundry-prometheus', name: 'Stream Foundry Prometheus (AMP)' },
} as const;

/** The workspace service account the handler mints its tokens for (Grafana Admin: data sources need it). */
export const SERVICE_ACCOUNT_NAME = 'stream-foundry-provisioner';

/** A token lives long enough for one deploy's calls and is deleted when they are done. */
export const TOKEN_SECONDS_TO_LIVE = 900;

/** Custom::GrafanaDashboards properties (CloudFormation passes strings). */
export interface GrafanaDashboardsProperties {
  /** The workspace id, g- and 10 hex digits. */
  readonly WorkspaceId: string;
  /** The workspace's endpoint host name (AWS::Grafana::Workspace Endpoint, no scheme). */
  readonly Endpoint: string;
  /** The region of the CloudWatch data source. */
  readonly Region: string;
  /** The AMP workspace's query endpoint (`.../workspaces/<id>/api/v1/`); absent: no Prometheus data source. */
  readonly PrometheusQueryEndpoint?: string;
  /** SHA-256 of the bundled dashboards: a changed dashboard changes it, so the resource updates and re-imports. */
  readonly DashboardsSha256: string;
}
