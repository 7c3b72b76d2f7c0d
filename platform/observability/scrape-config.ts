/**
 * The managed collector's scrape configuration: a Prometheus configuration limited to what the AWS managed collector
 * accepts (AMP user guide, "Scraper configuration": global, scrape_config, static_config, relabel_config,
 * metric_relabel_configs, kubernetes_sd_config; scrape interval >= 30 s; the API server is the only name it resolves;
 * authorization only as a Bearer token from the service account token file). Plain data here, rendered to YAML by
 * `toYaml`; the construct base64-encodes it (CloudFormation's ConfigurationBlob).
 */

/** The token file the collector presents to the API server (the only authorization it supports). */
const TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const API_SERVER = 'kubernetes.default.svc:443';

/** Job names: the `job` label of every series, which the dashboards' queries select on. */
export const SCRAPE_JOBS = { pods: 'kubernetes-pods', cadvisor: 'cadvisor', apiServer: 'kubernetes-apiservers' } as const;

/**
 * The series each cluster-level job keeps (metric_relabel_configs `keep`): what the dashboards chart and nothing else,
 * so the workspace ingests (and bills) a few dozen series per pod instead of every cAdvisor series of every container.
 * Names as cAdvisor and the API server expose them (cAdvisor docs/storage/prometheus.md; Kubernetes "Metrics For
 * Kubernetes System Components").
 */
export const KEPT_METRICS = {
  [SCRAPE_JOBS.cadvisor]: [
    'container_cpu_usage_seconds_total',
    'container_cpu_cfs_throttled_periods_total',
    'container_cpu_cfs_periods_total',
    'container_memory_working_set_bytes',
    'container_network_receive_bytes_total',
    'container_network_transmit_bytes_total',
  ],
  [SCRAPE_JOBS.apiServer]: ['apiserver_request_total', 'apiserver_request_duration_seconds_bucket'],
} as const;

/** Series Prometheus itself adds for every target it scrapes (Prometheus docs, "Jobs and instances"). */
export const TARGET_METRICS = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'] as const;

export interface ScrapeConfigOptions {
  readonly scrapeIntervalSeconds: number;
  /** The `cluster` external label on every series (a CDK token is fine: it is resolved into the blob). */
  readonly clusterName: string;
  /** Namespaces whose annotated pods are scraped (prometheus.io/scrape: "true", prometheus.io/port, prometheus.io/path). */
  readonly podNamespaces: string[];
}

type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml };

/** The scrape configuration as data. */
export function scrapeConfig(options: ScrapeConfigOptions): { [key: string]: Yaml } {
  if (options.scrapeIntervalSeconds < 30) throw new Error(`prometheus.scrapeIntervalSeconds must be at least 30 (the managed collector's minimum), got ${options.scrapeIntervalSeconds}`);
  const keep = (names: readonly string[]) => [{ source_labels: ['__name__'], action: 'keep', regex: `(${names.join('|')})` }];
  const viaApiServer = { scheme: 'https', authorization: { type: 'Bearer', credentials_file: TOKEN_FILE } };
  return {
    global: { scrape_interval: `${options.scrapeIntervalSeconds}s`, external_labels: { cluster: options.clusterName } },
    scrape_configs: [
      {
        // Pods that opt in with the prometheus.io annotations (the consumer's Deployment sets them: workload.ts).
        job_name: SCRAPE_JOBS.pods,
        kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: options.podNamespaces } }],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
          // One target per pod: the pod role yields one per container (port), init containers included.
          { source_labels: ['__meta_kubernetes_pod_container_init'], action: 'drop', regex: 'true' },
          { source_labels: ['__meta_kubernetes_pod_phase'], action: 'drop', regex: 'Pending|Succeeded|Failed|Completed' },
          { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], action: 'replace', regex: '(.+)', target_label: '__metrics_path__' },
          {
            source_labels: ['__meta_kubernetes_pod_ip', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
            action: 'replace',
            regex: '(.+);(\\d+)',
            replacement: '$1:$2',
            target_label: '__address__',
          },
          { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
          { source_labels: ['__meta_kubernetes_pod_name'], action: 'replace', target_label: 'pod' },
          { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], action: 'replace', target_label: 'app' },
        ],
      },
      {
        // Container CPU and memory of every pod, from each node's cAdvisor through the API server's node proxy (the
        // AMP user guide's sample configuration): no node port has to be open to the collector.
        job_name: SCRAPE_JOBS.cadvisor,
        ...viaApiServer,
        kubernetes_sd_configs: [{ role: 'node' }],
        relabel_configs: [
          { replacement: API_SERVER, target_label: '__address__' },
          { source_labels: ['__meta_kubernetes_node_name'], regex: '(.+)', target_label: '__metrics_path__', replacement: '/api/v1/nodes/$1/proxy/metrics/cadvisor' },
          { source_labels: ['__meta_kubernetes_node_name'], action: 'replace', target_label: 'node' },
        ],
        metric_relabel_configs: keep(KEPT_METRICS[SCRAPE_JOBS.cadvisor]),
      },
      {
        job_name: SCRAPE_JOBS.apiServer,
        ...viaApiServer,
        kubernetes_sd_configs: [{ role: 'endpoints' }],
        relabel_configs: [
          {
            source_labels: ['__meta_kubernetes_namespace', '__meta_kubernetes_service_name', '__meta_kubernetes_endpoint_port_name'],
            action: 'keep',
            regex: 'default;kubernetes;https',
          },
        ],
        metric_relabel_configs: keep(KEPT_METRICS[SCRAPE_JOBS.apiServer]),
      },
    ],
  };
}

/** Block-style YAML of plain data; every string is double-quoted (JSON escapes are valid YAML escapes). */
export function toYaml(value: Yaml, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value.map((item) => `\n${indent}- ${toYaml(item, indent + '  ').replace(/^\n\s*/, '')}`).join('');
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return entries
      .map(([key, v]) => {
        const rendered = toYaml(v, indent + '  ');
        return `\n${indent}${key}:${rendered.startsWith('\n') ? '' : ' '}${rendered}`;
      })
      .join('');
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The configuration file: YAML text, ending in a newline. */
export function scrapeConfigYaml(options: ScrapeConfigOptions): string {
  return toYaml(scrapeConfig(options)).replace(/^\n/, '') + '\n';
}
