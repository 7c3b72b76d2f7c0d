import { Annotations, CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PrometheusSettings } from './config';
import { PrometheusScraping } from './prometheus';

export { PrometheusScraping } from './prometheus';
export type { PrometheusScrapingProps } from './prometheus';
export { OBSERVABILITY_DEFAULTS, prometheusSchema, grafanaSchema } from './config';
export type { PrometheusSettings, GrafanaSettings } from './config';
export { addManagedGrafana, dashboardBundle, GRAFANA_DASHBOARDS_DIR, ManagedGrafana } from './grafana';
export type { ManagedGrafanaProps } from './grafana';

export interface ClusterPrometheusProps {
  readonly settings: PrometheusSettings;
  readonly cluster: eks.ICluster;
  /** The VPC of a cluster the stack created (its private subnets take the collector's interfaces); absent for an existing cluster. */
  readonly createdClusterVpc?: ec2.IVpc;
  readonly podNamespaces: string[];
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Pipeline 1's Prometheus: a workspace and a managed scraper of its EKS cluster, with stack outputs naming them.
 * A created cluster is scraped from its private subnets with the cluster security group (the group EKS gives the
 * control plane and Auto Mode gives every node, which admits its own members: pods and API server alike). An existing
 * cluster needs `prometheus.subnetIds` (and usually its cluster security group in `prometheus.securityGroupIds`);
 * without them it gets no scraper, with a synth warning saying so.
 */
export function addClusterPrometheus(scope: Construct, id: string, props: ClusterPrometheusProps): PrometheusScraping | undefined {
  const { settings, cluster } = props;
  if (!settings.enabled) return undefined;
  let subnetIds: string[];
  let securityGroupIds: string[];
  if (props.createdClusterVpc) {
    subnetIds = props.createdClusterVpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    securityGroupIds = [cluster.clusterSecurityGroupId];
  } else if (settings.subnetIds.length > 0) {
    if (settings.subnetIds.length < 2) throw new Error(`prometheus.subnetIds: expected two or more subnets of the cluster in two zones, got ${settings.subnetIds.length}`);
    subnetIds = settings.subnetIds;
    securityGroupIds = settings.securityGroupIds;
  } else {
    Annotations.of(scope).addWarningV2(
      'stream-foundry:prometheus-existing-cluster',
      'prometheus: an existing cluster gets no managed scraper without prometheus.subnetIds (two or more of its subnets) and prometheus.securityGroupIds (its cluster security group)',
    );
    return undefined;
  }
  const prometheus = new PrometheusScraping(scope, id, {
    clusterArn: cluster.clusterArn,
    clusterName: cluster.clusterName,
    subnetIds,
    securityGroupIds,
    podNamespaces: props.podNamespaces,
    scrapeIntervalSeconds: settings.scrapeIntervalSeconds,
    retentionDays: settings.retentionDays,
    removalPolicy: props.removalPolicy,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
  });
  new CfnOutput(scope, `${id}WorkspaceArn`, { value: prometheus.workspace.attrArn, description: 'Amazon Managed Service for Prometheus workspace (Grafana data source: SigV4, service aps)' });
  new CfnOutput(scope, `${id}QueryEndpoint`, { value: prometheus.queryEndpoint, description: 'Prometheus query endpoint of the workspace (the Grafana data source URL)' });
  return prometheus;
}
