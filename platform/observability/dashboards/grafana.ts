/**
 * Grafana dashboards as typed data, rendered to the dashboard JSON model (schemaVersion 39) that Grafana imports
 * (Dashboards > New > Import, the HTTP API's POST /api/dashboards/db, or file provisioning). Plain typed JSON: no
 * Grafana SDK is a dependency of this project, and the model is small.
 *
 * Data sources are template variables of type `datasource` (DS_CLOUDWATCH, DS_PROMETHEUS, DS_GOOGLE_CLOUD): every
 * panel refers to `${DS_...}`, so the same file works in any Grafana, each variable defaulting to the first data source
 * of its type and switchable in the dashboard.
 */

export const DATASOURCES = {
  cloudwatch: { variable: 'DS_CLOUDWATCH', pluginId: 'cloudwatch', label: 'CloudWatch' },
  prometheus: { variable: 'DS_PROMETHEUS', pluginId: 'prometheus', label: 'Prometheus (Amazon Managed Service for Prometheus)' },
  googleCloud: { variable: 'DS_GOOGLE_CLOUD', pluginId: 'stackdriver', label: 'Google Cloud Monitoring' },
} as const;
export type DataSourceKind = keyof typeof DATASOURCES;

const ref = (kind: DataSourceKind) => ({ type: DATASOURCES[kind].pluginId, uid: `\${${DATASOURCES[kind].variable}}` });

/** A CloudWatch metric query. A dimension value is a literal, a `$variable`, or `*` (any value: Grafana searches). */
export interface CloudWatchQuery {
  readonly kind: 'cloudwatch';
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly statistic: 'Average' | 'Sum' | 'Maximum' | 'Minimum' | 'SampleCount' | 'p95' | 'p99';
  /** Legend; Grafana's CloudWatch dynamic labels (`${PROP('Dim.QueueName')}`) allowed. */
  readonly label?: string;
}

/** A PromQL query. Every metric name in `expr` is followed by its `{label matchers}` (the tests read names that way). */
export interface PrometheusQuery {
  readonly kind: 'prometheus';
  readonly expr: string;
  readonly legend: string;
}

/** A Google Cloud Monitoring time-series query (filter-based). */
export interface CloudMonitoringQuery {
  readonly kind: 'cloud-monitoring';
  readonly metricType: string;
  readonly resourceType: string;
  /** Further filters, e.g. `resource.label.job_name` -> `$job`; a value starting with `=~` is a regular expression. */
  readonly filters: Record<string, string>;
  readonly aligner: 'ALIGN_MAX' | 'ALIGN_MEAN' | 'ALIGN_RATE' | 'ALIGN_SUM' | 'ALIGN_DELTA';
  readonly reducer: 'REDUCE_NONE' | 'REDUCE_SUM' | 'REDUCE_MAX';
}

export type Query = CloudWatchQuery | PrometheusQuery | CloudMonitoringQuery;

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  /** Grafana unit id: short, s, ms, percent, percentunit, bytes, decbytes, ops, cps... */
  readonly unit: string;
  readonly queries: Query[];
  /** @default 'timeseries' */
  readonly type?: 'timeseries' | 'stat';
}

export interface RowSpec {
  readonly title: string;
  readonly panels: PanelSpec[];
}

/** A CloudWatch dimension-values variable: the values of `dimensionKey` of `metricName` matching `regex`. */
export interface DimensionVariable {
  readonly kind: 'cloudwatch-dimension';
  readonly name: string;
  readonly label: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensionKey: string;
  /** A literal regular expression (Grafana does not expand variables in it), anchored to the stack's name prefix. */
  readonly regex: string;
}

/** A text box with a default, for names the user may change (another environment's stack, a Google Cloud project). */
export interface TextVariable {
  readonly kind: 'text';
  readonly name: string;
  readonly label: string;
  readonly value: string;
  readonly description: string;
}

export type VariableSpec = DimensionVariable | TextVariable;

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: string[];
  /** The data sources the dashboard queries (their variables come first). */
  readonly datasources: DataSourceKind[];
  readonly variables: VariableSpec[];
  readonly rows: RowSpec[];
  /** Links shown at the top: the pipeline's README and runbook. */
  readonly links: { title: string; url: string }[];
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function target(query: Query, refId: string): Json {
  switch (query.kind) {
    case 'cloudwatch': {
      const wildcard = Object.values(query.dimensions).includes('*');
      return {
        refId,
        datasource: ref('cloudwatch'),
        queryMode: 'Metrics',
        metricQueryType: 0,
        metricEditorMode: 0,
        region: '$region',
        namespace: query.namespace,
        metricName: query.metricName,
        dimensions: query.dimensions,
        statistic: query.statistic,
        period: '',
        // A `*` dimension matches any value: Grafana then queries through a SEARCH expression, which needs matchExact off.
        matchExact: !wildcard,
        label: query.label ?? '',
        id: '',
        expression: '',
      };
    }
    case 'prometheus':
      return { refId, datasource: ref('prometheus'), expr: query.expr, legendFormat: query.legend, range: true, editorMode: 'code' };
    case 'cloud-monitoring': {
      const filters: string[] = ['metric.type', '=', query.metricType, 'AND', 'resource.type', '=', query.resourceType];
      for (const [key, value] of Object.entries(query.filters)) {
        filters.push('AND', key, value.startsWith('=~') ? '=~' : '=', value.replace(/^=~/, ''));
      }
      return {
        refId,
        datasource: ref('googleCloud'),
        queryType: 'timeSeriesList',
        timeSeriesList: {
          projectName: '$gcp_project',
          filters,
          perSeriesAligner: query.aligner,
          crossSeriesReducer: query.reducer,
          alignmentPeriod: 'cloud-monitoring-auto',
          groupBys: [],
          view: 'FULL',
        },
      };
    }
  }
}

function variable(spec: VariableSpec): Json {
  if (spec.kind === 'text') {
    return { type: 'textbox', name: spec.name, label: spec.label, description: spec.description, query: spec.value, current: { text: spec.value, value: spec.value }, hide: 0 };
  }
  return {
    type: 'query',
    name: spec.name,
    label: spec.label,
    datasource: ref('cloudwatch'),
    query: {
      refId: spec.name,
      queryType: 'dimensionValues',
      region: '$region',
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensionKey: spec.dimensionKey,
      dimensionFilters: {},
    },
    definition: `dimension_values($region, ${spec.namespace}, ${spec.metricName}, ${spec.dimensionKey})`,
    regex: spec.regex,
    multi: true,
    includeAll: true,
    current: { text: ['All'], value: ['$__all'] },
    refresh: 2,
    sort: 1,
    hide: 0,
  };
}

const WIDTH = 8;
const HEIGHT = 8;

/** The dashboard JSON: a collapsed-free row per RowSpec, panels three to a line. */
export function renderDashboard(spec: DashboardSpec): { [key: string]: Json } {
  const panels: Json[] = [];
  let y = 0;
  let id = 1;
  for (const row of spec.rows) {
    panels.push({ type: 'row', id: id++, title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    row.panels.forEach((panel, i) => {
      panels.push({
        type: panel.type ?? 'timeseries',
        id: id++,
        title: panel.title,
        description: panel.description,
        gridPos: { h: HEIGHT, w: WIDTH, x: (i % 3) * WIDTH, y: y + Math.floor(i / 3) * HEIGHT },
        datasource: { type: 'datasource', uid: '-- Mixed --' },
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'none' } },
        targets: panel.queries.map((q, n) => target(q, String.fromCharCode(65 + n))),
      });
    });
    y += Math.ceil(row.panels.length / 3) * HEIGHT;
  }
  const datasourceVariables: Json[] = spec.datasources.map((kind) => ({
    type: 'datasource',
    name: DATASOURCES[kind].variable,
    label: DATASOURCES[kind].label,
    query: DATASOURCES[kind].pluginId,
    current: {},
    hide: 0,
    refresh: 1,
  }));
  const region: Json[] = spec.datasources.includes('cloudwatch')
    ? [{ type: 'textbox', name: 'region', label: 'AWS region', description: "'default' is the CloudWatch data source's own region", query: 'default', current: { text: 'default', value: 'default' }, hide: 0 }]
    : [];
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'utc',
    links: spec.links.map((l) => ({ type: 'link', title: l.title, url: l.url, targetBlank: true, icon: 'doc' })),
    templating: { list: [...datasourceVariables, ...region, ...spec.variables.map(variable)] },
    annotations: { list: [] },
    panels,
  };
}
