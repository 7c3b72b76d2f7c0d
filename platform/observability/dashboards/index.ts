import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { renderDashboard } from './grafana';
import { dashboardSpecs, Template } from './pipelines';
import { buildAwsApp } from '../../aws-app';
import { parseConfig, readCdkJsonContext, StreamFoundryConfig } from '../../config';
import { PROJECT_ROOT } from '../../paths';

export { renderDashboard, DATASOURCES } from './grafana';
export type { DashboardSpec, Query, CloudWatchQuery, PrometheusQuery, CloudMonitoringQuery, VariableSpec } from './grafana';
export { dashboardSpecs, DASHBOARD_PIPELINES, DOCUMENTED_AWS_METRICS, DOCUMENTED_GCP_METRICS, pubsubToBigQueryNames } from './pipelines';
export type { Template } from './pipelines';

/** Where `npm run dashboards` writes one JSON file per pipeline: docs/grafana/<pipeline>.json. */
export const DASHBOARDS_DIR = path.join(PROJECT_ROOT, 'docs', 'grafana');

/**
 * The AWS app as `cdk synth` builds it from cdk.json (context overrides on top), with asset bundling skipped: the
 * dashboards read names from the synthesized templates, so a panel can only name a resource the stack creates.
 */
export function synthesizeTemplates(context: Record<string, unknown> = {}): { config: StreamFoundryConfig; templates: Record<string, Template> } {
  const app = new App({ context: { ...readCdkJsonContext(), ...context, 'aws:cdk:bundling-stacks': [] } });
  const config = parseConfig(app.node.getAllContext());
  buildAwsApp(app, config);
  const assembly = app.synth();
  const templates = Object.fromEntries(
    assembly.stacks.map((stack) => [stack.stackName, JSON.parse(fs.readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8')) as Template]),
  );
  return { config, templates };
}

/** File name -> content (JSON text with a final newline) of every dashboard. */
export function dashboardFiles(config: StreamFoundryConfig, templates: Record<string, Template>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(dashboardSpecs(config, templates)).map(([name, spec]) => [`${name}.json`, JSON.stringify(renderDashboard(spec), null, 2) + '\n']),
  );
}
